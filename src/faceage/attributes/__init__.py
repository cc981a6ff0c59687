"""Age and gender estimators, label checks and the age/gender evaluation.

Registry: estimator name -> adapter module (imported lazily, because each
runs in its own environment). The interface is in
:mod:`faceage.attributes.base`: an adapter's loaded :class:`Estimator` turns
RGB images into :class:`Attributes` (age in years, gender ``M``/``F``, and
their confidences). A new estimator is one module plus one line here.

Modules: :mod:`~faceage.attributes.predict` (run an estimator over a
manifest), :mod:`~faceage.attributes.flags` (label checks, review sheet,
verdicts back to ``config/overrides.tsv``),
:mod:`~faceage.attributes.evaluation` (MAE, CS@5, bias, gender accuracy and
confusion, balancing), :mod:`faceage.plots.attributes` (its figures).
"""

from __future__ import annotations

import importlib

from faceage.attributes.base import Attributes, Estimator, EstimatorAdapter

ESTIMATORS = {
    "agegender": "faceage.attributes.agegender",
    "insightface": "faceage.attributes.insightface_genderage",
    "deepface": "faceage.attributes.deepface_attributes",
}

__all__ = ["ESTIMATORS", "Attributes", "Estimator", "EstimatorAdapter", "get_estimator"]


def get_estimator(name: str) -> EstimatorAdapter:
    if name not in ESTIMATORS:
        raise ValueError(
            f"unknown attribute estimator {name!r}; known: {', '.join(sorted(ESTIMATORS))}"
        )
    return importlib.import_module(ESTIMATORS[name]).ESTIMATOR
