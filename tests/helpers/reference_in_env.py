"""The library's own answer for the same pixels, as a reference for an adapter.

Run in the model's env:

    .venvs/<env>/bin/python tests/helpers/reference_in_env.py --model insightface|deepface \
        --settings JSON --weights DIR --manifest M.tsv --out ref.npz

insightface: ``FaceAnalysis(...).get(bgr)`` -> the largest face's ``normed_embedding``.
deepface: ``DeepFace.represent(bgr, model_name, detector_backend, align, ...)`` -> the largest
face's ``embedding``. Each image is decoded by ``faceage.images.load_rgb`` (the pixels the
adapter sees) and handed over as BGR, the libraries' documented order.
"""

import argparse
import json

import numpy as np

from faceage.contracts import read_table
from faceage.images import load_rgb


def insightface_ref(settings, weights, paths):
    from insightface.app import FaceAnalysis

    from faceage.models.insightface_pack import model_root, resolved

    s = resolved(settings)
    app = FaceAnalysis(
        name=s["pack"],
        root=str(model_root(s, weights)),
        allowed_modules=["detection", "recognition"],
        providers=["CPUExecutionProvider"],
    )
    app.prepare(ctx_id=0, det_thresh=float(s["det_thresh"]), det_size=(320, 320))
    out = []
    for p in paths:
        faces = app.get(np.ascontiguousarray(load_rgb(p)[:, :, ::-1]))
        if not faces:
            out.append(None)
            continue
        best = max(faces, key=lambda f: (f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1]))
        out.append(best.normed_embedding)
    return out


def deepface_ref(settings, weights, paths):
    from faceage.models.deepface_model import resolved, set_environment

    s = resolved(settings)
    set_environment(s, weights)
    from deepface import DeepFace

    out = []
    for p in paths:
        objs = DeepFace.represent(
            img_path=np.ascontiguousarray(load_rgb(p)[:, :, ::-1]),
            model_name=s["model_name"],
            detector_backend=s["detector_backend"],
            enforce_detection=False,
            align=bool(s["align"]),
            expand_percentage=int(s["expand_percentage"]),
            normalization=s["normalization"],
        )
        objs = [
            o for o in objs if o.get("face_confidence", 1) > 0
        ]  # deepface's whole-image stand-in: no face
        if not objs:
            out.append(None)
            continue
        best = max(objs, key=lambda o: o["facial_area"]["w"] * o["facial_area"]["h"])
        out.append(best["embedding"])
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, choices=["insightface", "deepface"])
    ap.add_argument("--settings", default="{}")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    man = read_table(a.manifest)
    fn = insightface_ref if a.model == "insightface" else deepface_ref
    from pathlib import Path

    vecs = fn(json.loads(a.settings), Path(a.weights), list(man["path"]))
    dim = next(len(v) for v in vecs if v is not None)
    mat = np.full((len(vecs), dim), np.nan, dtype=np.float64)
    for i, v in enumerate(vecs):
        if v is not None:
            mat[i] = v
    np.savez(a.out, image_id=man["image_id"].to_numpy(dtype=str), vectors=mat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
