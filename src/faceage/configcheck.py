"""Config checks that run before the schema, so that what users type works and errors read well.

* :func:`coerce_cli_scalars`: ``snakemake --config clean='{min_images_per_person: 1}'`` hands
  nested values over as strings (Snakemake parses them with YAML's BaseLoader), so ``1`` would
  fail the schema as ``'1'``. Where the schema wants a number, boolean or null, such a string is
  read as YAML.
* :func:`unknown_keys`: JSON Schema validation reports an unknown key as "Additional properties
  are not allowed" followed by the whole schema; this names the key, its section, the keys
  allowed there and the closest match, before any job runs.
"""

from __future__ import annotations

import copy
import difflib

import yaml

_JSON_TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _coerce_value(value, schema: dict):
    if isinstance(value, dict):
        return coerce_cli_scalars(value, schema)
    if isinstance(value, list):
        items = schema.get("items", {}) if isinstance(schema.get("items"), dict) else {}
        return [_coerce_value(v, items) for v in value]
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if types == ["string"] and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # top-level `--config dataset=2024` arrives as an int
    if not isinstance(value, str):
        return value
    if types == ["string"] or (not types and schema.get("properties")):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    if isinstance(parsed, str):
        return value
    if not types:  # free-form settings: numbers, booleans and null only
        return parsed if parsed is None or isinstance(parsed, (bool, int, float)) else value
    return parsed if any(_JSON_TYPES[t](parsed) for t in types if t in _JSON_TYPES) else value


def coerce_cli_scalars(config: dict, schema: dict) -> dict:
    """``config`` with strings read as YAML where ``schema`` wants a non-string (recursively).

    A string stays a string wherever the schema allows only strings, and wherever reading it
    would give a type the schema does not allow (the schema then reports it as it stands).
    """
    if not isinstance(config, dict):
        return config
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    extra = extra if isinstance(extra, dict) else {}
    return {k: _coerce_value(v, props.get(k, extra)) for k, v in config.items()}


def unknown_keys(config: dict, schema: dict, prefix: str = "") -> list[str]:
    """One message per key of ``config`` that ``schema`` does not allow (recursively)."""
    problems = []
    props = schema.get("properties", {})
    if not isinstance(config, dict) or not props:
        return problems
    closed = schema.get("additionalProperties", True) is False
    for key, value in config.items():
        where = f"{prefix}{key}"
        if key in props:
            problems += unknown_keys(value, props[key], f"{where}.")
        elif closed:
            allowed = ", ".join(sorted(props))
            close = difflib.get_close_matches(str(key), list(props), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            section = f"section {prefix[:-1]!r}" if prefix else "the top level"
            problems.append(f"{where}: unknown key{hint}; allowed at {section}: {allowed}")
    return problems


def merge(base: dict, over: dict) -> dict:
    """``base`` with ``over`` on top: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
