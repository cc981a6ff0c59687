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


@step(also=("score_exports_bob", "score_exports_pyeer"))
def score_exports(*, input, output):
    """bob.bio's CSV score files and pyeer's genuine / impostor files of one model, those of
    the rule's outputs (:data:`faceage.exports.FILES`): its scored genuine pairs against the
    scored pairs of the operating pool (``bob``, ``impostor``) and against the pairs table's
    impostors (``bob_pairs``, ``impostor_pairs``), streamed batch by batch."""
    from contextlib import ExitStack

    from faceage import exports

    cols = ["image_a", "image_b", "person_a", "person_b", "genuine", "age_a", "age_b"]
    names = [n for f in exports.FILES.values() for n in f if n in output]
    counts = dict.fromkeys(names, 0)
    with ExitStack() as stack:
        out = {}
        for n in names:
            path = stack.enter_context(c.atomic_path(output[n]))
            out[n] = stack.enter_context(path.open("w"))
            if n.startswith("bob"):
                out[n].write(",".join(exports.BOB_COLUMNS) + "\n")
        # which files each kind of row goes to: (table, genuine) -> output names
        to = {
            (input.scores, 1): ("bob", "bob_pairs", "genuine"),
            (input.scores, 0): ("bob_pairs", "impostor_pairs"),
            (input.operating, 0): ("bob", "impostor"),
        }
        for path in (input.scores, input.operating):
            for batch in c.iter_table(path, cols + ["similarity"]):
                for genuine in (1, 0):
                    targets = [n for n in to.get((path, genuine), ()) if n in out]
                    if not targets:
                        continue
                    rows = exports.bob_rows(batch[batch["genuine"] == genuine])
                    for n in targets:
                        if n.startswith("bob"):
                            rows.to_csv(out[n], header=False, index=False, float_format="%.9g")
                        else:
                            exports.write_pyeer(rows["score"].to_numpy(), out[n])
                        counts[n] += len(rows)
    log.info("exported %s", ", ".join(f"{n}: {k} rows" for n, k in counts.items()))


@step
def export_note(*, input, output, settings, wildcards):
    """``exports/<model>/README.txt`` and ``exports.json``: which impostor set each export file
    holds and which figures of metrics.tsv and fnmr.tsv it reproduces
    (:func:`faceage.exports.record`); the counts read from the files."""
    import json

    from faceage import exports

    def lines(path):
        with open(path) as f:
            return sum(1 for _ in f)

    def bob_counts(path):
        import pandas as pd

        t = pd.read_csv(path, usecols=["probe_subject_id", "bio_ref_subject_id"], dtype=str)
        same = int((t["probe_subject_id"] == t["bio_ref_subject_id"]).sum())
        return same, len(t) - same

    if "genuine" in input:
        counts = {
            "genuine": lines(input.genuine),
            "operating_pool": lines(input.impostor),
            "pairs": lines(input.impostor_pairs),
        }
    else:
        genuine, pool = bob_counts(input.bob)
        counts = {
            "genuine": genuine,
            "operating_pool": pool,
            "pairs": bob_counts(input.bob_pairs)[1],
        }
    rec = exports.record(
        wildcards.model,
        settings.formats,
        counts,
        settings.fmr_levels,
        settings.pairs_impostors,
    )
    with c.atomic_path(output.record) as tmp:
        tmp.write_text(json.dumps(rec, indent=2) + "\n")
    with c.atomic_path(output.note) as tmp:
        tmp.write_text(exports.note(rec))
