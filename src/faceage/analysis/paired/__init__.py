"""Paired model comparisons on the pairs every model scored, with a paired subject bootstrap.

Pure logic (numpy / pandas / statsmodels), no file I/O. Inputs are scores tables as
:mod:`faceage.contracts` describes them (``SCORE_COLUMNS``: ``pair_id``, ``person_a``,
``person_b``, ``genuine``, ``age_gap``, ``similarity``...), one per model, over the same pairs
table; a pair a model could not score has an empty (NaN) similarity.

What is here
------------

* :func:`common_pairs` - the pairs every model scored, and per model how many pairs it lost
  itself (unscored by it) and how many it scored but that left the common set because another
  model did not score them.
* :func:`paired_comparison` - per model and per model pair (A - B), on the common pairs, overall
  and per age-gap bin: AUC, FNMR at the largest estimable FMR, decidability d'; the "age
  robustness" (AUC of the smallest gap bin minus AUC of the largest gap bin: positive = the model
  loses accuracy with the gap, smaller = more robust); and an OLS ageing slope. Every figure has a
  subject-bootstrap interval, every difference a paired interval and a bootstrap p-value. Works
  for a single model too (then ``differences`` is empty).
* :func:`deployed_fnmr` - FNMR per gap bin at one threshold per model set on all impostor pairs
  for a target FMR (the NIST FRVT convention).
* :func:`failure_to_enrol` - share of images not enrolled per age range, Wilson interval.
* :func:`decidability` - d' = (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2).
* :func:`split_by_gender` - scores split by the gender both persons of a pair share;
  :func:`by_gender` - the AUC rows and paired AUC differences of each gender's pairs.
* :func:`enrolment` - which of the manifest's images a model enrolled.

Conventions
-----------

* **Score and unscored pairs**: as in :mod:`faceage.analysis.verification` - cosine similarity,
  a pair is accepted as "same person" when its score is ``>=`` the threshold. Comparisons use
  only the common pairs, so a pair one model failed on leaves every model's figures (otherwise
  a model that fails on hard images would look better than one that scores them).
* **Subsets**: ``all`` and one ``gap_bin`` per bin, exactly as
  :func:`faceage.analysis.verification.subset_rows` makes them (``impostors="same_gap_bin"``:
  a bin's genuine pairs against the impostor pairs of the same gap; ``"all"``: against every
  impostor pair). Bin edges are left edges (:mod:`faceage.bins`).
* **AUC / FNMR** (ISO/IEC 19795-1; older papers' TAR = 1 - FNMR, FAR = FMR) come from the exact
  weighted ROC of :class:`faceage.analysis.bootstrap.SortedPairs` (equal to scikit-learn's ROC;
  ties count one half). FNMR at FMR = f is 1 - the highest tpr among ROC points with fpr <= f
  (:func:`~faceage.analysis.bootstrap.tar_from_roc`), on the subset's own ROC impostors
  (``roc_fnmr_at_fmr_<f>``); with ``pool`` the ``all`` subset's threshold is set on the
  operating impostor pool instead and the metric is ``fnmr_at_fmr_<f>`` (one impostor set per
  metric name, as in metrics.tsv). The FMR used in a subset is the **largest** of
  ``fmr_levels`` that is estimable there - at least ``10 / f`` impostor pairs
  (:data:`~faceage.analysis.roc.MIN_IMPOSTORS_TIMES_FAR`, the project's rule); the metric is
  named after it (``roc_fnmr_at_fmr_0.01``) and the row's ``fmr`` column gives it.
  When no level is estimable the row is empty with a note. A difference is only formed between
  FNMRs at the same FMR (the common pairs are the same for both models, so they always agree).
* **d'**: (mean_gen - mean_imp) / sqrt((var_gen + var_imp) / 2) with population variances
  (ddof = 0; weighted by the bootstrap weights in an iteration).
* **Ageing slope** (``ols_slope_per_year``, subset ``all``): an ordinary least-squares slope of
  genuine similarity on the age gap (years), each genuine pair weighted by its person's bootstrap
  count. It is **not** the mixed model of :mod:`faceage.analysis.ageing` (no random effects): a
  cheap, comparable figure for paired differences, not a replacement for ``ageing.tsv``.
* **Paired subject bootstrap**: the unit is the person, as in
  :mod:`faceage.analysis.bootstrap`. Each iteration draws the persons of the common pairs with
  replacement (as many draws as persons); a genuine pair weighs ``c[p]``, an impostor pair
  ``c[p] * c[q]``. The **same** draw serves every model, every subset (all, each gap bin) and
  every metric in that iteration, so differences between models and between gap bins (age
  robustness) are paired. Unlike ``verification_metrics``, which draws the persons of each subset
  separately, a gap bin here sees the persons of the global draw who have pairs in it (their
  number varies between iterations, as it would between samples of persons). With
  ``paired=False`` each model gets its own independent draws (for comparison only: the
  interval of a difference is then wider, since shared person effects no longer cancel).
* **Intervals**: percentile intervals (2.5 / 97.5 % for 95 %) over the iterations in which the
  figure exists (``n_valid``; an iteration in which a subset lost a class is skipped); ``se`` is
  the standard deviation of the bootstrap distribution.
* **p-value** of a difference D = A - B: ``p = min(1, 2 * min(P*(D <= 0), P*(D >= 0)))`` where P*
  is the share of valid iterations - the two-sided bootstrap p-value of "no difference". It
  is < 0.05 roughly when the 95 % percentile interval excludes 0; identical models give D = 0 in
  every iteration and p = 1. Its resolution is 2 / n_valid: with 1000 iterations the smallest
  non-zero value is 0.002. When no iteration crosses zero the bootstrap can only say
  ``p < 1 / n_valid``: ``p_text`` reads ``< 0.001`` and ``p_value`` holds that bound (never 0).
* **Seeds**: the generator is :func:`faceage.analysis.bootstrap.subset_rng` ``(seed, label)``
  (``label`` defaults to ``"paired"``; unpaired draws use ``label + ":" + model``): the same
  seed and label give the same intervals.
"""

from faceage.analysis.paired.common import CommonPairs, common_pairs
from faceage.analysis.paired.differences import (
    DIFFERENCE_COLUMNS,
    PER_MODEL_COLUMNS,
    PairedComparison,
    paired_comparison,
)
from faceage.analysis.paired.enrol import FTE_COLUMNS, enrolment, failure_to_enrol
from faceage.analysis.paired.fnmr import deployed_fnmr
from faceage.analysis.paired.gender import MIN_GENDER_PERSONS, by_gender, split_by_gender
from faceage.analysis.paired.stats import bootstrap_p_value, decidability, p_text

__all__ = [
    "DIFFERENCE_COLUMNS",
    "FTE_COLUMNS",
    "MIN_GENDER_PERSONS",
    "PER_MODEL_COLUMNS",
    "CommonPairs",
    "PairedComparison",
    "bootstrap_p_value",
    "by_gender",
    "p_text",
    "common_pairs",
    "decidability",
    "deployed_fnmr",
    "enrolment",
    "failure_to_enrol",
    "paired_comparison",
    "split_by_gender",
]
