"""Stage 6 - similarity (workflow/rules/similarity.smk): the original study's tables
(models side by side), similarity against age gap, and maps of the embeddings.

The models' score files come as one list, ``input.scores``, in the order of
``settings.models`` (:meth:`faceage.steps.Files.by_model`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from faceage import contracts as c
from faceage.steps import step


def read_scores(files: Mapping[str, str], only: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """``{model: scores}`` from ``{model: file}``, in compact types
    (:func:`faceage.contracts.read_compact`): the columns ``only``, or all."""
    out = {}
    for model, path in files.items():
        scores = c.read_compact(path, only)
        missing = [col for col in (only or c.SCORE_COLUMNS) if col not in scores]
        if missing:
            raise ValueError(f"{path} lacks columns {missing}")
        out[model] = scores
    return out


@step
def similarity_tables(*, input, output, settings):
    from faceage.analysis.similarity import between_ranges_table, by_gap_table, within_range_table
    from faceage.bins import bin_labels as range_labels

    scores = read_scores(
        input.by_model("scores", settings.models),
        ["genuine", "similarity", "age_gap", "range_a", "range_b"],
    )
    ranges = range_labels(settings.age_bins)
    for table, path in (
        (within_range_table(scores, ranges), output.within),
        (between_ranges_table(scores, ranges), output.between),
        (by_gap_table(scores), output.by_gap),
    ):
        with c.atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")


@step
def plot_similarity(*, input, output, settings):
    from faceage.plots import similarity as plots

    plots.similarity_by_gap(pd.read_csv(input.by_gap), output.by_gap, settings.min_pairs_per_gap)
    plots.similarity_distributions(
        read_scores(input.by_model("scores", settings.models), ["genuine", "similarity"]),
        output.distributions,
    )


@step
def projections(*, input, output, settings, wildcards, threads):
    """PCA and t-SNE maps of one model's embeddings, coloured by age range."""
    from threadpoolctl import threadpool_limits

    from faceage.analysis.projections import projections as compute
    from faceage.bins import bin_labels as range_labels
    from faceage.plots import similarity as plots

    with threadpool_limits(threads):  # t-SNE's gradient runs on all of them
        proj = compute(
            c.read_embeddings(input.embeddings),
            c.read_table(input.manifest),
            settings.age_bins,
            seed=settings.seed,
            balanced_per_range=settings.balanced_per_range,
            tsne_max_images=settings.tsne_max_images,
            persons=settings.persons_to_plot,
            perplexity=settings.tsne_perplexity,
        )
    c.write_table(proj, output.table)
    plots.projection_grid(proj, wildcards.model, range_labels(settings.age_bins), output.plot)
