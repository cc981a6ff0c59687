"""A study of several datasets in one run (`datasets:`): each dataset's configuration, one DAG
with the dataset as a wildcard, each model's weights checked once, and `faceage estimate` sizing
a whole study."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_workflow, write_measured_run
from snakemake.utils import validate

from faceage.cluster import estimate_study, parse_plan
from faceage.command import main
from faceage.workflow.settings import resolve

SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())


def _validate(c):
    validate(c, str(SCHEMA_PATH))


def dataset_configs(config, schema, validate):
    """{name: resolved configuration} of ``config`` as Snakemake hands it over, no --config."""
    return resolve(config, schema=schema, validate=validate)[1]


def _top(**keys):
    """A top level as a user writes it (the schema's defaults are the bottom layer, not in it)."""
    return {"models": ["dlib"], "shards": 2, "clean": {"detector": "hog"}, **keys}


def test_without_datasets_the_one_dataset_of_todays_keys():
    c = _top(dataset="fgnet", dataset_format="fgnet")
    got = dataset_configs(c, SCHEMA, _validate)
    _validate(c)
    assert got == {"fgnet": c}


def test_preset_then_top_level_then_own_keys(tmp_path):
    preset = tmp_path / "preset.yaml"
    preset.write_text(
        "dataset: ignored\ndataset_format: fgnet\nshards: 6\n"
        "clean: {min_images_per_person: 8}\nverification: {bootstrap_iterations: 50}\n"
    )
    c = _top(
        datasets={
            "a": {"configfile": str(preset), "shards": 3, "dataset_path": "/data/a"},
            "b": {"dataset_format": "csv", "dataset_path": "b.csv", "models": []},
        }
    )
    got = dataset_configs(c, SCHEMA, _validate)
    assert list(got) == ["a", "b"]  # the order given
    a, b = got["a"], got["b"]
    assert a["dataset"] == "a" and b["dataset"] == "b"  # the entry's name, not the preset's
    assert a["dataset_format"] == "fgnet" and a["shards"] == 3  # own keys over both
    # sections merge key by key: the top level's detector, the preset's minimum
    assert a["clean"]["detector"] == "hog" and a["clean"]["min_images_per_person"] == 8
    assert a["verification"]["bootstrap_iterations"] == 50
    assert b["verification"]["bootstrap_iterations"] == 1000  # the schema's default
    assert b["models"] == [] and a["models"] == ["dlib"] and b["shards"] == 2
    assert a["datasets"] == {} and "configfile" not in a
    assert c["clean"] == {"detector": "hog"}  # the user's configuration is not touched


def test_each_entry_checked_naming_its_key(tmp_path):
    def problems(**entries):
        with pytest.raises(ValueError) as err:
            dataset_configs(_top(datasets=entries), SCHEMA, _validate)
        return str(err.value)

    msg = problems(a={"retries": 3, "clean": {"detectr": "hog"}})
    assert "datasets.a: retries is a setting of the whole run" in msg
    assert "datasets.a.clean.detectr: unknown key (did you mean 'detector'?)" in msg
    assert "datasets.b.configfile: 'nope.yaml' does not exist" in problems(
        b={"configfile": "nope.yaml"}
    )
    assert "datasets.c:" in problems(c={"shards": 0})  # the schema's own check, under its name
    with pytest.raises(Exception, match="study"):  # results/study/ is the summary's
        _validate(_top(datasets={"study": {}}))


def _demo_study(work: Path, *protocol_rows) -> Path:
    cfg = {
        "models": ["eigenfaces"],
        "attributes": {"enabled": False},
        "datasets": {
            "small": {"dataset_format": "demo", "dataset_path": "resources/small", "shards": 2},
            "large": {
                "dataset_format": "demo",
                "dataset_path": "resources/large",
                "shards": 3,
                "demo": {"persons": 20},
            },
        },
    }
    path = work / "study.yaml"
    work.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    return path


def _jobs(out: str) -> dict[str, list[dict[str, str]]]:
    """rule -> the wildcards of each of its jobs, from a dry run's listing."""
    jobs: dict[str, list[dict[str, str]]] = {}
    rule = None
    for line in out.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):", line):
            rule = m.group(1)
            jobs.setdefault(rule, []).append({})
        if (m := re.match(r"^\s+wildcards: (.*)", line)) and rule:
            jobs[rule][-1] = dict(kv.split("=", 1) for kv in m[1].split(", "))
    return jobs


@pytest.mark.workflow
def test_one_dag_for_every_dataset_weights_checked_once(tmp_path):
    proc = run_workflow(tmp_path, "-n", configfile=_demo_study(tmp_path))
    jobs = _jobs(proc.stdout)
    shards = {(j["dataset"], j["shard"]) for j in jobs["embed"]}
    assert shards == {("small", "0"), ("small", "1"), ("large", "0"), ("large", "1"),
                      ("large", "2")}  # fmt: skip
    assert {j["dataset"] for j in jobs["verification_comparison"]} == {"small", "large"}
    # once for both (the same settings of the model), not once per dataset
    # (named by the first dataset of the file: safe_dump sorts them)
    assert jobs["check_weights"] == [{"model": "eigenfaces", "group": "large"}]
    assert len(jobs["prepare_model"]) == 2  # eigenfaces fits on each dataset
    # each demo draws into its own folder
    assert {j["folder"] for j in jobs["demo_dataset"]} == {"resources/small", "resources/large"}


def test_estimate_sizes_a_whole_study(tmp_path, capsys):
    write_measured_run(tmp_path)
    plans = [parse_plan("agedb=3600:4"), parse_plan("cacd=36000:10")]
    jobs, totals, problems = estimate_study("tiny", plans, workdir=tmp_path)
    assert not problems
    agedb = jobs[(jobs["dataset"] == "agedb") & (jobs["rule"] == "embed")].iloc[0]
    assert agedb["images_per_shard"] == 900 and agedb["jobs"] == 4
    assert agedb["core_hours"] == pytest.approx(1.0)  # 3600 images x 1 s
    t = totals.set_index("dataset")
    assert t.loc["cacd", "jobs"] == 20 and t.loc["cacd", "core_hours"] == pytest.approx(20.0)
    assert t.loc["study", "jobs"] == 28 and t.loc["study", "core_hours"] == pytest.approx(22.0)
    with pytest.raises(ValueError, match="NAME=IMAGES:SHARDS"):
        parse_plan("cacd=36000")
    args = ["estimate", "--dataset", "tiny", "--workdir", str(tmp_path)]
    assert main(args + ["--plan", "agedb=3600:4"]) == 0
    assert "study" in capsys.readouterr().out
    assert main(args) == 2
    assert "--plan" in capsys.readouterr().err
