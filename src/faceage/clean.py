"""The clean stage: remove what would poison the study, and say why.

Two steps. :func:`inspect_images` (one job per shard) decodes every image
once, hashes its bytes and counts faces with the cleaning detector.
:func:`clean_manifest` then applies, in this order:

1. manual decisions from ``config/overrides.tsv`` (``drop`` or ``relabel``);
2. label checks: missing or impossible age, unknown gender code;
3. undecodable, empty, tiny or absurdly large files;
4. exact duplicate content (same bytes under several names): not removed but
   listed as ``alias`` of the first image id; an alias is decoded, detected
   and embedded once, as its original, and every name gets that vector (the
   comparisons stage leaves out pairs of two copies of one photo). Copies
   labelled as *different persons* are a label conflict (one photo cannot be
   two people, and would make an impostor pair of one photo): every copy is
   removed as ``conflicting_labels``, naming the others; to keep one, drop
   the others (or relabel them) in ``config/overrides.tsv``;
5. no face, or several faces (the face choice ``drop``, or ``centre`` /
   ``largest``: keep the face nearest the centre or the largest, and flag the image;
   :class:`faceage.models.base.FaceChoice`);
6. persons left with fewer than ``min_images_per_person`` distinct photos
   (copies of one photo count once; a person with none left is removed too).

Every removed, relabelled, flagged or aliased image gets one row per reason
in the cleaning report. The user's files are never moved or deleted.

A protocol run (``keep_all=True``) removes nothing: every image a protocol
names is kept, and what would have removed it is reported as ``flagged``
(its pairs are then scored through the no-face fallback or counted as
errors, see :mod:`faceage.protocols.evaluation`).
"""

from __future__ import annotations

import pandas as pd

from faceage.contracts import (
    CLEAN_COLUMNS,
    FACE_COLUMNS,
    REPORT_COLUMNS,
    first_copies,
)
from faceage.images import MAX_FILE_BYTES, ImageError, file_digest, load_rgb

REASONS = {
    "manual_drop": "dropped by a decision in the overrides file",
    "manual_relabel": "a label changed by a decision in the overrides file",
    "override_unknown_image": "an override names an image that is not in the manifest (ignored)",
    "missing_age": "no age label",
    "impossible_age": "age label outside the configured plausible range",
    "bad_gender": "gender label is not M or F",
    "empty_file": "the file has 0 bytes",
    "not_an_image": "the file is in no image format Pillow knows (e.g. text named .jpg)",
    "truncated": "the image file ends early (an interrupted copy or download)",
    "undecodable": "the file cannot be decoded as an image (corrupt data)",
    "unreadable": "the file cannot be read",
    "too_small": "the image is too small to hold a usable face",
    "too_large": (
        "the file or the pixel count its header claims is beyond what is read or decoded "
        "(faceage.images.MAX_FILE_BYTES, MAX_PIXELS)"
    ),
    "not_a_regular_file": "a FIFO, device or socket (or a link to one): never opened",
    "duplicate_content": (
        "same bytes as another image: an alias of the first image id, embedded once"
    ),
    "conflicting_labels": (
        "same bytes as an image labelled as another person: one photo under two names"
    ),
    "no_face": "the cleaning detector found no face",
    "several_faces": "the cleaning detector found more than one face",
    "too_few_images": "the person has fewer images left than min_images_per_person",
}

INSPECT_COLUMNS = ["image_id", "status", "detail", "width", "height", "sha256"] + FACE_COLUMNS


def inspect_images(
    manifest: pd.DataFrame, detector=None, max_side: int = 1600, face_choice: str = "centre"
) -> pd.DataFrame:
    """Decode, hash and (optionally) detect faces in every image of ``manifest``.

    ``detector`` is a callable image -> list of :class:`faceage.models.base.Face`
    (or None to skip face detection). Returns one row per image
    (:data:`INSPECT_COLUMNS`): ``status`` is ``ok`` or the reason the image
    cannot be used (a code of :data:`REASONS`), ``detail`` what went wrong; the face
    columns describe the face ``face_choice`` picks (``drop`` describes the largest: the
    clean stage removes the image anyway).
    """
    from faceage.models.base import FaceChoice

    choice = FaceChoice("largest" if face_choice == "drop" else face_choice)

    rows = []
    for _, rec in manifest.iterrows():
        row = dict.fromkeys(INSPECT_COLUMNS)
        row["image_id"] = rec["image_id"]
        try:
            known = rec.get("sha256")  # the dataset stage hashed every file already
            if not isinstance(known, str):
                known = file_digest(rec["path"], MAX_FILE_BYTES)
            row["sha256"] = known
            image = load_rgb(rec["path"], max_side)
        except (ImageError, OSError) as exc:
            reason = exc.reason if isinstance(exc, ImageError) else "unreadable"
            detail = exc.detail if isinstance(exc, ImageError) else str(exc)
            row["status"], row["detail"] = reason, detail
            rows.append(row)
            continue
        row["status"] = "ok"
        row["height"], row["width"] = image.shape[:2]
        if detector is not None:
            faces = detector(image)
            row["n_faces"] = len(faces)
            best, _ = choice.choose(faces, image.shape)
            if best is not None:
                row["face_left"], row["face_top"], row["face_right"], row["face_bottom"] = (
                    best.as_box()
                )
                row["face_score"] = best.score
        rows.append(row)
    out = pd.DataFrame(rows, columns=INSPECT_COLUMNS)
    for col in ("width", "height", "n_faces"):
        out[col] = pd.array(out[col], dtype="Int64")
    return out


