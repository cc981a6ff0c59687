"""Stage 5 - scores (workflow/rules/scores.smk): the cosine similarity of every pair."""

from __future__ import annotations

import logging

import numpy as np

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step(also=("operating_scores",))
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


@step
def score_exports(*, input, output):
    """bob.bio's CSV score file and pyeer's genuine / impostor files of one model: its scored
    genuine pairs and the scored pairs of the operating pool (:mod:`faceage.exports`),
    streamed batch by batch."""
    from faceage import exports

    cols = ["image_a", "image_b", "person_a", "person_b", "genuine", "age_a", "age_b"]
    counts = {"genuine": 0, "impostor": 0}
    with (
        c.atomic_path(output.bob) as bob,
        c.atomic_path(output.genuine) as gen,
        c.atomic_path(output.impostor) as imp,
    ):
        with bob.open("w") as fb, gen.open("w") as fg, imp.open("w") as fi:
            fb.write(",".join(exports.BOB_COLUMNS) + "\n")
            for path, genuine, out in ((input.scores, 1, fg), (input.operating, 0, fi)):
                for batch in c.iter_table(path, cols + ["similarity"]):
                    rows = exports.bob_rows(batch[batch["genuine"] == genuine])
                    rows.to_csv(fb, header=False, index=False, float_format="%.9g")
                    exports.write_pyeer(rows["score"].to_numpy(), out)
                    counts["genuine" if genuine else "impostor"] += len(rows)
    log.info("exported %(genuine)d genuine and %(impostor)d impostor scores", counts)
