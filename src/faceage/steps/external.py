"""External models (workflow/rules/external.smk): vectors or pair scores from a user's file
(:mod:`faceage.external`), written in the contract every later stage reads, with a report of
the ids missing on either side."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


def _where(wildcards) -> str:
    return f"external_models.{wildcards.model}"


def _write_reports(rows: list[dict], ids: pd.DataFrame, output) -> None:
    from faceage.external import REPORT_COLUMNS

    report = pd.DataFrame(rows).reindex(columns=REPORT_COLUMNS)
    c.write_table(report, output.report)
    c.write_table(ids, output.ids)
    for r in report.itertuples():
        log.info(
            "%s %s: %d%s", r.item, r.reason, r.n, f" (e.g. {r.examples})" if r.examples else ""
        )


@step
def external_embeddings(*, input, output, settings, wildcards):
    """A user's file of vectors as ``embeddings/<model>.npz``: every clean image, status
    ``not_in_file`` where the file has no vector; the report of ids missing on either side."""
    from faceage import external

    where = f"{_where(wildcards)}.embeddings"
    ids, vectors = external.read_vectors(
        input.vectors, settings.key, input.optional("ids"), where=where
    )
    if settings.dim and vectors.shape[1] != settings.dim:
        raise external.ExternalFileError(
            where,
            input.vectors,
            f"vectors have {vectors.shape[1]} dimensions, not {settings.dim} "
            f"({_where(wildcards)}.dim)",
        )
    arrays, missing = external.match_vectors(
        ids,
        vectors,
        c.read_table(input.clean),
        settings.key,
        settings.get("dataset_path", ""),
        all_images=c.read_table(input.manifest),
    )
    n_ok = int((arrays["status"] == "ok").sum())
    if n_ok == 0:
        raise external.ExternalFileError(
            where,
            input.vectors,
            f"none of its {len(ids)} ids ({', '.join(ids[:3])}, ...) names an image of the "
            f"dataset by {settings.key} (e.g. {arrays['image_id'][0]}); check key:",
        )
    c.write_embeddings(output.embeddings, **arrays)
    _write_reports(external.summary_rows(missing, n_ok), missing, output)


@step
def external_scores(*, input, output, settings, wildcards):
    """A user's bob.bio or pyeer score file joined to the pairs and to the operating pool:
    ``scores/<model>.parquet`` and ``scores/operating/<model>.parquet`` as the scores step
    writes them (NaN where the file has no score), and the report."""
    from faceage import external

    where = _where(wildcards)
    if "scores" in input:
        where, path = f"{where}.scores", input.scores
        table = external.read_bob(path, where)
    else:
        path = input.named_pairs
        table = external.read_pyeer(input.genuine, input.impostor, path, where)
    lookup = external.ScoreLookup.of(
        table,
        c.read_table(input.clean),
        settings.key,
        settings.get("dataset_path", ""),
        all_images=c.read_table(input.manifest),
        where=where,
        path=path,
    )
    counts = {}
    for name, pairs, out in (
        ("pairs", input.pairs, output.scores),
        ("operating", input.operating, output.operating),
    ):
        n_scored = n_missing = 0
        with c.parquet_writer(out, c.SCORE_COLUMNS) as write:
            for batch in c.iter_table(pairs, c.PAIR_COLUMNS):
                batch["similarity"] = sim = lookup(batch)
                write(
                    batch[c.SCORE_COLUMNS + [x for x in batch.columns if x not in c.SCORE_COLUMNS]]
                )
                n_scored += int(np.isfinite(sim).sum())
                n_missing += int(np.isnan(sim).sum())
        counts[name] = (n_scored, n_missing)
    if counts["pairs"][0] == 0:
        raise external.ExternalFileError(
            where, path, "scores none of the dataset's pairs; check key: and the file's ids"
        )
    _write_reports(lookup.summary(counts), lookup.id_report(), output)
