"""Each model's defaults are one fact: the adapter's (library use) equal the config schema's
(what the workflow hands its steps), key for key."""

from pathlib import Path

import pytest
import yaml

from faceage.models import MODELS, get_adapter

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


def schema_defaults(model: str) -> dict:
    props = yaml.safe_load(SCHEMA.read_text())["properties"]["model_settings"]["properties"]
    return {k: spec["default"] for k, spec in props[model]["properties"].items()}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_adapter_defaults_equal_the_schemas(model):
    adapter = get_adapter(model)
    ours = adapter.resolved({})
    theirs = schema_defaults(model)
    # a model without a face detector of its own has no face choice
    if "multi_face" not in theirs:
        ours.pop("multi_face")
    assert ours == theirs
    assert adapter.resolved({"batch_size": 3, "flip": None})["batch_size"] == 3
    assert adapter.resolved({"flip": None})["flip"] is False  # None keeps the default
