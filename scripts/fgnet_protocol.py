#!/usr/bin/env python3
"""Write a CSV verification protocol of FG-NET pairs (image_a, image_b, same, fold).

    .venv/bin/python scripts/fgnet_protocol.py --out resources/fgnet_pairs.csv \
        [--fgnet ../shared/datasets/fgnet] [--pairs 1200] [--seed 20]

Half genuine (two photos of one subject, any ages), half impostor (two subjects), over all 82
subjects, 10 folds, seeded: a cross-age benchmark in the protocol format `csv` (used by
config/study.yaml, scripts/bench_face_pipeline.py and the tests). Names only: no pixels.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def fgnet_protocol(files: list[Path], rng, n_pairs: int = 300) -> pd.DataFrame:
    """Genuine and impostor pairs over FG-NET ``files`` (names relative to their folder; the
    person is a name's first 3 characters): even k genuine, odd impostor, fold k * 10 //
    n_pairs."""
    by_person: dict[str, list[str]] = {}
    for f in files:
        by_person.setdefault(f.name[:3], []).append(f.name)
    persons = sorted(by_person)
    rows = []
    for k in range(n_pairs):
        if k % 2 == 0:
            p = persons[rng.integers(len(persons))]
            a, b = rng.choice(by_person[p], size=2, replace=False)
        else:
            p, q = rng.choice(persons, size=2, replace=False)
            a, b = rng.choice(by_person[p]), rng.choice(by_person[q])
        rows.append(
            {"image_a": a, "image_b": b, "same": int(k % 2 == 0), "fold": k * 10 // n_pairs}
        )
    return pd.DataFrame(rows)


def fgnet_files(folder: Path) -> list[Path]:
    return sorted(f for f in Path(folder).iterdir() if f.suffix.lower() == ".jpg")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fgnet", type=Path, default=ROOT.parent / "shared" / "datasets" / "fgnet")
    ap.add_argument("--pairs", type=int, default=1200)
    ap.add_argument("--seed", type=int, default=20)
    a = ap.parse_args()
    table = fgnet_protocol(fgnet_files(a.fgnet), np.random.default_rng(a.seed), a.pairs)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(a.out, index=False)
    print(f"wrote {a.out}: {len(table)} pairs ({int(table['same'].sum())} genuine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
