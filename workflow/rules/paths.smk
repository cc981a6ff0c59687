# Paths and targets: the input functions rules name, where each rule writes its log and
# benchmark, the default target (final_outputs, asked for by rule all) and the messages
# printed after a run. Every path comes from one layout (faceage.workflow.layout); the
# functions here hand it the job's dataset and configuration.
from faceage.workflow import layout as _layout
from faceage.workflow.datasets import overrides_files
from faceage.workflow.datasets import protocol_format as _protocol_format

LAYOUT = _layout.Layout()
# Every rule's files are under results/<dataset>/ (the dataset wildcard; DATASETS).
RESULTS = LAYOUT.results("{dataset}")
VER = LAYOUT.verification("{dataset}")
STUDY_DIR = LAYOUT.study_dir


def log_path(rule_name, *parts):
    """logs/<rule>/<dataset>[_<part>...].log"""
    return LAYOUT.log(rule_name, "{dataset}", *parts)


def benchmark_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].tsv"""
    return LAYOUT.benchmark(rule_name, "{dataset}", *parts)


def speed_path(rule_name, *parts):
    """benchmarks/<rule>/<dataset>[_<part>...].json: a job's own speed record."""
    return LAYOUT.speed(rule_name, "{dataset}", *parts)


def results(wildcards):
    """results/<dataset> of a job (input functions build file names with it)."""
    return LAYOUT.results(wildcards.dataset)


# Input functions the rules name.


def overrides_input(wildcards):
    """The dataset's clean.overrides file when it exists; the attribute rules use it too."""
    return overrides_files(dconf(wildcards))


def score_files(wildcards):
    return LAYOUT.score_files(wildcards.dataset, dconf(wildcards))


def operating_score_files(wildcards):
    return LAYOUT.operating_score_files(wildcards.dataset, dconf(wildcards))


def embedding_files(wildcards):
    return LAYOUT.embedding_files(wildcards.dataset, dconf(wildcards))


def export_files(wildcards):
    return LAYOUT.export_files(wildcards.dataset, dconf(wildcards), wildcards.model)


def comparison_inputs(wildcards):
    return LAYOUT.comparison_inputs(wildcards.dataset, dconf(wildcards))


def external_files(wildcards):
    """The user's files of the job's external model, by input name."""
    return external_inputs(wildcards.model, dconf(wildcards))


def external_step_settings(wildcards):
    return external_settings(wildcards.model, dconf(wildcards))


def shard_files(pattern):
    """An input function: ``pattern`` (with {dataset} and {shard}) for every shard of the
    job's dataset, other wildcards kept."""
    return lambda w: LAYOUT.shard_files(pattern, w.dataset, dconf(w))


def embed_benchmarks(wildcards, path=benchmark_path):
    """{model: [its embed jobs' benchmark_path (or speed_path) files]} of the job's dataset."""
    files = {benchmark_path: LAYOUT.benchmark, speed_path: LAYOUT.speed}[path]
    return LAYOUT.embed_benchmarks(wildcards.dataset, dconf(wildcards), MODELS, files)


def protocol_format(wildcards):
    return _protocol_format(PROTOCOLS[wildcards.dataset], wildcards.protocol)


def final_outputs():
    return LAYOUT.final_outputs(DATASETS, STUDY)


def study_inputs(wildcards):
    return LAYOUT.study_inputs(DATASETS)


def study_settings():
    return LAYOUT.study_settings(DATASETS, config["study"]["fmr"])


onsuccess:
    for line in _layout.depleted_benchmark_messages(LAYOUT, PROTOCOL_DATASETS):
        print(line, file=sys.stderr)


onerror:
    for line in _layout.failure_messages(LAYOUT, DATASETS):
        print(line, file=sys.stderr)


wildcard_constraints:
    dataset=_layout.one_of(DATASETS),
    shard=r"\d+",
    model=_layout.one_of(MODEL_NAMES),
    protocol=_layout.one_of(p.name for ps in PROTOCOLS.values() for p in ps),
