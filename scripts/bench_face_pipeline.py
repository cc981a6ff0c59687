#!/usr/bin/env python3
"""The face pipeline before and after issue 20, on a FG-NET CSV protocol, with dlib.

    .venv/bin/python scripts/bench_face_pipeline.py [--fgnet ../shared/datasets/fgnet] \
        [--pairs 1200] [--seed 20] [--cores 2]

Builds, in a temporary folder, a CSV protocol of ``--pairs`` FG-NET pairs (half genuine, half
impostor, over all 82 subjects, 10 folds; seeded) and runs the documented protocol command twice:
  before: ``face_choice=largest`` and ``embeddings.no_face_fallback=centre_crop`` (the pipeline
          as it was: the largest face, the unaligned centre crop where HOG finds none);
  after:  the defaults of a protocol run (``centre`` and the ``aligned`` fallback).
Prints accuracy (10-fold, insightface's convention), its std over folds, AUC, and the pairs that
went through each fallback route (numbers for docs/verification.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from fgnet_protocol import fgnet_files, fgnet_protocol

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "before": {"face_choice": "largest", "embeddings": {"no_face_fallback": "centre_crop"}},
    "after": {},
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fgnet", type=Path, default=ROOT.parent / "shared" / "datasets" / "fgnet")
    ap.add_argument("--pairs", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--cores", type=int, default=2)
    a = ap.parse_args()
    cols = ["accuracy", "accuracy_std", "auc", "n_unscored", "n_fallback_pairs"]
    cols += ["n_fallback_crop_pairs"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="faceage-pipeline-") as tmp:
        tmp = Path(tmp)
        protocol = fgnet_protocol(fgnet_files(a.fgnet), np.random.default_rng(a.seed), a.pairs)
        protocol.to_csv(tmp / "fgnet.csv", index=False)
        for name, extra in RUNS.items():
            cfg = {
                "dataset": "fgnet_pairs",
                "dataset_format": "protocol",
                "models": ["dlib"],
                "attributes": {"enabled": False},
                "protocols": [
                    {"file": str(tmp / "fgnet.csv"), "format": "csv", "images": str(a.fgnet)}
                ],
                **extra,
            }
            (tmp / f"{name}.yaml").write_text(yaml.safe_dump(cfg))
            work = tmp / name
            work.mkdir()
            subprocess.run(
                [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile")]
                + ["-d", str(work)]
                + [f"-c{a.cores}", "--configfile", str(tmp / f"{name}.yaml"), "--quiet"],
                check=True,
            )
            t = pd.read_csv(work / "results/fgnet_pairs/verification/benchmarks.tsv", sep="\t")
            rows.append({"pipeline": name, **t.iloc[0][cols].to_dict()})
    print(f"FG-NET CSV protocol, {a.pairs} pairs (seed {a.seed}), dlib:")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
