"""Files of vectors and scores as another tool makes them, for the demo (docs/external.md).

Reads the demo's images (``<folder>/<person>/<age>.png``) with PIL and numpy alone (no
faceage: a stand-in for your own model) and writes, into ``--out``:

* ``vectors.parquet``: column ``path`` (as the workflow's manifest names each image) and
  ``v0``..``v63``, a fixed random projection of each 32x32 grey image - leaving out every
  40th image and adding one image the dataset does not have, so the report has something to
  say;
* ``scores.csv``: a bob.bio CSV score file of every pair of images (probe_/bio_ref_
  template_id = the image id ``<person>/<age>.png``, subject_id = the person), the score the
  correlation of the two images' colour histograms (higher = more alike);
* ``pyeer/genuine.txt``, ``pyeer/impostor.txt`` and ``pyeer/pairs.csv``: the same scores as
  pyeer's files, and the pairs they score (genuine lines first).

    python scripts/external_demo_files.py resources/demo --out resources/external
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def images(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.png"))


def projection(paths: list[Path], dim: int = 64, seed: int = 0) -> np.ndarray:
    """A fixed random projection of each 32x32 grey image to ``dim`` numbers."""
    grey = np.stack(
        [np.asarray(Image.open(p).convert("L").resize((32, 32)), np.float32).ravel() for p in paths]
    )
    grey -= grey.mean(axis=1, keepdims=True)
    basis = np.random.default_rng(seed).normal(size=(grey.shape[1], dim)).astype(np.float32)
    return grey @ basis


def histograms(paths: list[Path], bins: int = 8) -> np.ndarray:
    """Each image's joint RGB histogram (bins**3 counts), centred and of unit length."""
    out = []
    for p in paths:
        rgb = np.asarray(Image.open(p).convert("RGB"), np.int64) * bins // 256
        code = (rgb[..., 0] * bins + rgb[..., 1]) * bins + rgb[..., 2]
        h = np.bincount(code.ravel(), minlength=bins**3).astype(np.float64)
        h -= h.mean()
        out.append(h / np.linalg.norm(h))
    return np.stack(out)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", type=Path, help="the demo's images (its dataset_path)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    paths = images(args.folder)
    if not paths:
        raise SystemExit(f"{args.folder}: no <person>/<age>.png images")
    args.out.mkdir(parents=True, exist_ok=True)

    # Vectors keyed by path, as the manifest has it (the folder as given, then person/age.png).
    keep = [i for i in range(len(paths)) if i % 40 != 39]
    vec = projection(paths)
    table = pd.DataFrame(vec[keep], columns=[f"v{i}" for i in range(vec.shape[1])])
    table.insert(0, "path", [str(paths[i]) for i in keep])
    extra = pd.DataFrame(
        [[str(args.folder / "person99" / "30.png"), *vec[0]]], columns=table.columns
    )
    pd.concat([table, extra], ignore_index=True).to_parquet(args.out / "vectors.parquet")

    # Every pair of images scored, as bob.bio's CSV.
    ids = [f"{p.parent.name}/{p.name}" for p in paths]
    person = [p.parent.name for p in paths]
    hist = histograms(paths)
    a, b = map(np.array, zip(*itertools.combinations(range(len(paths)), 2), strict=True))
    score = np.einsum("ij,ij->i", hist[a], hist[b])
    bob = pd.DataFrame(
        {
            "probe_template_id": np.array(ids)[b],
            "probe_subject_id": np.array(person)[b],
            "bio_ref_template_id": np.array(ids)[a],
            "bio_ref_subject_id": np.array(person)[a],
            "score": score,
        }
    )
    bob.to_csv(args.out / "scores.csv", index=False, float_format="%.9g")

    # The same scores as pyeer's files, and the pairs they score.
    pyeer = args.out / "pyeer"
    pyeer.mkdir(exist_ok=True)
    genuine = bob["probe_subject_id"] == bob["bio_ref_subject_id"]
    ordered = pd.concat([bob[genuine], bob[~genuine]])
    np.savetxt(pyeer / "genuine.txt", bob.loc[genuine, "score"], fmt="%.9g")
    np.savetxt(pyeer / "impostor.txt", bob.loc[~genuine, "score"], fmt="%.9g")
    ordered[["bio_ref_template_id", "probe_template_id"]].set_axis(
        ["image_a", "image_b"], axis=1
    ).to_csv(pyeer / "pairs.csv", index=False)
    n_genuine = int(genuine.sum())
    print(f"{len(table)} vectors, {len(bob)} scored pairs ({n_genuine} genuine) in {args.out}")


if __name__ == "__main__":
    main()
