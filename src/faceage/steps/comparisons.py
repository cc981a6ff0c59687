"""Stage 3 - comparisons (workflow/rules/comparisons.smk): genuine pairs (same person,
different ages) and impostor pairs matched to their age gaps."""

from __future__ import annotations

import logging

from faceage import contracts as c
from faceage.steps import step

log = logging.getLogger(__name__)


@step
def pairs(*, input, output, settings):
    from faceage.pairs import make_pairs, pair_summary

    clean = c.require_images(c.read_table(input.manifest), input.manifest)
    p = make_pairs(
        clean,
        bins=settings.age_bins,
        mode=settings.impostors,
        ratio=settings.impostor_ratio,
        seed=settings.seed,
        folds=settings.folds,
        max_genuine_per_person=settings.get("max_genuine_per_person"),
    )
    c.write_pairs(p, output.pairs)
    c.write_table(pair_summary(p), output.summary)
    log.info(
        "%d genuine and %d impostor pairs; %d genuine pairs left out by the per-person cap",
        (p["genuine"] == 1).sum(),
        (p["genuine"] == 0).sum(),
        sum(p.attrs["capped_left_out"].values()),
    )


@step
def operating_pairs(*, input, output, settings):
    """The operating impostor pool (:mod:`faceage.impostor_pool`); empty with
    ``comparisons.impostors: none`` (a dataset without identities, e.g. UTKFace)."""
    from faceage.impostor_pool import operating_pairs as pool_of

    clean = c.require_images(c.read_table(input.manifest), input.manifest)
    size = 0 if settings.impostors == "none" else settings.operating_impostors
    pool = pool_of(clean, size, settings.seed, settings.age_bins)
    c.write_pairs(pool, output.pairs)
    log.info(
        "operating pool: %d impostor pairs (%s of %d cross-person pairs)",
        len(pool),
        "all" if pool.attrs["exhaustive"] else "a persons-balanced sample",
        pool.attrs["n_cross_pairs"],
    )
