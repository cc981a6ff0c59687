# Age and gender (issue 5): an estimator predicts age and gender for every
# image of the manifest (after the decisions in the overrides file), each in
# its own environment; label checks write a review sheet whose verdicts go
# back through the overrides file; the evaluation tables and plots go to the
# report. Runs when attributes.enabled is true (see config/README.md).
wildcard_constraints:
    estimator="|".join(ESTIMATORS),


rule attributes_predict:
    input:
        manifest=f"{RESULTS}/manifest.tsv",
        overrides=overrides_input,
    output:
        predictions=f"{RESULTS}/attributes/{{estimator}}/predictions.tsv",
        timing=f"{RESULTS}/attributes/{{estimator}}/timing.json",
    log:
        log_path("attributes_predict", "{estimator}"),
    benchmark:
        benchmark_path("attributes_predict", "{estimator}")
    retries: RETRIES
    conda:
        estimator_conda_env
    threads: 1
    resources:
        mem_mb=attributes_mem_mb,
        runtime=attributes_runtime,
    params:
        python=estimator_python,
        settings=estimator_step_settings,
        overrides=lambda w, input: [f"--input=overrides={f}" for f in input.overrides],
    shell:
        "OMP_NUM_THREADS={threads} {params.python:q} -m faceage step attributes_predict"
        " --label 'attributes {wildcards.estimator}'"
        " --input manifest={input.manifest:q} {params.overrides:q}"
        " --output predictions={output.predictions:q} --output timing={output.timing:q}"
        " --settings {params.settings:q} --log {log:q}"


rule attributes_flags:
    input:
        predictions=f"{RESULTS}/attributes/{{estimator}}/predictions.tsv",
        manifest=f"{RESULTS}/manifest.tsv",
        overrides=overrides_input,
    output:
        flags=f"{RESULTS}/attributes/{{estimator}}/flags.tsv",
        review=report(
            f"{RESULTS}/attributes/{{estimator}}/review.tsv",
            caption="../report/attributes_review.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Label checks",
            labels={"estimator": "{estimator}", "table": "review sheet"},
        ),
    log:
        log_path("attributes_flags", "{estimator}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(lambda c: c["attributes"]["flags"]),
    script:
        "../scripts/step.py"


rule attributes_evaluate:
    input:
        predictions=f"{RESULTS}/attributes/{{estimator}}/predictions.tsv",
        timing=f"{RESULTS}/attributes/{{estimator}}/timing.json",
    output:
        age=report(
            f"{RESULTS}/attributes/{{estimator}}/age_table.tsv",
            caption="../report/attributes_age_table.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Tables",
            labels={"estimator": "{estimator}", "table": "age error by age group"},
        ),
        gender=report(
            f"{RESULTS}/attributes/{{estimator}}/gender_table.tsv",
            caption="../report/attributes_gender_table.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Tables",
            labels={
                "estimator": "{estimator}",
                "table": "gender accuracy by age group",
            },
        ),
        confusion=report(
            f"{RESULTS}/attributes/{{estimator}}/gender_confusion.tsv",
            caption="../report/attributes_gender_confusion.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Tables",
            labels={"estimator": "{estimator}", "table": "gender confusion matrix"},
        ),
        summary=f"{RESULTS}/attributes/{{estimator}}/summary.tsv",
    log:
        log_path("attributes_evaluate", "{estimator}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=per_dataset(
            lambda c: pick(c["attributes"], "balance", "age_bins", "cs_threshold")
        ),
    script:
        "../scripts/step.py"


rule attributes_plots:
    input:
        predictions=f"{RESULTS}/attributes/{{estimator}}/predictions.tsv",
    output:
        joint=report(
            f"{RESULTS}/plots/attributes_{{estimator}}_joint.png",
            caption="../report/attributes_joint.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Plots",
            labels={"estimator": "{estimator}", "plot": "predicted vs labelled age"},
        ),
        distributions=report(
            f"{RESULTS}/plots/attributes_{{estimator}}_age_distributions.png",
            caption="../report/attributes_distributions.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Plots",
            labels={"estimator": "{estimator}", "plot": "age distributions"},
        ),
    log:
        log_path("attributes_plots", "{estimator}"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=lambda w: {"dataset": w.dataset},
    script:
        "../scripts/step.py"


rule attributes_speed:
    input:
        summaries=lambda w: expand(
            f"{results(w)}/attributes/{{estimator}}/summary.tsv",
            estimator=estimator_names(dconf(w)),
        ),
    output:
        table=report(
            f"{RESULTS}/attributes/summary.tsv",
            caption="../report/attributes_summary.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Tables",
            labels={"estimator": "all", "table": "summary per estimator"},
        ),
        plot=report(
            f"{RESULTS}/plots/attributes_speed_vs_mae.png",
            caption="../report/attributes_speed.rst",
            category="7. Age and gender",
            subcategory="{dataset}: Plots",
            labels={"estimator": "all", "plot": "speed vs age error"},
        ),
    log:
        log_path("attributes_speed"),
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=lambda w: {"dataset": w.dataset},
    script:
        "../scripts/step.py"