class _Report:
    def __init__(self, manifest: pd.DataFrame):
        self.rows: list[dict] = []
        self._info = manifest.set_index("image_id")[["source", "person"]].to_dict("index")

    def add(self, image_id: str, action: str, reason: str, detail: str = "") -> None:
        info = self._info.get(image_id, {"source": "", "person": ""})
        self.rows.append(
            {
                "image_id": image_id,
                "source": info["source"],
                "person": info["person"],
                "action": action,
                "reason": reason,
                "detail": detail,
            }
        )

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=REPORT_COLUMNS)


def apply_overrides(
    manifest: pd.DataFrame, overrides: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[dict]]:
    """The manifest with the overrides' relabels applied, and one decision per override.

    The one reading of ``config/overrides.tsv`` (the clean stage and the
    attribute branch both use it): a decision is a dict with ``index`` (the
    row), ``image_id``, ``action`` (``drop``, ``relabel`` or ``unknown`` for an
    image not in the manifest), ``field``, ``old``, ``value`` and ``note``.
    Drops are decisions only: the caller removes those rows.
    """
    df = manifest.copy()
    decisions: list[dict] = []
    if overrides is None or not len(overrides):
        return df, decisions
    by_id = pd.Series(df.index, index=df["image_id"])
    for _, ov in overrides.iterrows():
        iid = ov["image_id"]
        note = ov.get("note", "")
        d = {"image_id": iid, "index": None, "field": "", "old": None, "value": "", "note": note}
        if iid not in by_id.index:
            decisions.append({**d, "action": "unknown"})
            continue
        i = by_id[iid]
        if ov["action"] == "drop":
            decisions.append({**d, "index": i, "action": "drop"})
            continue
        field, value = ov["field"], ov["value"]
        old = df.at[i, field]
        if field == "age":
            df.at[i, field] = int(value) if value != "" else pd.NA
        else:
            df.at[i, field] = value if value != "" else pd.NA
        decisions.append(
            {**d, "index": i, "action": "relabel", "field": field, "old": old, "value": value}
        )
    return df, decisions


