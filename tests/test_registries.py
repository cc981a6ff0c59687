"""Every registry against the places that list its names again: the config schema's enums,
the ``faceage`` command's help and the docs tables (README, config/README.md, docs/).

A name added to a registry and not to the schema or docs (or left there after its removal)
fails here, with the name and the place.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from faceage.attributes import ESTIMATORS
from faceage.command import parser
from faceage.datasets import ADAPTERS, DATASET_FORMATS, NAME_ADAPTERS
from faceage.models import MODELS
from faceage.protocols.formats import FORMATS, read_protocol
from faceage.protocols.matching import LABELS
from faceage.protocols.published import BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
PROTOCOL_KEYS = SCHEMA["properties"]["protocols"]["items"]["properties"]
IDENT = re.compile(r"`([a-z][a-z0-9_]*)`")


def table_names(doc: str, header: str) -> list[str]:
    """The backticked names in the first column of the table of ``doc`` whose header row
    starts with ``| header |``."""
    lines = (ROOT / doc).read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"| {header} |"))
    names = []
    for ln in lines[start + 2 :]:
        if not ln.startswith("|"):
            break
        names += IDENT.findall(ln.split("|")[1])
    assert names, f"{doc}: table '{header}' has no names"
    return names


def config_row(key: str) -> str:
    """The meaning cell of ``key``'s row in config/README.md."""
    for ln in (ROOT / "config" / "README.md").read_text().splitlines():
        if ln.startswith(f"| `{key}` |"):
            return ln.split("|")[3]
    raise AssertionError(f"config/README.md has no row for {key}")


def listed(text: str) -> set[str]:
    """Names written as "`name` (" - a name followed by its explanation."""
    return set(re.findall(r"`([a-z][a-z0-9_]*)` \(", text))


def cli_option(command: str, dest: str) -> argparse.Action:
    sub = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if a.dest == dest)


def test_protocol_formats_everywhere():
    names = list(FORMATS)
    assert PROTOCOL_KEYS["format"]["enum"] == names
    assert PROTOCOL_KEYS["format"]["default"] in FORMATS
    assert list(cli_option("protocol", "format").choices) == names
    assert set(IDENT.findall(config_row("protocols[].format"))) == set(names)
    assert sorted(table_names("docs/verification.md", "format")) == sorted(names)


def test_protocol_format_entries_hold_their_facts():
    for name, entry in FORMATS.items():
        assert entry.name == name
        assert entry.labels in LABELS, f"{name}: default labels {entry.labels!r} unknown"
        assert entry.benchmark in ("", *BENCHMARKS), f"{name}: benchmark {entry.benchmark!r}"
        assert entry.expected, f"{name}: say what a file of the format looks like"
    # the special cases of insightface .bin files are data of its entry
    inside = [n for n, e in FORMATS.items() if e.images_inside]
    assert inside == ["insightface_bin"]
    assert FORMATS["insightface_bin"].aligned and FORMATS["insightface_bin"].named_by_benchmark


def test_label_parsers_everywhere():
    assert PROTOCOL_KEYS["labels"]["enum"] == ["auto", *LABELS]
    assert list(cli_option("protocol", "labels").choices) == ["auto", *LABELS]
    # every adapter that reads names is a label parser (cacd once was not)
    assert set(NAME_ADAPTERS) == {"agedb", "cacd", "fgnet", "utkface", "folders"}
    assert set(NAME_ADAPTERS) <= set(LABELS)
    row = config_row("protocols[].labels")
    written = set(IDENT.findall(row))
    assert set(LABELS) <= written, f"config/README.md misses labels {set(LABELS) - written}"
    stray = written - set(LABELS) - set(FORMATS) - {"auto", "dataset_format"}
    assert not stray, f"config/README.md lists labels that do not exist: {stray}"
    for name in NAME_ADAPTERS:
        assert name in PROTOCOL_KEYS["labels"]["description"]


def test_benchmarks_match_the_schema():
    assert PROTOCOL_KEYS["benchmark"]["enum"] == ["", *BENCHMARKS]


def test_dataset_formats_everywhere():
    key = SCHEMA["properties"]["dataset_format"]
    assert set(key["enum"]) - {""} == set(DATASET_FORMATS)  # "": not set (stops the run)
    assert set(ADAPTERS) < set(DATASET_FORMATS)
    for name in DATASET_FORMATS:
        assert name in key["description"], f"schema description of dataset_format lacks {name}"
    assert sorted(table_names("docs/datasets.md", "`dataset_format`")) == sorted(DATASET_FORMATS)
    in_config = listed(config_row("dataset_format")) | {"protocol"}
    assert "`dataset_format: protocol`" in (ROOT / "config" / "README.md").read_text()
    assert in_config == set(DATASET_FORMATS)


def test_models_everywhere():
    assert set(SCHEMA["properties"]["model_settings"]["properties"]) == set(MODELS)
    assert sorted(table_names("README.md", "name")) == sorted(MODELS)
    sections = set(
        re.findall(r"`model_settings\.([a-z_]+)`", (ROOT / "config" / "README.md").read_text())
    )
    assert sections == set(MODELS)
    assert cli_option("download", "model").help.split(" | ") == list(MODELS)


def test_estimators_everywhere():
    key = SCHEMA["properties"]["attributes"]["properties"]["estimators"]
    for name in ESTIMATORS:
        assert name in key["description"], f"schema: attributes.estimators lacks {name}"
    assert list(cli_option("predict", "estimator").choices) == list(ESTIMATORS)
    assert sorted(table_names("docs/attributes.md", "name")) == sorted(ESTIMATORS)
    assert listed(config_row("attributes.estimators")) == set(ESTIMATORS)


def test_a_format_not_in_the_registry_is_refused(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("image_a,image_b,same\na,b,1\n")
    with pytest.raises(ValueError, match="unknown protocol format 'xml'; known: agedb_mat"):
        read_protocol(f, "xml")
