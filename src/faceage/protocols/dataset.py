"""A protocol run's dataset: exactly the images the protocols name, as one manifest.

:func:`protocol_manifest` reads every configured protocol, finds each named
image (a file under the protocol's images folder, or an image inside an
insightface ``.bin``), and returns

* the manifest of the union of those images - an image named by several
  protocols appears once, so it is embedded once;
* the rejects: names that match no file (their pairs stay in the protocol
  and count as errors); links and special files in an images folder (never followed nor
  opened, :func:`faceage.datasets.base.walk_images`); and the pairs dropped as self pairs,
  contradictory labels or repeats (:mod:`.checks`), one row each;
* per protocol, its pairs with the matched image ids (``id_a``, ``id_b``), without the
  dropped pairs (``pair`` keeps the file's numbering).

Labels come from the names where they carry them (:mod:`.matching`);
nothing is dropped for a missing label.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from faceage.images import member_path
from faceage.protocols.checks import DROPPED, drop_problem_pairs, problem_counts
from faceage.protocols.formats import FORMATS, protocol_format, read_protocol
from faceage.protocols.formats.insightface_bin import bin_image_name, read_bin
from faceage.protocols.matching import LABELS, ImageIndex, labels_from_name, protocol_images

log = logging.getLogger(__name__)

PAIR_TABLE_COLUMNS = ["pair", "image_a", "image_b", "genuine", "fold", "id_a", "id_b"]


@dataclass(frozen=True)
class Protocol:
    """One configured protocol (``protocols:`` in the config)."""

    name: str
    file: str
    format: str
    images: str = ""
    labels: str = "none"
    aligned: bool = False
    published: dict = field(default_factory=dict)
    benchmark: str = ""


def protocol_name(entry: dict) -> str:
    """The protocol's name: ``name`` when given, else the file's stem (made file-name safe)."""
    name = entry.get("name") or Path(entry["file"]).stem
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def protocols_from_config(entries: list[dict]) -> list[Protocol]:
    """Protocols with their defaults filled in; names must be unique."""
    out = []
    for e in entries:
        fmt = e.get("format", "agedb_mat")
        if fmt not in FORMATS:
            raise ValueError(f"protocols: unknown format {fmt!r}; known: {', '.join(FORMATS)}")
        entry = protocol_format(fmt)
        labels = e.get("labels", "auto")
        if labels != "auto" and labels not in LABELS:
            raise ValueError(
                f"protocols: unknown labels {labels!r}; known: auto, {', '.join(LABELS)}"
            )
        out.append(
            Protocol(
                name=protocol_name(e),
                file=str(e["file"]),
                format=fmt,
                images=str(e.get("images", "") or ""),
                labels=entry.labels if labels == "auto" else labels,
                aligned=bool(e.get("aligned", entry.aligned)),
                published=dict(e.get("published", {}) or {}),
                benchmark=str(e.get("benchmark", "") or ""),
            )
        )
    names = [p.name for p in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"protocols: names {dup} used twice; give each protocol its own name")
    return out


# Reasons of the dataset walk that a protocol run reports too (a hidden or non-image file in
# an images folder is no finding: the protocol names the images it uses).
_WALK_FINDINGS = ("link_outside_dataset", "folder_link", "broken_link", "not_a_regular_file")


def _walk(root: Path) -> tuple[list[str], list[dict]]:
    """(the images under ``root``, rejects rows for the links and special files in it)."""
    from faceage.datasets.base import walk_images

    rels, rejects = [], []
    for rel, reason in walk_images(root):
        if reason is None:
            rels.append(rel)
        elif reason.split(":")[0] in _WALK_FINDINGS or reason.startswith("too_large"):
            path = root / Path(*PurePosixPath(rel).parts)
            rejects.append({"source": PurePosixPath(rel).name, "path": str(path), "reason": reason})
    return rels, rejects


class _Roots:
    """A short, unique label per images folder or .bin file (the first part of image ids)."""

    def __init__(self):
        self._label: dict[str, str] = {}

    def label(self, path: Path) -> str:
        key = str(path.resolve())
        if key not in self._label:
            base = (
                re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem if path.is_file() else path.name)
                or "images"
            )
            label, k = base, 2
            while label in self._label.values():
                label, k = f"{base}_{k}", k + 1
            self._label[key] = label
        return self._label[key]


def protocol_manifest(
    protocols: list[Protocol],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    """(manifest rows without shard, rejects, {protocol name: pairs with id_a/id_b})."""
    roots = _Roots()
    rows: dict[str, dict] = {}
    rejects: list[dict] = []
    tables: dict[str, pd.DataFrame] = {}
    walked: dict[str, tuple[list[str], ImageIndex]] = {}
    for p in protocols:
        pairs = read_protocol(p.file, p.format)
        id_of: dict[str, str | None] = {}
        if FORMATS[p.format].images_inside:  # insightface .bin: the images are in the file
            container = Path(p.file).resolve()
            label = roots.label(container)
            images, _ = read_bin(container)
            for i in range(len(images)):
                name = bin_image_name(i)
                iid = f"{label}/{name}"
                id_of[name] = iid
                rows.setdefault(
                    iid,
                    {
                        "image_id": iid,
                        "path": member_path(container, i),
                        "person": None,
                        "age": None,
                        "gender": None,
                        "source": f"{container.name}#{i}",
                        "aligned": p.aligned,
                    },
                )
        else:
            if not p.images or not Path(p.images).is_dir():
                raise FileNotFoundError(
                    f"protocol {p.name}: images folder {p.images!r} does not exist"
                )
            root = Path(p.images).resolve()
            label = roots.label(root)
            if str(root) not in walked:
                rels, found = _walk(root)
                rejects.extend(found)
                walked[str(root)] = (rels, ImageIndex(rels))
            _, index = walked[str(root)]
            for name in protocol_images(pairs):
                rel = index.find(name)
                if rel is None:
                    id_of[name] = None
                    rejects.append(
                        {
                            "source": name,
                            "path": str(root / name),
                            "reason": (
                                f"not_found: named by protocol {p.name}, no such image under {root}"
                            ),
                        }
                    )
                    continue
                iid = f"{label}/{rel}"
                id_of[name] = iid
                if iid not in rows:
                    lab = labels_from_name(rel, p.labels)
                    rows[iid] = {
                        "image_id": iid,
                        "path": str(root / Path(*PurePosixPath(rel).parts)),
                        "source": PurePosixPath(rel).name,
                        "aligned": p.aligned,
                        **lab,
                    }
        t = pairs.copy()
        t.insert(0, "pair", range(len(t)))
        t["id_a"] = pd.array([id_of.get(n) for n in t["image_a"].astype(str)], dtype="string")
        t["id_b"] = pd.array([id_of.get(n) for n in t["image_b"].astype(str)], dtype="string")
        n_listed = len(t)
        t, found = drop_problem_pairs(t)
        if len(found):
            counts = problem_counts(found)
            log.warning(
                "WARNING protocol %s (%s): %d of %d pairs dropped, never scored (%s); %d "
                "repeated pairs kept and scored as listed (each listed in rejects.tsv)",
                p.name,
                p.file,
                n_listed - len(t),
                n_listed,
                ", ".join(f"{n} {r}" for r, n in counts.items() if r in DROPPED) or "none",
                counts.get("duplicate_pair", 0),
            )
        for r in found.itertuples(index=False):
            fate = "dropped" if r.reason in DROPPED else "kept"
            rejects.append(
                {
                    "source": f"{r.image_a} | {r.image_b}",
                    "path": str(p.file),
                    "reason": f"{r.reason}: protocol {p.name} pair {r.pair}: {r.detail}; {fate}",
                }
            )
        tables[p.name] = t[PAIR_TABLE_COLUMNS].reset_index(drop=True)
    manifest = pd.DataFrame(
        list(rows.values()),
        columns=["image_id", "path", "person", "age", "gender", "source", "aligned"],
    )
    manifest["aligned"] = manifest["aligned"].astype("boolean")
    rej = pd.DataFrame(rejects, columns=["source", "path", "reason"]).drop_duplicates()
    return manifest, rej.reset_index(drop=True), tables
