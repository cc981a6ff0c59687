"""The attribute-estimator interface: image -> age, gender, confidences.

An estimator adapter is one module in :mod:`faceage.attributes` defining a
module-level ``ESTIMATOR`` (an :class:`EstimatorAdapter`):

* ``env`` - its environment file ``envs/<env>.yaml`` (the workflow runs it
  with that env's interpreter);
* ``required_files(settings, weights_dir)`` - its weight files as
  :class:`~faceage.adapters.WeightFile`; :meth:`check_weights` raises
  :class:`~faceage.adapters.MissingWeightsError` naming each missing file,
  its folder and its source, before any image is read;
* ``load(settings, weights_dir)`` -> an :class:`Estimator`;
* ``age_range`` - the ages (years) the estimator can output; labels outside
  are clipped to it before a label is called implausible;
* ``reference_mae`` - its age MAE in years on a known benchmark (the
  default unit for the implausible-age flag, see :mod:`faceage.attributes.flags`);
* ``provenance(settings, weights_dir)`` - what changes its outputs.

Conventions: ages in years (float; the estimator's expectation or point
estimate), gender ``"M"`` or ``"F"``, ``gender_confidence`` the estimator's
probability (0.5-1) of the gender it chose, ``age_confidence`` whatever
confidence the estimator reports for its age (0-1; NaN when none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceage.adapters import Adapter
from faceage.models.base import Face


@dataclass
class Attributes:
    """What an estimator made of one image (``status`` ``ok`` or why not)."""

    age: float | None = None
    gender: str | None = None
    age_confidence: float = math.nan
    gender_confidence: float = math.nan
    status: str = "ok"
    n_faces: int = -1
    face: Face | None = None


class Estimator:
    """A loaded estimator. Subclasses implement :meth:`predict_batch`."""

    def predict_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[Attributes]:
        """Estimate age and gender for RGB uint8 images [H, W, 3].

        ``faces`` holds, per image, a face box found earlier (or None): an
        estimator with its own detector may ignore it.
        """
        raise NotImplementedError


class EstimatorAdapter(Adapter):
    """An age and gender estimator.

    A :class:`faceage.adapters.Adapter`: weights, hint, provenance.
    """

    kind = "estimator"
    env: str = "dlib"
    age_range: tuple[float, float] = (0.0, 100.0)
    reference_mae: float = 8.0
    reference_note: str = ""

    def load(self, settings: dict, weights_dir: Path) -> Estimator:
        raise NotImplementedError


def gender_code(value) -> str | None:
    """Map a library's gender label to ``M``/``F`` (None when unknown)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    # No numeric codes here: 0/1 mean opposite things in different libraries
    # and datasets (insightface 1 = male, UTKFace 1 = female).
    if text in ("m", "male", "man"):
        return "M"
    if text in ("f", "female", "woman"):
        return "F"
    return None
