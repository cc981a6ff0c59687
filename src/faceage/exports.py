"""Score files other tools read (opt-in targets of the scores stage, ``rule score_exports``).

* **bob.bio CSV** (``exports/<model>/bob_scores.csv``): the CSV score format of bob.bio.base's
  ``CSVScoreWriter`` - one row per comparison, the probe's and the reference's metadata prefixed
  ``probe_`` and ``bio_ref_``, then ``score``; bob.bio.base's loaders tell genuine from impostor
  by ``probe_subject_id == bio_ref_subject_id`` and read ``score``. Columns
  (:data:`BOB_COLUMNS`): ``probe_template_id`` (the older image's id, ``image_b``),
  ``probe_subject_id`` (its person), ``probe_age`` (years), ``bio_ref_template_id``,
  ``bio_ref_subject_id``, ``bio_ref_age`` (the younger image, ``image_a``), ``score`` (cosine
  similarity, higher = more alike).
* **pyeer** (``pyeer_genuine.txt``, ``pyeer_impostor.txt``): one score per line, the genuine and
  the impostor scores (pyeer's ``geteerinf -p <dir> -g pyeer_genuine.txt -i pyeer_impostor.txt``).

Rows: every scored genuine pair of ``scores/<model>.parquet``, then every scored pair of the
operating impostor pool (``scores/operating/<model>.parquet``), the impostors every "at FMR f"
figure of the workflow is set on; unscored pairs (an image without an embedding) are left out.
"""

from __future__ import annotations

from typing import TextIO

import numpy as np
import pandas as pd

BOB_COLUMNS = [
    "probe_template_id",
    "probe_subject_id",
    "probe_age",
    "bio_ref_template_id",
    "bio_ref_subject_id",
    "bio_ref_age",
    "score",
]


def bob_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """The scored pairs of a scores table as bob.bio CSV rows (:data:`BOB_COLUMNS`)."""
    s = pd.to_numeric(scores["similarity"], errors="coerce")
    t = scores[s.notna().to_numpy()]
    return pd.DataFrame(
        {
            "probe_template_id": t["image_b"].astype(str).to_numpy(),
            "probe_subject_id": t["person_b"].astype(str).to_numpy(),
            "probe_age": t["age_b"].to_numpy(),
            "bio_ref_template_id": t["image_a"].astype(str).to_numpy(),
            "bio_ref_subject_id": t["person_a"].astype(str).to_numpy(),
            "bio_ref_age": t["age_a"].to_numpy(),
            "score": s[s.notna()].to_numpy(dtype=np.float64),
        },
        columns=BOB_COLUMNS,
    )


def write_pyeer(scores: np.ndarray, out: TextIO) -> None:
    """Append ``scores`` to a pyeer score file: one score per line (9 significant digits)."""
    if len(scores):
        np.savetxt(out, np.asarray(scores, dtype=np.float64), fmt="%.9g")
