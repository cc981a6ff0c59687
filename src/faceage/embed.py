"""The embedding stage: each image embedded once per model, in batches.

``prepare`` runs once per model before any shard: it checks that the weights
are present (stopping with a message that names each missing file), runs the
adapter's one-off preparation and writes ``provenance.json``. ``embed_shard``
then embeds the images of one shard. An image that cannot be decoded or
embedded gets a NaN vector and a status saying why; the rest of the shard
goes on.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from faceage.adapters import Stopwatch, failure_status, with_retry
from faceage.contracts import FACE_COLUMNS, atomic_path, own_content, read_table, write_embeddings
from faceage.images import DEFAULT_MAX_SIDE, ImageError, load_rgb
from faceage.models import get_adapter
from faceage.models.base import (
    Face,
    FaceResult,
    FlipEmbedder,
    ModelAdapter,
    centre_crop,
    centre_offset,
    test_time,
)

log = logging.getLogger(__name__)

# Used only for a fitting model that does not say (eigenfaces' fit_images).
FIT_IMAGES = 2000


def clean_face(row) -> Face | None:
    """The cleaning detector's face for a manifest row, or None."""
    if all(c in row for c in FACE_COLUMNS) and not pd.isna(row["face_left"]):
        return Face(
            float(row["face_left"]),
            float(row["face_top"]),
            float(row["face_right"]),
            float(row["face_bottom"]),
            float(row["face_score"]) if not pd.isna(row["face_score"]) else float("nan"),
        )
    return None


def iter_images(
    rows: pd.DataFrame, max_side: int
) -> Iterator[tuple[int, np.ndarray | None, Face | None, str]]:
    """Yield (row position, image or None, clean face, status) per manifest row."""
    for pos, (_, row) in enumerate(rows.iterrows()):
        try:
            image = load_rgb(row["path"], max_side)
            yield pos, image, clean_face(row), "ok"
        except ImageError as exc:
            yield pos, None, None, f"{exc.reason}: {exc.detail}"


