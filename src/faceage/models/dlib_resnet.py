"""dlib's ResNet face recogniser (128-d), the workflow's default model.

Pipeline: a face box (the cleaning stage's when ``reuse_clean_faces`` and it
found one; otherwise dlib's HOG or MMOD detector on the image), dlib's
5-point landmarks, a ``chip_size`` x ``chip_size`` aligned face chip with
``padding``, then the ResNet descriptor, computed for a whole batch of chips
in one call. Weights come from the PyPI package ``face-recognition-models``
(CC0), so nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from faceage.detection import (  # noqa: F401 - the model's files
    SOURCE,
    DlibDetector,
    dlib_rect,
    model_files,
)
from faceage.models.base import (
    Embedder,
    Face,
    FaceResult,
    MissingPackageError,
    ModelAdapter,
    WeightFile,
    face_choice,
    fill_vectors,
    package_versions,
    resize_rgb,
)

DEFAULTS = {
    "detector": "hog",
    "upsample": 1,
    "reuse_clean_faces": True,
    "chip_size": 150,
    "padding": 0.25,
    "jitter": 0,
}


class DlibEmbedder(Embedder):
    dim = 128

    def __init__(self, settings: dict):
        settings = ADAPTER.resolved(settings)
        try:
            import dlib
        except ImportError as exc:
            raise MissingPackageError("dlib", "dlib-bin", "dlib", exc) from exc
        files = model_files()
        self._dlib = dlib
        self.settings = settings
        self.sp = dlib.shape_predictor(str(files["landmarks"]))
        self.rec = dlib.face_recognition_model_v1(str(files["recogniser"]))
        self.detector = DlibDetector(settings["detector"], settings["upsample"])
        self.policy = face_choice(settings)
        self.reuse = bool(settings["reuse_clean_faces"])
        self.chip_size = int(settings["chip_size"])
        self.padding = float(settings["padding"])
        self.jitter = int(settings["jitter"])

    def chip(self, image: np.ndarray, face: Face) -> np.ndarray:
        shape = self.sp(image, dlib_rect(self._dlib, face))
        return self._dlib.get_face_chip(image, shape, size=self.chip_size, padding=self.padding)

    def embed_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[FaceResult]:
        results: list[FaceResult] = []
        chips, slots = [], []
        for i, (image, clean_face) in enumerate(zip(images, faces, strict=True)):
            if self.reuse and clean_face is not None:
                face, n_faces, status = clean_face, -1, "ok"
            else:
                found = self.detector(image)
                face, status = self.policy.choose(found, image.shape)
                n_faces = len(found)
            results.append(FaceResult(None, status, n_faces, face))
            if face is not None:
                chips.append(self.chip(image, face))
                slots.append(i)
        return self._describe(results, slots, chips)

    def _describe(self, results: list[FaceResult], slots: list[int], chips) -> list[FaceResult]:
        """The ResNet's descriptors of ``chips``, one call for the batch, into ``results``
        at ``slots``."""
        if chips:
            fill_vectors(results, slots, self.rec.compute_face_descriptor(chips, self.jitter))
        return results

    def embed_fallback(self, images: list[np.ndarray], boxes: list[Face]) -> list[FaceResult]:
        """dlib's own convention where HOG finds nothing (its maintainer's LFW procedure):
        the 5-point landmarks in the guessed box, then the aligned chip."""
        pairs = zip(images, boxes, strict=True)
        chips = [self.chip(np.ascontiguousarray(im), b) for im, b in pairs]
        results = [FaceResult(None, "ok", 0, b) for b in boxes]
        return self._describe(results, list(range(len(chips))), chips)

    def embed_aligned(self, crops: list[np.ndarray]) -> list[FaceResult]:
        """Each crop resized to a ``chip_size`` chip and described as it is (no landmarks)."""
        chips = [np.ascontiguousarray(resize_rgb(c, self.chip_size)) for c in crops]
        results = [FaceResult(None, "ok", -1, None) for _ in chips]
        return self._describe(results, list(range(len(chips))), chips)


class DlibAdapter(ModelAdapter):
    name = "dlib"
    env = "dlib"
    uses_clean_faces = True
    published_default = "dlib_resnet_v1"
    defaults = DEFAULTS

    def required_files(self, settings, weights_dir):
        files = model_files()
        needed = [files["landmarks"], files["recogniser"]]
        if self.resolved(settings)["detector"] == "mmod":
            needed.append(files["mmod"])
        return [WeightFile(p, SOURCE) for p in needed]

    def load(self, settings, weights_dir, state_dir):
        return DlibEmbedder(settings)

    def provenance(self, settings, weights_dir):
        settings = self.resolved(settings)
        files = model_files()
        return {
            "model": self.name,
            "embedding": "dlib_face_recognition_resnet_model_v1, 128-d",
            "weights": {k: str(v) for k, v in files.items()},
            "colour_order": "RGB",
            "alignment": (
                f"dlib 5-point face chip, size {settings['chip_size']}, "
                f"padding {settings['padding']}"
            ),
            "settings": settings,
            "packages": package_versions("dlib-bin", "dlib", "face-recognition-models", "numpy"),
        }


ADAPTER = DlibAdapter()
