"""What one dataset's resolved configuration ``c`` says: plain functions of ``c``."""

from __future__ import annotations


def is_protocol(c: dict) -> bool:
    """A protocol dataset (dataset_format: protocol): the images its protocols name; the
    study's pair stages are not targeted."""
    return c["dataset_format"] == "protocol"


def shards(c: dict) -> list[int]:
    return list(range(c["shards"]))


def dataset_models(c: dict) -> list[str]:
    return list(c["models"])


def estimator_names(c: dict) -> list[str]:
    attr = c["attributes"]
    return list(attr["estimators"]) if attr["enabled"] else []


def pick(section: dict, *keys: str, **more) -> dict:
    """The settings a rule's step reads, one key at a time, from a config ``section``, plus
    ``more``: a rule gets nothing its step ignores, so no other setting re-runs it
    (tests/test_rule_settings.py checks it)."""
    return {**{k: section[k] for k in keys}, **more}


def face_choice(c: dict, own: str = "auto") -> str:
    """The face choice of a stage or model: its own multi_face, else face_choice (auto:
    centre in protocol runs, whose subject is the centred face; largest in the study).
    """
    if own != "auto":
        return own
    if c["face_choice"] != "auto":
        return c["face_choice"]
    return "centre" if is_protocol(c) else "largest"


def detect_settings(c: dict) -> dict:
    """What detect_faces reads: the detector and, when there is one, its upsampling and the
    face choice among the faces it finds."""
    clean = c["clean"]
    if clean["detector"] == "none":
        return pick(clean, "detector", "max_side")
    return pick(
        clean,
        "detector",
        "upsample",
        "max_side",
        face_choice=face_choice(c, clean["multi_face"]),
    )
