"""What made a dataset's results (workflow/rules/provenance.smk)."""

from __future__ import annotations

from faceage.steps import step


@step
def run_settings(*, output, settings):
    """results/<dataset>/settings.yaml: the dataset's fully resolved configuration (every
    layer applied, the schema's defaults filled in), the faceage version and the git commit
    of the workflow that ran it (faceage.workflow.settings.provenance)."""
    import yaml

    from faceage import contracts as c

    with c.atomic_path(output.settings) as tmp:
        tmp.write_text(
            "# The settings this dataset's results were made with (faceage.workflow.settings:\n"
            "# schema defaults, preset, your top level, the dataset's own keys, --config).\n"
            + yaml.safe_dump(settings.plain(), sort_keys=False, default_flow_style=False)
        )
