"""bob.measure on a bob.bio score CSV, in an interpreter that has bob.measure.

    python bob_measure_exports.py SCORES.csv LEVELS_JSON

bob.measure 6.1.1 needs numpy ~=1.26 and the workflow pins numpy 2.4, so tests/test_exports.py
runs this with .venvs/bob/bin/python (envs/tools/bob.txt; .ci/run builds it). Only the
standard library, numpy and bob.measure: the venv has neither pandas nor faceage.

Genuine rows are those with ``probe_subject_id == bio_ref_subject_id`` (bob.bio.base's rule).
Prints JSON: the counts and means of both score sets, bob.measure's ``roc_auc_score``, ``eer``
(with the FMR and FNMR at its threshold) and, per FMR level, bob's ``farfrr`` (FMR, FNMR; a
pair is accepted when its score is >= the threshold) at two thresholds that accept the same
impostors: bob's ``far_threshold`` (the highest: the lowest accepted impostor score) and the
lowest (just above the highest rejected impostor score: the workflow's, docs/verification.md).
Genuine scores between the two count as rejected at the first and accepted at the second.
"""

import csv
import json
import sys

import bob.measure
import numpy as np

# bob's roc_auc_score integrates its ROC sampled at npoints thresholds spread evenly over the
# scores (default 2000: 2e-4 off the exact AUC on the demo's pairs); this many resolve them.
ROC_POINTS = 100_000


def main() -> None:
    path, levels = sys.argv[1], json.loads(sys.argv[2])
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    same = np.array([r["probe_subject_id"] == r["bio_ref_subject_id"] for r in rows], dtype=bool)
    score = np.array([float(r["score"]) for r in rows], dtype=np.float64)
    pos, neg = score[same], score[~same]
    eer, far, frr = bob.measure.eer(neg, pos, also_farfrr=True)
    at = []  # per level: [level, FMR, FNMR at bob's threshold, FMR, FNMR at the lowest]
    for level in levels:
        high = bob.measure.far_threshold(neg, pos, float(level))
        rejected = neg[neg < high]
        low = np.nextafter(rejected.max(), np.inf) if len(rejected) else high
        at.append([level, *bob.measure.farfrr(neg, pos, high), *bob.measure.farfrr(neg, pos, low)])
    out = {
        "bob.measure": bob.measure.__file__,
        "numpy": np.__version__,
        "n_genuine": int(len(pos)),
        "n_impostor": int(len(neg)),
        "mean_genuine_similarity": float(pos.mean()),
        "mean_impostor_similarity": float(neg.mean()),
        "auc": float(bob.measure.roc_auc_score(neg, pos, npoints=ROC_POINTS)),
        "eer": float(eer),
        "eer_fmr": float(far),
        "eer_fnmr": float(frr),
        "at_fmr": [[float(x) for x in row] for row in at],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