def clean_manifest(
    manifest: pd.DataFrame,
    inspection: pd.DataFrame,
    overrides: pd.DataFrame | None = None,
    *,
    multi_face: str = "centre",
    min_images_per_person: int = 8,
    age_range: tuple[int, int] = (0, 120),
    require_age: bool = True,
    detector_used: bool = True,
    keep_all: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the cleaning rules; return (clean manifest, cleaning report).

    ``keep_all`` (protocol runs): nothing is removed, every finding is flagged,
    labels are not required and overrides are not applied.
    """
    from faceage.models.base import FACE_CHOICES

    if multi_face not in FACE_CHOICES:
        raise ValueError(f"multi_face must be one of {FACE_CHOICES}, got {multi_face!r}")
    df = manifest.copy()
    if "alias_of" not in df:
        df["alias_of"] = pd.array([pd.NA] * len(df), dtype="string")
    report = _Report(df)
    keep = pd.Series(True, index=df.index)

    def remove(i, reason: str, detail: str = "") -> None:
        if keep_all:
            report.add(df.at[i, "image_id"], "flagged", reason, detail)
        else:
            keep[i] = False
            report.add(df.at[i, "image_id"], "removed", reason, detail)

    if keep_all:
        overrides, require_age, min_images_per_person = None, False, 0

    # 1. manual decisions
    if overrides is not None:
        df, decisions = apply_overrides(df, overrides)
        for d in decisions:
            iid = d["image_id"]
            if d["action"] == "unknown":
                report.add(iid, "ignored", "override_unknown_image", d["note"])
            elif d["action"] == "drop":
                keep[d["index"]] = False
                report.add(iid, "removed", "manual_drop", d["note"])
            else:
                if d["field"] == "person":
                    report._info[iid]["person"] = d["value"]
                report.add(
                    iid,
                    "relabelled",
                    "manual_relabel",
                    f"{d['field']}: {d['old']} -> {d['value']}"
                    + (f" ({d['note']})" if d["note"] else ""),
                )

    # 2. label checks
    lo, hi = age_range
    for i in df.index[keep]:
        age = df.at[i, "age"]
        if pd.isna(age):
            if require_age:
                remove(i, "missing_age")
        elif not lo <= int(age) <= hi:
            remove(i, "impossible_age", f"age {age} outside [{lo}, {hi}]")
        gender = df.at[i, "gender"]
        if not pd.isna(gender) and gender not in ("M", "F"):
            remove(i, "bad_gender", f"gender {gender!r}")

    # 3. decoding (an alias was inspected as its original: it takes its findings)
    insp = inspection.set_index("image_id")
    looked_up = df["alias_of"].fillna(df["image_id"]).astype(str)
    missing = set(looked_up) - set(insp.index)
    if missing:
        raise ValueError(f"inspection lacks {len(missing)} images, e.g. {sorted(missing)[:3]}")
    insp = insp.loc[looked_up]
    insp.index = df.index
    for i in df.index[keep]:
        status = insp.at[i, "status"]
        if status != "ok":
            detail = insp.at[i, "detail"] if "detail" in insp else ""
            remove(
                i,
                status if status in REASONS else "undecodable",
                "" if pd.isna(detail) else str(detail),
            )

    # 4. exact duplicates: an alias of the first image id still kept with the same bytes;
    # copies under different persons are a label conflict (removed; flagged in protocol runs)
    df["sha256"] = insp["sha256"].astype("string")
    for i, detail in label_conflicts(df[keep]).items():
        remove(i, "conflicting_labels", detail)
    alias = first_copies(df, keep)

    # 5. faces (with the image's decoded size: the face boxes' frame)
    for col in FACE_COLUMNS + ["width", "height"]:
        df[col] = insp[col]
    if detector_used:
        for i in df.index[keep]:
            n = insp.at[i, "n_faces"]
            if pd.isna(n):
                continue
            if n == 0:
                remove(i, "no_face")
            elif n > 1:
                if multi_face == "drop":
                    remove(i, "several_faces", f"{n} faces")
                else:
                    report.add(
                        df.at[i, "image_id"],
                        "flagged",
                        "several_faces",
                        f"{n} faces; kept the "
                        + ("largest" if multi_face == "largest" else "one nearest the centre"),
                    )

    # 6. too few images per person (distinct photos: copies of one photo count once; a person
    # whose every image is a copy of another's photo has none and is removed too)
    persons = pd.Index(df.loc[keep, "person"].dropna().unique())
    counts = df[keep & alias.isna()].groupby("person").size().reindex(persons, fill_value=0)
    few = counts[counts < min_images_per_person]
    for i in df.index[keep]:
        p = df.at[i, "person"]
        if p in few.index:
            remove(
                i,
                "too_few_images",
                f"person {p} has {few[p]} < {min_images_per_person} distinct images",
            )

    # aliases among the images finally kept (a removed original hands over to its first copy)
    df["alias_of"] = first_copies(df, keep)
    for i in df.index[keep & df["alias_of"].notna()]:
        report.add(
            df.at[i, "image_id"],
            "alias",
            "duplicate_content",
            f"same bytes as {df.at[i, 'alias_of']}: embedded once, shares its vector",
        )

    clean = df[keep].reset_index(drop=True)
    rep = report.frame()
    if len(rep):
        rep = rep.sort_values(["image_id", "action", "reason"], kind="stable").reset_index(
            drop=True
        )
    return clean[CLEAN_COLUMNS + [c for c in clean.columns if c not in CLEAN_COLUMNS]], rep


def label_conflicts(table: pd.DataFrame) -> dict:
    """``{row index: detail}`` for every image whose bytes (``sha256``) also appear under another
    person: the detail names the other copies and their persons, and how to keep one."""
    hashed = table[table["sha256"].notna() & table["person"].notna()]
    groups = hashed.groupby("sha256", sort=False)
    out = {}
    for _, g in groups:
        if g["person"].nunique() < 2:
            continue
        for i in g.index:
            others = g.drop(index=i)
            others = others[others["person"] != g.at[i, "person"]]
            names = ", ".join(
                f"{iid} (person {p})"
                for iid, p in zip(others["image_id"], others["person"], strict=True)
            )
            out[i] = (
                f"same bytes as {names}: one photo under two persons; to keep one copy, drop "
                "the others in config/overrides.tsv"
            )
    return out


def summarise(manifest: pd.DataFrame, clean: pd.DataFrame, report: pd.DataFrame) -> pd.DataFrame:
    """Counts per reason and action, plus totals: what the cleaning did, at a glance."""
    rows = [
        {"what": "images in manifest", "count": len(manifest)},
        {"what": "persons in manifest", "count": manifest["person"].nunique()},
        {"what": "images kept", "count": len(clean)},
        {"what": "persons kept", "count": clean["person"].nunique()},
    ]
    if len(report):
        for (action, reason), n in report.groupby(["action", "reason"]).size().items():
            rows.append({"what": f"{action}: {reason}", "count": int(n)})
    return pd.DataFrame(rows)
