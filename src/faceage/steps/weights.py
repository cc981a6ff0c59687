"""Model weights on request (workflow/rules/weights.smk): fetch a model's published
weights into ``weights_dir`` (needs internet); runs in the model's interpreter."""

from __future__ import annotations

from faceage.steps import step


@step
def download_model_weights(*, output, settings):
    """Fetch, check and record (``output.record``) the weights of ``settings.model``."""
    from faceage.models.download import download_model

    download_model(
        settings.model, settings.model_settings.plain(), settings.weights_dir, output.record
    )


@step
def check_weights(*, output, settings):
    """Check that the weights of ``settings.model`` are in place (once per model, whatever
    datasets use it; a missing file stops the run here, naming the file, its folder and where
    to get it) and record what they are (``output.record``: files, sizes, SHA-256)."""
    import json
    from pathlib import Path

    from faceage import contracts as c
    from faceage.models import get_adapter

    adapter = get_adapter(settings.model)
    model_settings = settings.model_settings.plain()
    weights_dir = Path(settings.weights_dir)
    adapter.check_weights(model_settings, weights_dir)
    record = adapter.provenance(model_settings, weights_dir)
    with c.atomic_path(output.record) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
