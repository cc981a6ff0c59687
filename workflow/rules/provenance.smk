# What made each dataset's results: its resolved configuration, the faceage version and the
# git commit, beside the results and in the report (a table traced to its settings).


rule run_settings:
    output:
        settings=report(
            f"{RESULTS}/settings.yaml",
            caption="../report/settings.rst",
            category="1. Dataset",
            subcategory="{dataset}",
        ),
    log:
        log_path("run_settings"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(lambda c: _settings.provenance(c, GIT_COMMIT)),
    script:
        "../scripts/step.py"
