"""Readable messages for config keys the schema does not know.

JSON Schema validation reports an unknown key as "Additional properties are
not allowed" followed by the whole schema; this names the key, its section,
the keys allowed there and the closest match, before any job runs.
"""

from __future__ import annotations

import difflib


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
