# The study (datasets: in the configuration): every dataset's headline figures side by side
# under results/study/, copied from each dataset's own tables (docs/study.md). study_summary
# gathers them; the tables and the figures are drawn from its TSVs alone.


rule study_summary:
    input:
        unpack(study_inputs),
    output:
        summary=report(
            f"{STUDY_DIR}/summary.tsv",
            caption="../report/study_summary.rst",
            category="0. Study",
            subcategory="tables",
            labels={"table": "summary (dataset x model x gap)"},
        ),
        conventions=f"{STUDY_DIR}/conventions.tsv",
        differences=f"{STUDY_DIR}/differences.tsv",
        benchmarks=report(
            f"{STUDY_DIR}/benchmarks.tsv",
            caption="../report/study_benchmarks.rst",
            category="0. Study",
            subcategory="tables",
            labels={"table": "benchmarks"},
        ),
        attributes=report(
            f"{STUDY_DIR}/attributes.tsv",
            caption="../report/study_attributes.rst",
            category="0. Study",
            subcategory="tables",
            labels={"table": "age and gender estimators"},
        ),
        provenance=report(
            f"{STUDY_DIR}/provenance.tsv",
            caption="../report/study_provenance.rst",
            category="0. Study",
            subcategory="tables",
            labels={"table": "faceage version and commit per dataset"},
        ),
    log:
        "logs/study_summary/study.log",
    localrule: True
    conda:
        "../../envs/core.yaml"
    params:
        settings=study_settings(),
    script:
        "../scripts/step.py"


rule study_tables:
    input:
        summary=f"{STUDY_DIR}/summary.tsv",
        conventions=f"{STUDY_DIR}/conventions.tsv",
        benchmarks=f"{STUDY_DIR}/benchmarks.tsv",
        attributes=f"{STUDY_DIR}/attributes.tsv",
        provenance=f"{STUDY_DIR}/provenance.tsv",
    output:
        markdown=report(
            f"{STUDY_DIR}/tables.md",
            caption="../report/study_tables.rst",
            category="0. Study",
            subcategory="tables",
            labels={"table": "paper tables (Markdown)"},
        ),
        latex=f"{STUDY_DIR}/tables.tex",
    log:
        "logs/study_tables/study.log",
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"


rule study_plots:
    input:
        summary=f"{STUDY_DIR}/summary.tsv",
        differences=f"{STUDY_DIR}/differences.tsv",
    output:
        by_gap=report(
            f"{STUDY_DIR}/by_gap.png",
            caption="../report/study_by_gap.rst",
            category="0. Study",
            subcategory="figures",
            labels={"figure": "AUC and FNMR against age gap, per dataset"},
        ),
        forest=report(
            f"{STUDY_DIR}/forest.png",
            caption="../report/study_forest.rst",
            category="0. Study",
            subcategory="figures",
            labels={"figure": "paired model differences (forest)"},
        ),
    log:
        "logs/study_plots/study.log",
    localrule: True
    conda:
        "../../envs/core.yaml"
    script:
        "../scripts/step.py"
