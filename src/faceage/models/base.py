"""The model interface every face-recognition adapter implements.

A model adapter is one module in :mod:`faceage.models` that defines a
module-level ``ADAPTER`` (an instance of a :class:`ModelAdapter` subclass):

* ``env`` - the name of its environment file ``envs/<env>.yaml``.
* ``required_files(settings, weights_dir)`` - the weight files it needs, as
  :class:`WeightFile` (path, where to get it). The workflow checks them in
  the ``prepare_model`` rule, before any embedding, and stops with
  :class:`MissingWeightsError` naming each missing file, its folder and its
  source.
* ``prepare(settings, weights_dir, images, out_dir)`` - optional one-off work
  on the whole clean manifest before the shards run (the eigenfaces baseline
  fits its PCA here); returns extra provenance.
* ``load(settings, weights_dir, state_dir)`` -> an :class:`Embedder`, loaded
  once per embedding job.
* ``provenance(settings, weights_dir)`` - everything that changes the
  embeddings (library versions, weights, detector, sizes, colour order...),
  written to ``provenance.json`` beside the model's embeddings.

An :class:`Embedder` turns a batch of RGB uint8 images into
:class:`FaceResult` objects through ``embed_batch``. It receives, for each
image, the face the cleaning stage found (a :class:`Face` or None); models
with their own detector may ignore it, models that share the cleaning
detector (dlib) use it so that each image is detected once.

Adding a model: write ``faceage/models/<name>.py`` with ``ADAPTER``, add one
line to :data:`faceage.models.MODELS`, add ``envs/<env>.yaml`` (unless an
existing env fits) and a ``model_settings.<name>`` entry to the config schema.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceage.adapters import (  # noqa: F401 - the adapter modules import them from here
    Adapter,
    MissingPackageError,
    MissingWeightsError,
    WeightFile,
)


@dataclass(frozen=True)
class Face:
    """A face box in pixel coordinates of the loaded image (left, top, right, bottom)."""

    left: float
    top: float
    right: float
    bottom: float
    score: float = float("nan")

    @property
    def area(self) -> float:
        return max(0.0, self.right - self.left) * max(0.0, self.bottom - self.top)

    def as_box(self) -> tuple[float, float, float, float]:
        return (self.left, self.top, self.right, self.bottom)


@dataclass
class FaceResult:
    """What a model made of one image.

    ``vector`` is None when no embedding could be made; ``status`` then says
    why (``no_face``, ``several_faces``, ``error: ...``). ``n_faces`` is what
    the model's detector saw (-1: the model does not detect).
    """

    vector: np.ndarray | None
    status: str = "ok"
    n_faces: int = -1
    face: Face | None = None


class Embedder:
    """A loaded model. Subclasses implement :meth:`embed_batch`.

    :meth:`embed_aligned` embeds images that already are aligned face crops
    (an insightface ``.bin``), or the centre crop of an image on which the
    detector found no face (the protocol fallback): no detection, no
    alignment, only the resize to the recogniser's input. Models without it
    leave such images without a vector, with the reason.
    """

    dim: int = 0
    name: str = ""

    def embed_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[FaceResult]:
        raise NotImplementedError

    def embed_aligned(self, crops: list[np.ndarray]) -> list[FaceResult]:
        raise NotImplementedError(
            f"model {self.name or type(self).__name__!r} has no aligned-input mode"
        )


def resize_rgb(image: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``size`` x ``size`` (or (width, height)) pixels, bilinear."""
    from PIL import Image

    wh = (size, size) if isinstance(size, int) else size
    if image.shape[1] == wh[0] and image.shape[0] == wh[1]:
        return image
    return np.asarray(Image.fromarray(image).resize(wh, Image.Resampling.BILINEAR), dtype=np.uint8)


def centre_crop(image: np.ndarray, fraction: float = 1.0) -> np.ndarray:
    """The centred square whose side is ``fraction`` of the image's shorter side."""
    h, w = image.shape[:2]
    side = max(1, int(round(min(h, w) * fraction)))
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


class ModelAdapter(Adapter):
    """A face recogniser (:class:`faceage.adapters.Adapter`: weights, hint, provenance)."""

    kind = "model"
    env: str = "core"
    uses_clean_faces: bool = False  # does embed_batch use the cleaning detector's faces?

    def prepare(self, settings: dict, weights_dir: Path, images, out_dir: Path) -> dict:
        return {}

    def load(self, settings: dict, weights_dir: Path, state_dir: Path) -> Embedder:
        raise NotImplementedError


def package_versions(*names: str) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when not installed)."""
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def fill_vectors(results: list[FaceResult], slots: list[int], vectors) -> None:
    """Put row k of ``vectors`` (one per face chip, in order) into ``results[slots[k]]``.

    Models crop every usable face of a batch first and run the recogniser once on
    all the crops; this hands each vector back to the image it came from.
    """
    if not slots:
        return
    rows = np.asarray(vectors, dtype=np.float32).reshape(len(slots), -1)
    for i, v in zip(slots, rows, strict=True):
        results[i].vector = v


def largest(faces: list[Face]) -> Face | None:
    """The face with the largest box (ties: the first)."""
    best = None
    for f in faces:
        if best is None or f.area > best.area:
            best = f
    return best


@dataclass
class MultiFacePolicy:
    """What to do when a detector finds several faces: ``drop`` or ``largest``."""

    mode: str = "largest"
    counts: dict = field(default_factory=dict)

    def choose(self, faces: list[Face]) -> tuple[Face | None, str]:
        if not faces:
            return None, "no_face"
        if len(faces) > 1 and self.mode == "drop":
            return None, "several_faces"
        return largest(faces), "ok"
