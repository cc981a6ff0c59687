"""The workflow's Python, importable and unit-tested: the .smk files hold rules and call these.

* :mod:`faceage.workflow.datasets`: what one dataset's resolved configuration says (its models,
  shards, estimators, face choice, the settings each step reads).
* :mod:`faceage.workflow.settings`: how a run's configuration is resolved, layer by layer, for
  one dataset or a study, and the checks a schema cannot express.

Nothing here imports Snakemake: the .smk files hand over plain data (the config dict, wildcards'
values) and get plain data back.
"""
