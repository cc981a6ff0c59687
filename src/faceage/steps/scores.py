"""Stage 5 - scores (workflow/rules/scores.smk): the cosine similarity of every pair."""

from __future__ import annotations

import logging

import numpy as np

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def scores(*, input, output):
    """Every pair's similarity; a Parquet pairs table is streamed in batches of rows, so the
    job holds one batch, not the table."""
    from faceage.scores import Scorer

    emb = c.read_embeddings(input.embeddings)
    score = Scorer(emb["image_id"], emb["vectors"])
    n_scored = n_unscored = 0
    with c.parquet_writer(output.scores, c.SCORE_COLUMNS) as write:
        for batch in c.iter_table(input.pairs, c.PAIR_COLUMNS):
            batch["similarity"] = sim = score(batch)
            write(batch[c.SCORE_COLUMNS + [x for x in batch.columns if x not in c.SCORE_COLUMNS]])
            n_scored += int(np.isfinite(sim).sum())
            n_unscored += int(np.isnan(sim).sum())
    log.info("%d pairs scored, %d without a score", n_scored, n_unscored)


@step
def tsv_export(*, input, output):
    """A Parquet table (pairs, scores) as TSV: the same columns, dtypes and values."""
    c.export_tsv(input.table, output.tsv)
