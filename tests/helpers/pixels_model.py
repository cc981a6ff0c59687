"""A model adapter written from docs/architecture.md alone, with nothing copied from another
adapter: dlib's HOG boxes (faceage.detection) and a recogniser that is the face's grey pixels
at 24 x 24 (a baseline, not a face model). tests/test_new_adapter.py registers and runs it."""

import numpy as np

from faceage.detection import DlibDetector
from faceage.models.base import Embedder, FaceResult, ModelAdapter, face_choice, resize_rgb


class PixelsEmbedder(Embedder):
    def __init__(self, settings: dict):
        self.detector = DlibDetector("hog", settings["upsample"])
        self.policy = face_choice(settings)
        self.side = settings["side"]
        self.dim = self.side * self.side

    def _vector(self, image, face) -> np.ndarray:
        left, top, right, bottom = (int(round(v)) for v in face.as_box())
        crop = image[max(top, 0) : bottom, max(left, 0) : right]
        return resize_rgb(crop, self.side).mean(axis=2).ravel().astype(np.float32)

    def embed_batch(self, images, faces):
        results = []
        for image in images:
            found = self.detector(image)
            face, status = self.policy.choose(found, image.shape)
            vector = None if face is None else self._vector(image, face)
            results.append(FaceResult(vector, status, len(found), face))
        return results


class PixelsAdapter(ModelAdapter):
    name = "pixels"
    env = "dlib"
    defaults = {"upsample": 1, "side": 24}

    def required_files(self, settings, weights_dir):
        return []

    def load(self, settings, weights_dir, state_dir):
        return PixelsEmbedder(self.resolved(settings))

    def provenance(self, settings, weights_dir):
        return {"model": self.name, "settings": self.resolved(settings)}


ADAPTER = PixelsAdapter()
