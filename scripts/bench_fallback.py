#!/usr/bin/env python3
"""How good is the no-face fallback? FG-NET faces cropped until dlib's HOG loses them.

    .venv/bin/python scripts/bench_fallback.py [--fgnet ../shared/datasets/fgnet] \
        [--images 1002] [--json out.json]

For each FG-NET image on which HOG finds a face, the face box is grown by a margin that
shrinks step by step (40 % of the box side on each side, then 30 %, ... down to -20 %) until
HOG finds no face in the crop. The last crop it still finds and the first it loses make a
small dataset, run through the workflow's own clean stage (``keep_all``, as a protocol run)
and embedding stage with dlib twice: the old fallback (``centre_crop``: the unaligned crop
resized to the chip) and the new one (``aligned``: dlib's 5-point landmarks in a box placed
like the dataset's detected faces, then the chip). Each lost crop's vector is compared with
the detected path's vector on the original image (cosine similarity); prints the median
and the 5th percentile of each (numbers for docs/models.md) and writes them to ``--json``.
Crops are written to a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MARGINS = (0.4, 0.3, 0.2, 0.1, 0.05, 0.0, -0.05, -0.1, -0.15, -0.2)


def tight_crops(image, face, detector):
    """(the last crop HOG still finds a face in, the first it does not) or None."""
    side = max(face.right - face.left, face.bottom - face.top)
    h, w = image.shape[:2]
    found = None
    for m in MARGINS:
        left, top = int(max(0, face.left - m * side)), int(max(0, face.top - m * side))
        right, bottom = int(min(w, face.right + m * side)), int(min(h, face.bottom + m * side))
        if right - left < 20 or bottom - top < 20:
            return None
        crop = np.ascontiguousarray(image[top:bottom, left:right])
        if detector(crop):
            found = crop
        elif found is not None:
            return found, crop
        else:
            return None
    return None


def measure(fgnet: Path, images: int, work: Path) -> dict:
    from PIL import Image

    from faceage.clean import clean_manifest, inspect_images
    from faceage.contracts import read_embeddings, write_manifest
    from faceage.datasets import build_manifest
    from faceage.detection import DlibDetector
    from faceage.embed import embed_shard
    from faceage.images import load_rgb
    from faceage.models import get_adapter
    from faceage.models.base import FaceChoice

    detector = DlibDetector("hog", 1)
    choice = FaceChoice("centre")
    dlib = get_adapter("dlib").load({}, None, None)
    reference = {}
    folder = work / "crops"
    files = sorted(p for p in fgnet.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:images]
    for f in files:
        image = load_rgb(f)
        face, _ = choice.choose(detector(image), image.shape)
        if face is None:
            continue
        crops = tight_crops(image, face, detector)
        if crops is None:
            continue
        (ref,) = dlib.embed_batch([image], [face])
        reference[f.stem] = ref.vector
        (folder / f.stem).mkdir(parents=True)
        for age, crop in zip((1, 2), crops, strict=True):
            Image.fromarray(crop).save(folder / f.stem / f"{age}.png")
    manifest, _ = build_manifest("folders", folder, 1)
    inspection = inspect_images(manifest, detector, face_choice="centre")
    clean, _ = clean_manifest(manifest, inspection, keep_all=True)
    write_manifest(clean, work / "manifest.tsv")
    lost = clean[clean["age"] == 2]
    out = {"images": len(files), "cropped_until_lost": len(reference)}
    for mode in ("centre_crop", "aligned"):
        embed_shard(
            "dlib",
            {"multi_face": "centre"},
            work,
            work / "manifest.tsv",
            0,
            work / f"{mode}.npz",
            work,
            fallback=mode,
        )
        emb = read_embeddings(work / f"{mode}.npz")
        row = {iid: i for i, iid in enumerate(emb["image_id"])}
        cos, routes = [], {}
        for iid, person in zip(lost["image_id"], lost["person"], strict=True):
            i = row[iid]
            how = str(emb["route"][i])
            routes[how] = routes.get(how, 0) + 1
            v, r = emb["vectors"][i], reference[person]
            cos.append(float(np.dot(v, r) / np.linalg.norm(v) / np.linalg.norm(r)))
        c = np.asarray(cos)
        out[mode] = {
            "n": len(c),
            "median": float(np.median(c)),
            "p05": float(np.percentile(c, 5)),
            "mean": float(c.mean()),
            "routes": routes,
        }
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fgnet", type=Path, default=ROOT.parent / "shared" / "datasets" / "fgnet")
    ap.add_argument("--images", type=int, default=10**6, help="the first N images (sorted)")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="faceage-fallback-") as tmp:
        out = measure(a.fgnet, a.images, Path(tmp))
    print(f"{out['cropped_until_lost']} of {out['images']} FG-NET images cropped until HOG lost")
    print("| fallback | crops | median cosine to the detected vector | 5th percentile | routes |")
    print("|---|---|---|---|---|")
    for mode in ("centre_crop", "aligned"):
        m = out[mode]
        print(f"| {mode} | {m['n']} | {m['median']:.3f} | {m['p05']:.3f} | {m['routes']} |")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
