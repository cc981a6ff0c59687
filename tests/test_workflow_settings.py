"""The settings a run uses are the settings written (faceage.workflow.settings).

Unit tests of the resolution order on the shipped presets and README's own commands, key for
key against schema defaults + preset + the row's keys; the three leaks of issue 28 as
regressions; the checks a schema cannot express; and one real Snakemake run that writes each
dataset's settings.yaml.
"""

from __future__ import annotations

import copy
import re
import shlex
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_workflow
from snakemake.cli import parse_config
from snakemake.utils import update_config, validate

from faceage.configcheck import coerce_cli_scalars, merge
from faceage.workflow import settings as s

SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = yaml.safe_load(SCHEMA_PATH.read_text())
PRESETS = ("fgnet", "agedb", "cacd", "demo")


def _validate(c):
    validate(c, schema=str(SCHEMA_PATH))


def defaults(over: dict) -> dict:
    """Schema defaults + ``over``: what a run of exactly ``over`` must resolve to."""
    c = copy.deepcopy(over)
    _validate(c)
    return c


def snakemake_config(configfiles=(), cli: dict | None = None) -> dict:
    """What Snakemake hands the workflow as ``config``: the files, then --config merged in."""
    config: dict = {}
    for f in configfiles:
        update_config(config, yaml.safe_load(Path(f).read_text()))
    update_config(config, copy.deepcopy(cli or {}))
    return config


def resolve(configfiles=(), cli=None, demo=False):
    config = snakemake_config(configfiles, cli)
    return s.resolve(
        config,
        schema=SCHEMA,
        validate=_validate,
        cli=cli or {},
        demo_preset=ROOT / "config" / "demo.yaml" if demo else None,
    )


def preset(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())


