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
from dataclasses import dataclass
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

    def embed_fallback(self, images: list[np.ndarray], boxes: list[Face]) -> list[FaceResult]:
        """The no-face fallback's aligned route: the model's own landmark/alignment step
        (or a second, more lenient detection) on images where its detector found no face,
        guided by a guessed box per image. A result without a vector sends that image to
        the last resort, the unaligned centre crop; models without this route raise
        ``NotImplementedError`` and all go there."""
        raise NotImplementedError(
            f"model {self.name or type(self).__name__!r} has no aligned no-face fallback"
        )


def mirror(image: np.ndarray) -> np.ndarray:
    """``image`` flipped left to right."""
    return np.ascontiguousarray(image[:, ::-1])


def mirror_face(face: Face | None, width: int) -> Face | None:
    """``face``'s box in the mirror image of an image ``width`` pixels wide."""
    if face is None:
        return None
    return Face(width - face.right, face.top, width - face.left, face.bottom, face.score)


class FlipEmbedder(Embedder):
    """Test-time flip for any model (the model setting ``flip``): each vector is the sum of
    the model's vectors for the image and for its mirror image, as insightface's
    evaluation adds the flipped crop's embedding. The mirror image goes through the model's
    whole pipeline (detection, alignment) with its boxes mirrored. Where only one of the two
    gives a vector, that one is kept."""

    def __init__(self, inner: Embedder):
        self.inner = inner
        self.name = inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    @staticmethod
    def _sum(results: list[FaceResult], mirrored: list[FaceResult]) -> list[FaceResult]:
        for res, mir in zip(results, mirrored, strict=True):
            if res.vector is not None and mir.vector is not None:
                res.vector = np.asarray(res.vector, np.float32) + np.asarray(mir.vector, np.float32)
        return results

    def embed_batch(self, images, faces):
        flipped = [mirror_face(f, im.shape[1]) for im, f in zip(images, faces, strict=True)]
        return self._sum(
            self.inner.embed_batch(images, faces),
            self.inner.embed_batch([mirror(im) for im in images], flipped),
        )

    def embed_aligned(self, crops):
        return self._sum(
            self.inner.embed_aligned(crops), self.inner.embed_aligned([mirror(c) for c in crops])
        )

    def embed_fallback(self, images, boxes):
        flipped = [mirror_face(b, im.shape[1]) for im, b in zip(images, boxes, strict=True)]
        return self._sum(
            self.inner.embed_fallback(images, boxes),
            self.inner.embed_fallback([mirror(im) for im in images], flipped),
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


# Settings every model has, handled by the embedding stage and this module, not by adapters.
COMMON_DEFAULTS = {
    "batch_size": 32,
    "aligned_input": False,
    "flip": False,
    "published_as": "",
    "multi_face": "auto",
}


class ModelAdapter(Adapter):
    """A face recogniser (:class:`faceage.adapters.Adapter`: weights, hint, provenance)."""

    kind = "model"
    env: str = "core"
    uses_clean_faces: bool = False  # does embed_batch use the cleaning detector's faces?
    # The adapter's own settings and their defaults (the config schema's, checked by
    # tests/test_model_defaults.py); :data:`COMMON_DEFAULTS` come on top.
    defaults: dict = {}

    def resolved(self, settings: dict | None) -> dict:
        """``settings`` with every default of this model filled in."""
        from faceage.adapters import with_defaults

        return with_defaults({**COMMON_DEFAULTS, **self.defaults}, settings)

    def prepare(self, settings: dict, weights_dir: Path, images, out_dir: Path) -> dict:
        return {}

    # The recogniser's name in faceage.protocols.published, when the adapter knows it.
    published_default: str | None = None

    def published_id(self, settings: dict) -> str | None:
        """Which published recogniser this model is (the setting ``published_as``, else
        :attr:`published_default`): its published figures go beside ours."""
        return (settings or {}).get("published_as") or self.published_default

    def load(self, settings: dict, weights_dir: Path, state_dir: Path) -> Embedder:
        raise NotImplementedError


def test_time(settings: dict) -> dict:
    """The test-time conventions a model's settings ask for (published figures differ by
    them): ``flip`` for every model, ``jitter`` where the model has it."""
    out = {"flip": bool(settings.get("flip", False))}
    if "jitter" in settings:
        out["jitter"] = int(settings["jitter"])
    return out


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


# The face-choice policies (config ``face_choice``; one policy for the clean stage and
# every model): the subject's face is the one nearest the image centre among faces of a
# reasonable size, the largest face, or none when several are found.
FACE_CHOICES = ("centre", "largest", "drop")
# ``centre`` considers only faces whose box side is at least this share of the largest
# face's side: a small face in the background near the centre (a poster, a bystander far
# behind) never beats the subject, while a bystander's larger face off-centre does not
# either.
CENTRE_MIN_SIDE = 0.5


def centre_offset(face: Face, shape: tuple[int, ...]) -> float:
    """Distance in pixels from the centre of ``face``'s box to the centre of an image of
    ``shape`` (height, width, ...)."""
    h, w = shape[:2]
    cx, cy = (face.left + face.right) / 2, (face.top + face.bottom) / 2
    return float(np.hypot(cx - w / 2, cy - h / 2))


def centred(faces: list[Face], shape: tuple[int, ...]) -> Face | None:
    """The face nearest the image centre among those whose side is at least
    :data:`CENTRE_MIN_SIDE` of the largest side (ties: the larger, then the first)."""
    if not faces:
        return None
    side = max(np.sqrt(f.area) for f in faces)
    ok = [f for f in faces if np.sqrt(f.area) >= CENTRE_MIN_SIDE * side]
    return min(ok, key=lambda f: (centre_offset(f, shape), -f.area))


def nearest(faces: list[Face], box: Face) -> Face | None:
    """The face whose centre is nearest ``box``'s centre (None when there is none)."""
    if not faces:
        return None
    bx, by = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    return min(
        faces, key=lambda f: np.hypot((f.left + f.right) / 2 - bx, (f.top + f.bottom) / 2 - by)
    )


@dataclass
class FaceChoice:
    """Which face of an image is used: ``centre`` (the subject of a portrait), ``largest``
    or ``drop`` (no face when several are found). See :data:`FACE_CHOICES`."""

    mode: str = "centre"

    def __post_init__(self):
        if self.mode not in FACE_CHOICES:
            raise ValueError(f"face choice must be one of {FACE_CHOICES}, got {self.mode!r}")

    def choose(self, faces: list[Face], shape: tuple[int, ...]) -> tuple[Face | None, str]:
        """(the chosen face or None, ``ok`` / ``no_face`` / ``several_faces``) for the
        ``faces`` found in an image of ``shape``."""
        if not faces:
            return None, "no_face"
        if len(faces) > 1 and self.mode == "drop":
            return None, "several_faces"
        if self.mode == "centre":
            return centred(faces, shape), "ok"
        return largest(faces), "ok"


def face_choice(settings: dict) -> FaceChoice:
    """A model's face choice: its ``multi_face`` setting (the workflow passes its resolved
    ``face_choice`` there); ``auto`` or none outside the workflow: ``centre``."""
    mode = (settings or {}).get("multi_face") or "auto"
    return FaceChoice("centre" if mode == "auto" else mode)
