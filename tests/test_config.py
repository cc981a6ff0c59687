"""The config schema: defaults fill an empty config, every key is documented.

Bad configs are refused.
"""

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from snakemake.utils import validate

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
DOC = (ROOT / "config" / "README.md").read_text()


def leaves(props: dict, prefix=()):
    for key, spec in props.items():
        sub = spec.get("properties") if isinstance(spec, dict) else None
        if sub:
            yield from leaves(sub, prefix + (key,))
        else:
            yield prefix + (key,)


def test_every_key_has_description_and_default():
    schema = yaml.safe_load(SCHEMA.read_text())
    missing = []

    def walk(props, prefix=()):
        for key, spec in props.items():
            if "description" not in spec or "default" not in spec:
                missing.append(".".join(prefix + (key,)))
            if "properties" in spec:
                walk(spec["properties"], prefix + (key,))

    walk(schema["properties"])
    assert not missing, f"schema keys without description or default: {missing}"


def test_every_key_documented_in_config_readme():
    schema = yaml.safe_load(SCHEMA.read_text())
    undocumented = []
    for path in leaves(schema["properties"]):
        leaf = path[-1]
        if f"`{path[0]}" not in DOC or not re.search(rf"[`.]{re.escape(leaf)}`", DOC):
            undocumented.append(".".join(path))
    assert not undocumented, f"keys missing from config/README.md: {undocumented}"


def test_defaults_fill_empty_config_and_presets_validate():
    cfg = {}
    validate(cfg, schema=str(SCHEMA))
    # the defaults are for real data: a real model and detector (the demo is a preset)
    assert cfg["models"] == ["dlib"] and cfg["clean"]["min_images_per_person"] == 8
    assert cfg["clean"]["detector"] == "hog" and cfg["analysis"]["balanced_per_range"] == 50
    assert cfg["comparisons"]["age_bins"] == [0, 11, 21, 31, 41, 51, 61, 71]
    for preset in Path(ROOT / "config").glob("*.yaml"):
        validate(yaml.safe_load(preset.read_text()), schema=str(SCHEMA))


def test_numbers_and_booleans_typed_in_config_dicts_are_read_as_the_schema_wants():
    """`--config clean='{min_images_per_person: 1}'` hands Snakemake's BaseLoader strings to us."""
    from snakemake.cli import parse_config

    from faceage.configcheck import coerce_cli_scalars

    schema = yaml.safe_load(SCHEMA.read_text())
    args = [
        "dataset=2024",
        "clean={min_images_per_person: 1, detector: hog}",
        "attributes={enabled: false, flags: {age_mae: '6.8'}}",
        "comparisons={impostors: none, age_bins: [5, 15]}",
        "model_settings={insightface: {det_size: 320, pad: 0.5}}",
    ]
    raw = parse_config(args)
    assert raw["clean"]["min_images_per_person"] == "1"  # what Snakemake gives us
    cfg = coerce_cli_scalars(raw, schema)
    assert cfg["dataset"] == "2024"  # a string-only key stays a string
    assert cfg["clean"] == {"min_images_per_person": 1, "detector": "hog"}
    assert cfg["attributes"]["enabled"] is False
    assert cfg["attributes"]["flags"]["age_mae"] == 6.8  # number | "dataset" | null
    assert cfg["comparisons"] == {"impostors": "none", "age_bins": [5, 15]}
    assert cfg["model_settings"]["insightface"]["det_size"] == 320
    validate(cfg, schema=str(SCHEMA))
    # Only when the schema would accept the result: a wrong value is left for the schema to report.
    bad = coerce_cli_scalars(
        parse_config(["shards=x", "clean={min_images_per_person: many}"]), schema
    )
    assert bad["clean"]["min_images_per_person"] == "many"


@pytest.mark.workflow
def test_readme_utkface_command_validates(tmp_path):
    """The README's UTKFace line passes --config dicts; it must get past validation (dry run)."""
    from conftest import run_workflow

    data = tmp_path / "UTKFace"
    data.mkdir()
    run_workflow(
        tmp_path / "w",
        "-n",
        "-q",
        "--config",
        "dataset=utk",
        "dataset_format=utkface",
        f"dataset_path={data}",
        "clean={min_images_per_person: 1}",
        "comparisons={impostors: none}",
        timeout=300,
    )


@pytest.mark.workflow
def test_demo_never_draws_into_a_real_dataset_folder(tmp_path):
    """dataset_format: demo draws into dataset_path: a folder holding other files stops the run
    before any job, and nothing in it is touched (only the demo's own rule may write a dataset
    folder)."""
    from conftest import run_workflow

    data = tmp_path / "real"
    data.mkdir()
    (data / "078A11.JPG").write_bytes(b"not a demo")
    proc = run_workflow(
        tmp_path / "w", "-q", "--config", f"dataset_path={data}", check=False, timeout=300
    )
    assert proc.returncode != 0
    assert "holds files that are not a demo" in proc.stdout + proc.stderr
    assert sorted(p.name for p in data.iterdir()) == ["078A11.JPG"]
    assert (data / "078A11.JPG").read_bytes() == b"not a demo"


@pytest.mark.slow  # over 15 s on 2 cores (tests/README.md)
@pytest.mark.workflow
def test_two_demo_configurations_keep_their_own_images(tmp_path):
    """A second demo configuration with its own dataset_path.

    It does not overwrite the first one's images.
    """
    from conftest import run_workflow

    a, b = tmp_path / "demo_a", tmp_path / "demo_b"
    for path, persons in ((a, 3), (b, 4)):
        run_workflow(
            tmp_path / "w",
            "-q",
            "--config",
            f"dataset_path={path}",
            f"dataset=d{persons}",
            f"demo={{persons: {persons}, images_per_person: 5}}",
            "shards=1",
            "clean={min_images_per_person: 2}",
            "verification={enabled: false}",
            targets=(f"results/d{persons}/manifest.tsv",),
            timeout=600,
        )
    assert len(list(a.glob("person*"))) == 3 and len(list(b.glob("person*"))) == 4
