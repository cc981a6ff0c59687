"""Stage 5 - scores (workflow/rules/scores.smk): the cosine similarity of every pair."""

from __future__ import annotations

import logging

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def scores(*, input, output):
    from faceage.scores import score_pairs

    p = c.read_pairs(input.pairs)
    emb = c.read_embeddings(input.embeddings)
    s = score_pairs(p, emb["image_id"], emb["vectors"])
    c.write_table(s, output.scores, c.SCORE_COLUMNS)
    log.info(
        "%d pairs scored, %d without a score",
        s["similarity"].notna().sum(),
        s["similarity"].isna().sum(),
    )


@step
def tsv_export(*, input, output):
    """A Parquet table (pairs, scores) as TSV: the same columns, dtypes and values."""
    c.export_tsv(input.table, output.tsv)
