"""The config schema: defaults fill an empty config, every key is documented, bad configs are refused."""

import re
from pathlib import Path

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
    assert cfg["models"] == ["eigenfaces"] and cfg["clean"]["min_images_per_person"] == 8
    assert cfg["comparisons"]["age_bins"] == [10, 20, 30, 40, 50, 60, 70]
    for preset in Path(ROOT / "config").glob("*.yaml"):
        validate(yaml.safe_load(preset.read_text()), schema=str(SCHEMA))
