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


def no_face_fallback(c: dict) -> str:
    """embeddings.no_face_fallback, with auto resolved: aligned in protocol runs, else none."""
    mode = c["embeddings"]["no_face_fallback"]
    if mode == "auto":
        return "aligned" if is_protocol(c) else "none"
    return mode


def model_settings(model: str, c: dict) -> dict:
    """A model's settings in configuration ``c``, its face choice resolved (models that
    choose among faces)."""
    own = dict(c["model_settings"].get(model, {}))
    if "multi_face" in own:
        own["multi_face"] = face_choice(c, own["multi_face"])
    return own


def published_models(c: dict) -> dict:
    """What benchmarks.tsv needs to find each built-in model's published figures: the
    recogniser it is and its test-time settings ({model: {published_id, settings}})."""
    from faceage.models import MODELS, get_adapter
    from faceage.models.base import test_time

    return {
        m: {
            "published_id": get_adapter(m).published_id(model_settings(m, c)),
            "settings": test_time(model_settings(m, c)),
        }
        for m in dataset_models(c)
        if m in MODELS
    }


def common_pairs_used(c: dict) -> bool:
    """Whether comparison.tsv (and the study) reads the tables on the common pairs: several
    models, and verification.comparison_pairs common."""
    return len(c["models"]) > 1 and c["verification"]["comparison_pairs"] == "common"


def overrides_files(c: dict) -> list[str]:
    """[clean.overrides] when that file exists, else []: an input of the rules that read it."""
    from pathlib import Path

    path = c["clean"]["overrides"]
    return [path] if path and Path(path).is_file() else []


def protocol_format(protocols: list, name: str) -> dict:
    """What verification_protocol reads of protocol ``name`` among a dataset's ``protocols``
    (faceage.protocols.dataset.protocols_from_config of its config): its format."""
    return {"format": next(p.format for p in protocols if p.name == name)}


def external_models(c: dict) -> dict[str, dict]:
    """``{name: entry}`` of the dataset's models whose vectors or scores come from a file
    (external_models; faceage.external)."""
    return {m: c["external_models"][m] for m in dataset_models(c) if m in c["external_models"]}


def score_models(c: dict) -> list[str]:
    """The dataset's models that bring scores, not vectors (bob or pyeer files)."""
    from faceage.external import kind

    return [m for m, e in external_models(c).items() if kind(e) in ("bob", "pyeer")]


def vector_models(c: dict) -> list[str]:
    """The dataset's models with embeddings (every model but those of :func:`score_models`):
    the stages that read vectors (maps, age probe, failure to enrol) run on these."""
    scores = set(score_models(c))
    return [m for m in dataset_models(c) if m not in scores]


def external_inputs(model: str, c: dict) -> dict[str, str]:
    """The user's files of external model ``model``, named as its rule's inputs."""
    from faceage.external import files

    named = files(c["external_models"][model])
    if "pairs" in named:  # the workflow's pairs table is input "pairs"
        named["named_pairs"] = named.pop("pairs")
    if "embeddings" in named:
        named["vectors"] = named.pop("embeddings")
    return named


def external_settings(model: str, c: dict) -> dict:
    """What an external model's step reads: the key (and the dataset's folder when images
    are named by path), and the dimension of a file of vectors."""
    from faceage.external import kind

    entry = c["external_models"][model]
    out = pick(entry, "key")
    if entry["key"] == "path":
        out["dataset_path"] = c["dataset_path"]
    if kind(entry) == "vectors":
        out["dim"] = entry["dim"]
    return out


def probe_models(c: dict) -> dict:
    """What verification_comparison reads beside ``models``: ``{probe_models: [...]}``, the
    models with an age probe (vectors), when score-file models leave some out; else {} (the
    rule's settings as before)."""
    with_vectors = vector_models(c)
    return {} if with_vectors == dataset_models(c) else {"probe_models": with_vectors}
