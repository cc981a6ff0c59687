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
