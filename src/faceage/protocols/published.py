"""Published verification accuracies, with their sources, for ``benchmarks.tsv``.

A row applies to a model when the model's adapter names the same recogniser
(:meth:`faceage.models.base.ModelAdapter.published_id`; a model setting
``published_as`` names it for weights the adapter cannot recognise), the protocol is the
same benchmark (:func:`benchmark_of`) and the row's test-time ``settings`` equal the
model's (dlib's figures differ with ``jitter``). A protocol's own ``published:`` entry
always wins over this table.

Every figure is the 10-fold accuracy of the benchmark's standard protocol, as its source
states it; none is computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DLIB_SOURCE = (
    "dlib python_examples/face_recognition.py (dlib 19.x): 99.13% on LFW without jitter, "
    "99.38% with num_jitters=100; dlib.net blog, 2017-02-12, 'High Quality Face Recognition "
    "with Deep Metric Learning' (99.38% +- 0.27)"
)
INSIGHTFACE_ZOO = (
    "insightface model_zoo/README.md, '1. Face Recognition models' "
    "(github.com/deepinsight/insightface/tree/master/model_zoo)"
)


@dataclass(frozen=True)
class Published:
    """One published figure: ``model_id`` on ``benchmark`` with test-time ``settings``."""

    model_id: str
    benchmark: str
    accuracy: float
    source: str
    settings: dict = field(default_factory=dict)
    note: str = ""


PUBLISHED: tuple[Published, ...] = (
    Published("dlib_resnet_v1", "lfw", 0.9913, DLIB_SOURCE, {"jitter": 0, "flip": False}),
    Published("dlib_resnet_v1", "lfw", 0.9938, DLIB_SOURCE, {"jitter": 100, "flip": False}),
    # insightface's zoo: ArcFace loss; MobileFaceNet on MS1MV1, ResNet-100 on MS1MV2 (mxnet
    # models; insightface's evaluation adds the flipped image's embedding).
    *(
        Published("arcface_mfn_ms1mv1", b, a, INSIGHTFACE_ZOO, {"flip": True})
        for b, a in (("lfw", 0.9950), ("cfp_fp", 0.8894), ("agedb_30", 0.9591))
    ),
    *(
        Published("arcface_r100_ms1mv2", b, a, INSIGHTFACE_ZOO, {"flip": True})
        for b, a in (("lfw", 0.9977), ("cfp_fp", 0.9827), ("agedb_30", 0.9828))
    ),
)

# Benchmarks known by name (the schema's protocols[].benchmark enum, checked by
# tests/test_registries.py); a format that is one benchmark whatever the file says so in its
# registry entry (faceage.protocols.formats.FORMATS).
BENCHMARKS = (
    "lfw",
    "cfp_fp",
    "cfp_ff",
    "agedb_30",
    "agedb_20",
    "agedb_10",
    "agedb_5",
    "calfw",
    "cplfw",
    "cacd_vs",
)


def benchmark_of(fmt: str, file: str, declared: str = "") -> str:
    """The benchmark a protocol is ('' when unknown): ``declared`` (the protocol's
    ``benchmark`` setting) when given; LFW, CALFW and CPLFW by their formats; an insightface
    ``.bin`` by its file name (``agedb_30.bin``, ``cfp_fp.bin``, ``lfw.bin``); AgeDB's
    ``.mat`` protocols by the gap in its name (``04_FINAL_protocol_30_years.mat`` is
    AgeDB-30)."""
    if declared:
        return declared
    from faceage.protocols.formats import protocol_format

    entry = protocol_format(fmt)
    if entry.benchmark:
        return entry.benchmark
    stem = Path(file).stem.lower()
    if entry.named_by_benchmark:
        return stem if stem in BENCHMARKS else ""
    if fmt == "agedb_mat":
        for gap in ("5", "10", "20", "30"):
            if f"_{gap}_years" in stem or stem.endswith(f"_{gap}"):
                return f"agedb_{gap}"
    return ""


def lookup(model_id: str | None, benchmark: str, settings: dict) -> tuple[Published | None, bool]:
    """The published figure for ``model_id`` on ``benchmark``, and whether its test-time
    settings equal ``settings`` (a setting the model lacks reads as the row's). The row
    whose settings match comes first; else the first row for the model and benchmark
    (``False``: our run differs from the published procedure, and the table says how)."""
    rows = [
        r for r in PUBLISHED if model_id and r.model_id == model_id and r.benchmark == benchmark
    ]
    for row in rows:
        if all(settings.get(k, v) == v for k, v in row.settings.items()):
            return row, True
    return (rows[0], False) if rows else (None, False)


def describe(settings: dict) -> str:
    """Test-time settings as ``key=value`` text (``jitter=100 flip=True``)."""
    return " ".join(f"{k}={v}" for k, v in settings.items())