def write_provenance(path: str | Path, info: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")


def prepare(
    model: str,
    settings: dict,
    weights_dir: str | Path,
    manifest_path: str | Path,
    state_dir: str | Path,
    provenance_path: str | Path,
    max_side: int = DEFAULT_MAX_SIDE,
    fit_images: int | None = None,
    seed: int = 0,
) -> dict:
    """Check weights, run the adapter's one-off preparation, load the model once, write provenance.

    ``fit_images`` (images a fitting model such as eigenfaces learns from) defaults to the
    model setting of that name, else :data:`FIT_IMAGES`.
    """
    from faceage.contracts import require_images

    require_images(read_table(manifest_path), manifest_path)
    adapter = get_adapter(model)
    if fit_images is None:
        fit_images = int(adapter.resolved(settings).get("fit_images", FIT_IMAGES))
    weights_dir = Path(weights_dir)
    adapter.check_weights(settings, weights_dir)
    from faceage import __version__

    info = {
        "faceage_version": __version__,
        "python": sys.version.split()[0],
        **adapter.provenance(settings, weights_dir),
        "test_time": test_time(settings),
    }
    if type(adapter).prepare is not ModelAdapter.prepare:
        manifest = own_content(read_table(manifest_path))
        if len(manifest) > fit_images:
            manifest = manifest.sample(n=fit_images, random_state=seed).sort_values("image_id")
        images = (
            (im, face) for _, im, face, status in iter_images(manifest, max_side) if status == "ok"
        )
        info["prepared"] = adapter.prepare(settings, weights_dir, images, Path(state_dir))
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    # Load the model once here: a package missing from this interpreter, or weights
    # that are present but unreadable, stop the run now, before any embedding job.
    adapter.load(settings, weights_dir, Path(state_dir))
    write_provenance(provenance_path, info)
    return info


FALLBACKS = ("none", "aligned", "centre_crop")
# The fallback box is sized and placed like the faces the cleaning detector found in the
# whole dataset (their median position and side relative to the image) when it found at
# least this many; the same box for every shard, so no vector depends on the sharding.
MIN_FACES_FOR_BOX = 5


def typical_face(manifest: pd.DataFrame) -> tuple[float, float, float] | None:
    """The median face of the cleaning detector over ``manifest`` as (centre x / width,
    centre y / height, side / shorter image side); None with fewer than
    :data:`MIN_FACES_FOR_BOX` faces (or no detector)."""
    need = FACE_COLUMNS[1:5] + ["width", "height"]
    if any(c not in manifest for c in need):
        return None
    t = manifest[need].apply(pd.to_numeric, errors="coerce").dropna()
    if len(t) < MIN_FACES_FOR_BOX:
        return None
    w, h = t["width"].to_numpy(float), t["height"].to_numpy(float)
    cx = (t["face_left"] + t["face_right"]).to_numpy(float) / 2 / w
    cy = (t["face_top"] + t["face_bottom"]).to_numpy(float) / 2 / h
    side = np.sqrt(
        (t["face_right"] - t["face_left"]).to_numpy(float)
        * (t["face_bottom"] - t["face_top"]).to_numpy(float)
    ) / np.minimum(w, h)
    return float(np.median(cx)), float(np.median(cy)), float(np.median(side))


def guessed_box(typical: tuple[float, float, float] | None, shape, fallback_crop: float) -> Face:
    """Where the face probably is in an image of ``shape`` on which the detector found none:
    a square at the ``typical`` face's relative position and side (:func:`typical_face`),
    else a centred square of ``fallback_crop`` of the shorter side. dlib's maintainer's
    convention for LFW: the detector's box, else a box in the middle of the image."""
    h, w = shape[:2]
    if typical is not None:
        cx, cy, side = typical[0] * w, typical[1] * h, typical[2] * min(h, w)
    else:
        cx, cy, side = w / 2, h / 2, fallback_crop * min(h, w)
    return Face(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def embed_shard(
    model: str,
    settings: dict,
    weights_dir: str | Path,
    manifest_path: str | Path,
    shard: int,
    out_path: str | Path,
    state_dir: str | Path,
    max_side: int = DEFAULT_MAX_SIDE,
    batch_size: int | None = None,
    fallback: str = "none",
    fallback_crop: float = 1.0,
) -> dict:
    """Embed every image of ``shard`` in ``manifest_path`` with ``model``; write one npz.

    Aliases (``alias_of`` set) are skipped: the merge step gives them their
    original's vector. Images marked ``aligned`` in the manifest (or all,
    with the model setting ``aligned_input``) are embedded as aligned crops.
    The model setting ``flip`` adds each image's mirror image's embedding
    (:class:`faceage.models.base.FlipEmbedder`).

    An image on which the model finds no face gets, after the shard's other
    images, the no-face ``fallback``: with ``aligned``, the model's own
    alignment on :func:`guessed_box` (``route`` ``fallback_aligned``), and where
    the model has none or it fails, the unaligned centre crop (``fallback_crop``
    of the shorter side, embedded as an aligned crop; ``route`` ``fallback_crop``);
    with ``centre_crop``, the centre crop alone. ``batch_size`` defaults to the
    model's setting of that name (its default: :meth:`ModelAdapter.resolved`).
    """
    if fallback not in FALLBACKS:
        raise ValueError(f"no-face fallback must be one of {FALLBACKS}, got {fallback!r}")
    adapter = get_adapter(model)
    if batch_size is None:
        batch_size = int(adapter.resolved(settings)["batch_size"])
    manifest = own_content(read_table(manifest_path))
    rows = manifest[manifest["shard"] == shard].reset_index(drop=True)
    aligned = np.zeros(len(rows), dtype=bool)
    if "aligned" in rows:
        aligned = rows["aligned"].fillna(False).to_numpy(dtype=bool)
    if settings.get("aligned_input", False):
        aligned[:] = True
    clock = Stopwatch()
    embedder = adapter.load(settings, Path(weights_dir), Path(state_dir))
    embedder.name = embedder.name or model
    if settings.get("flip", False):
        embedder = FlipEmbedder(embedder)
    clock.loaded()
    n = len(rows)
    vectors: list[np.ndarray | None] = [None] * n
    status = ["not_run"] * n
    route = [""] * n
    n_faces = np.full(n, -1, dtype=np.int32)
    box = np.full((n, 4), np.nan, dtype=np.float32)
    score = np.full(n, np.nan, dtype=np.float32)
    offset = np.full(n, np.nan, dtype=np.float32)
    typical = typical_face(manifest)  # where the no-face fallback looks
    no_face: list[int] = []
    step = max(1, n // 10)
    progress = {"next": step}

    def run(call, items):
        """``call`` on the whole batch; when it fails, on each item alone.

        One bad image sinks nothing.
        """
        return with_retry(call, items, lambda exc: FaceResult(None, failure_status(exc)))

    def aligned_results(crops):
        try:
            return run(embedder.embed_aligned, crops)
        except NotImplementedError as exc:
            return [FaceResult(None, f"error: {exc}") for _ in crops]

    def record(pos, image, res, how):
        vectors[pos] = res.vector
        status[pos] = (
            "ok" if res.vector is not None else (res.status if res.status != "ok" else "no_vector")
        )
        route[pos] = how if res.vector is not None else ""
        n_faces[pos] = res.n_faces
        if res.face is not None:
            box[pos] = res.face.as_box()
            score[pos] = res.face.score
            offset[pos] = centre_offset(res.face, image.shape)

    def flush(batch):
        if not batch:
            return
        positions = [b[0] for b in batch]
        direct = [b for b in batch if aligned[b[0]]]
        detect = [b for b in batch if not aligned[b[0]]]
        for b, res in zip(direct, aligned_results([b[1] for b in direct]), strict=True):
            record(b[0], b[1], res, "aligned")
        results = run(
            lambda items: embedder.embed_batch([i[1] for i in items], [i[2] for i in items]), detect
        )
        for b, res in zip(detect, results, strict=True):
            record(b[0], b[1], res, "detected")
            if res.vector is None and res.status == "no_face" and fallback != "none":
                no_face.append(b[0])
        batch.clear()
        done = positions[-1] + 1
        if progress["next"] <= done < n:  # about every 10 %: a killed job shows how far it got
            log.info("embedded %d/%d images so far", done, n)
            progress["next"] = done + step

    def rescue(batch):
        """The no-face fallback for a batch of (position, image)."""
        if not batch:
            return
        results: list[FaceResult | None] = [None] * len(batch)
        if fallback == "aligned":
            guesses = [guessed_box(typical, b[1].shape, fallback_crop) for b in batch]
            try:
                results = run(
                    lambda items: embedder.embed_fallback(
                        [i[1] for i in items], [i[2] for i in items]
                    ),
                    [(b[0], b[1], g) for b, g in zip(batch, guesses, strict=True)],
                )
            except NotImplementedError:
                pass  # the model has no aligned fallback: the centre crop for all
        for b, res in zip(batch, results, strict=True):
            if res is not None and res.vector is not None:
                record(b[0], b[1], res, "fallback_aligned")
                n_faces[b[0]] = 0
        last = [
            b for b, res in zip(batch, results, strict=True) if res is None or res.vector is None
        ]
        crops = [centre_crop(b[1], fallback_crop) for b in last]
        for b, res in zip(last, aligned_results(crops), strict=True):
            if res.vector is not None:
                vectors[b[0]], status[b[0]], route[b[0]] = res.vector, "ok", "fallback_crop"
            else:
                status[b[0]] = f"no_face; fallback failed: {res.status}"
        batch.clear()

    batch = []
    for pos, image, face, st in iter_images(rows, max_side):
        if image is None:
            status[pos] = st
            continue
        batch.append((pos, image, face))
        if len(batch) >= batch_size:
            flush(batch)
    flush(batch)
    # The fallback runs after the shard's other images; the few it needs are read again
    # rather than held.
    for pos, image, _, _ in iter_images(rows.iloc[no_face], max_side):
        if image is not None:
            batch.append((no_face[pos], image))
        if len(batch) >= batch_size:
            rescue(batch)
    rescue(batch)
    speed = clock.speed(n)
    dim = embedder.dim
    if dim == 0:
        dim = next((len(v) for v in vectors if v is not None), 0)
    mat = np.full((n, dim), np.nan, dtype=np.float32)
    for i, v in enumerate(vectors):
        if v is not None:
            mat[i] = v
    write_embeddings(
        out_path,
        rows["image_id"].to_numpy(dtype=str),
        mat,
        status,
        n_faces,
        box,
        score,
        route,
        offset,
    )
    ok = sum(s == "ok" for s in status)
    summary = {
        "model": model,
        "shard": shard,
        "embedded": ok,
        "fallback_aligned": route.count("fallback_aligned"),
        "fallback_crop": route.count("fallback_crop"),
        "aligned": route.count("aligned"),
        **speed,  # model loading excluded, as for the estimators (faceage.adapters.Stopwatch)
    }
    log.info("embedded %s", summary)
    return summary