def readme_rows() -> list[tuple[list[str], dict]]:
    """README's `snakemake ...` commands of "Run it on real data": (configfiles, --config)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Run it on real data") : text.index("Targets, when")]
    rows = []
    for cmd in re.findall(r"`(snakemake [^`]*)`", section):
        words = shlex.split(cmd)
        files = [words[i + 1] for i, w in enumerate(words) if w == "--configfile"]
        cli = words[words.index("--config") + 1 :] if "--config" in words else []
        rows.append((files, parse_config(cli)))
    return rows


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_alone_is_schema_defaults_plus_the_preset(name):
    _, datasets = resolve([ROOT / "config" / f"{name}.yaml"])
    ((ds, c),) = datasets.items()
    assert ds == preset(name)["dataset"]
    assert c == defaults(preset(name))


@pytest.mark.parametrize("name", PRESETS)
def test_a_preset_inside_a_study_is_the_same_dataset(name, tmp_path):
    """A study entry with only ``configfile:`` is the preset's dataset key for key (its name
    aside)."""
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"datasets": {"x": {"configfile": f"config/{name}.yaml"}}}))
    _, datasets = resolve([study])
    assert datasets["x"] == defaults({**preset(name), "dataset": "x"})


@pytest.mark.parametrize("row", range(len(readme_rows())))
def test_every_readme_row_runs_with_what_its_text_says(row, tmp_path, monkeypatch):
    files, cli = readme_rows()[row]
    monkeypatch.chdir(ROOT)
    _, datasets = resolve(files, cli)
    ((ds, c),) = datasets.items()
    written: dict = {}
    for f in files:
        written = merge(written, yaml.safe_load(Path(f).read_text()))
    written = merge(written, coerce_cli_scalars(cli, SCHEMA))
    expected = defaults({**written, "dataset": ds})
    assert c == expected
    assert c["models"] != ["eigenfaces"] and c["clean"]["detector"] != "none"


def test_readme_rows_are_found():
    rows = readme_rows()
    assert len(rows) >= 6
    assert any(cli.get("dataset_format") == "protocol" for _, cli in rows)


# --- the three leaks of issue 28 ---


def test_no_demo_value_leaks_into_a_real_run():
    """The FG-NET preset's balanced resample takes the schema's 50, not the demo's 10; a
    protocol run cleans with a real detector (its aligned fallback learns its box from it)."""
    (fgnet,) = resolve([ROOT / "config" / "fgnet.yaml"])[1].values()
    assert fgnet["analysis"]["balanced_per_range"] == 50
    cli = parse_config(
        ["dataset=lfw", "dataset_format=protocol", "protocols=[{file: x, format: lfw}]"]
    )
    (lfw,) = resolve([], cli)[1].values()
    assert lfw["clean"]["detector"] == "hog" and lfw["models"] == ["dlib"]
    (csv,) = resolve([], parse_config(["dataset_format=csv", "dataset_path=l.csv"]))[1].values()
    assert (csv["dataset"], csv["models"], csv["clean"]["detector"]) == ("csv", ["dlib"], "hog")


def test_the_demo_is_used_only_with_no_configuration():
    assert s.uses_demo({}, [], False)
    assert s.uses_demo({"shards": 3}, [], False)  # --config shards=3: the demo, 3 shards
    assert not s.uses_demo({}, ["my.yaml"], False)
    assert not s.uses_demo({"dataset_format": "csv"}, [], False)
    assert not s.uses_demo({}, [], True)  # a module's config is the user's
    (demo,) = resolve([], {"shards": "3"}, demo=True)[1].values()
    assert demo["shards"] == 3 and demo["models"] == ["eigenfaces"]
    with pytest.raises(s.ConfigError, match="dataset_format: not set"):
        resolve([], {"shards": "3"})


def test_in_a_study_the_top_level_beats_the_preset_and_the_command_line_beats_all(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "attributes": {"enabled": False},
                "shards": 2,
                "datasets": {
                    "fgnet": {"configfile": "config/fgnet.yaml"},
                    "own": {
                        "configfile": "config/fgnet.yaml",
                        "attributes": {"enabled": True},
                        "shards": 3,  # its own keys, and still --config beats them
                    },
                },
            }
        )
    )
    run, datasets = resolve([study], {"shards": "8"})
    assert datasets["fgnet"]["attributes"]["enabled"] is False  # the top level over the preset
    assert datasets["own"]["attributes"]["enabled"] is True  # its own keys over the top level
    assert {c["shards"] for c in datasets.values()} == {8}  # --config over everything, own keys too
    assert datasets["fgnet"]["clean"]["min_images_per_person"] == 8  # the preset still counts


def test_weights_are_grouped_by_the_settings_that_embed():
    c = {"models": ["insightface", "dlib"], "model_settings": {}}
    other = {"models": ["insightface", "dlib"], "model_settings": {"insightface": {"pack": "x"}}}
    groups = s.weight_groups({"a": c, "b": other, "c": copy.deepcopy(c)})
    assert groups["dlib"] == {"a": "a", "b": "a", "c": "a"}  # one check for all three
    assert groups["insightface"] == {"a": "a", "b": "b", "c": "a"}  # b has its own pack


# --- checks a schema cannot express ---


@pytest.mark.parametrize("name", [".", "..", "...", "a/b", "study", "models"])
def test_names_that_leave_results_are_refused(name, tmp_path):
    assert s.name_problem(name, "datasets.x")
    study = tmp_path / "study.yaml"
    study.write_text(yaml.safe_dump({"datasets": {name: {"dataset_format": "demo"}}}))
    with pytest.raises(s.ConfigError, match=re.escape(f"datasets.{name}")):
        resolve([study])
    with pytest.raises(s.ConfigError):
        resolve([], {"dataset": name, "dataset_format": "demo"})


@pytest.mark.parametrize("name", ["fgnet", "a.b", ".x", "x..", "CACD-VS_2"])
def test_ordinary_names_pass(name):
    assert s.name_problem(name, "dataset") is None


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("datasets:\n  fgnet: {}\n  utk: {}\n  fgnet:\n    shards: 2\n")
    with pytest.raises(s.ConfigError, match=r"c.yaml:4: key 'fgnet' is given twice.*line 2"):
        s.load_yaml(f)
    f.write_text("clean:\n  detector: hog\n  detector: none\n")
    with pytest.raises(s.ConfigError, match=r":3: key 'detector'"):
        s.load_yaml(f)
    f.write_text("clean:\n  detector: hog\nshards: 2\n")
    assert s.load_yaml(f) == {"clean": {"detector": "hog"}, "shards": 2}


def test_run_checks_name_the_key(tmp_path):
    run = defaults({"dataset_format": "demo"})
    not_python = tmp_path / "not-python"
    not_python.write_text("#!/bin/sh\necho hello\n")
    not_python.chmod(0o755)
    weights = tmp_path / "weights"
    weights.write_text("a file")
    run["python_envs"] = {
        "nosuch": sys.executable,
        "dlib": str(not_python),
        "insightface": str(tmp_path / "missing"),
        "deepface": sys.executable,
    }
    run["weights_dir"] = str(weights)
    problems = "\n".join(s.run_problems(run))
    assert "python_envs.nosuch: unknown environment; known: " in problems
    assert "python_envs.dlib:" in problems and "is not a Python interpreter" in problems
    assert "python_envs.insightface:" in problems and "does not exist" in problems
    assert "python_envs.deepface" not in problems  # a real interpreter passes
    assert "weights_dir:" in problems and "is a file" in problems


def test_a_protocol_run_without_a_cleaning_detector_is_warned_about(tmp_path):
    """Its aligned fallback would take the whole image as the face box; aligned crops (an
    insightface .bin, or aligned: true) are detected by nobody, so they pass."""
    from faceage.protocols.dataset import protocols_from_config

    proto = tmp_path / "p.csv"
    proto.write_text("a,b,same\n")
    entry = {"file": str(proto), "format": "csv", "images": str(tmp_path)}
    c = defaults(
        {
            "dataset": "p",
            "dataset_format": "protocol",
            "protocols": [entry],
            "clean": {"detector": "none"},
        }
    )
    (warning,) = s.dataset_warnings(c, protocols_from_config(c["protocols"]))
    assert "clean.detector: none, but embeddings.no_face_fallback is aligned (auto" in warning
    assert "protocols: p" in warning
    aligned = protocols_from_config([{**entry, "aligned": True}])
    assert s.dataset_warnings(c, aligned) == []
    assert (
        s.dataset_warnings(
            c, protocols_from_config([{"file": "x.bin", "format": "insightface_bin"}])
        )
        == []
    )
    c["embeddings"]["no_face_fallback"] = "centre_crop"
    assert s.dataset_warnings(c, protocols_from_config(c["protocols"])) == []
    c["embeddings"]["no_face_fallback"] = "auto"
    c["clean"]["detector"] = "hog"  # the default
    assert s.dataset_warnings(c, protocols_from_config(c["protocols"])) == []


def test_a_schema_error_keeps_the_schemas_message():
    with pytest.raises(s.ConfigError) as err:
        resolve([], {"dataset_format": "demo", "shards": "two"})
    assert "'two' is not of type 'integer'" in str(err.value) and "['shards']" in str(err.value)
    assert not str(err.value).startswith("Error validating")


def test_the_record_does_not_depend_on_the_order_keys_were_set():
    a = defaults({"dataset_format": "demo", "verification": {"enabled": True}})
    b = defaults({"dataset_format": "demo"})
    assert a == b and list(a) != list(b)  # the same settings, another order
    assert list(s.provenance(a, "x")["configuration"]) == list(
        s.provenance(b, "x")["configuration"]
    )


def test_git_commit_of_a_folder_outside_a_checkout(tmp_path):
    assert s.git_commit(tmp_path) == "not a checkout"
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", s.git_commit(ROOT))


# --- end to end: what Snakemake runs with is what settings.yaml records ---


@pytest.mark.workflow
@pytest.mark.slow
def test_settings_yaml_records_each_datasets_resolved_settings(tmp_path):
    """A study of the FG-NET preset and a demo, top level and --config over the preset, run
    through Snakemake: each settings.yaml holds exactly the resolved settings."""
    fgnet = tmp_path / "fgnet"
    fgnet.mkdir()
    study = tmp_path / "study.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "attributes": {"enabled": False},
                "datasets": {
                    "fg": {"configfile": str(ROOT / "config" / "fgnet.yaml"),
                           "dataset_path": str(fgnet)},
                    "dm": {"configfile": str(ROOT / "config" / "demo.yaml"),
                           "dataset_path": "resources/dm"},
                },
            }
        )
    )  # fmt: skip
    targets = ("results/fg/settings.yaml", "results/dm/settings.yaml")
    run_workflow(tmp_path, "--config", "shards=3", configfile=study, targets=targets)
    recorded = {
        ds: yaml.safe_load((tmp_path / "results" / ds / "settings.yaml").read_text())
        for ds in ("fg", "dm")
    }
    fg = recorded["fg"]["configuration"]
    assert fg == defaults(
        {
            **preset("fgnet"),
            "dataset": "fg",
            "dataset_path": str(fgnet),
            "attributes": {"enabled": False},
            "shards": 3,
        }
    )
    assert recorded["dm"]["configuration"]["models"] == ["eigenfaces"]
    assert recorded["dm"]["configuration"]["shards"] == 3
    from faceage import __version__

    assert recorded["fg"]["faceage_version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", recorded["fg"]["git_commit"])
