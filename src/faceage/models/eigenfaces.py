"""Eigenfaces: a classical baseline that needs no weights.

Each image becomes a ``size`` x ``size`` grey crop (around the cleaning
stage's face box when there is one, else the centred square of the image),
standardised per image (zero mean, unit variance: removes overall lighting),
and is projected on the principal components of the dataset's own crops
(scikit-learn PCA; whitening optional, off by default: with many components it
amplifies the noise in the weakest ones). The PCA is fitted once, in ``prepare``, on up to
``fit_images`` images drawn with ``seed``; it is unsupervised and sees no
labels, but it is fitted on the evaluated images themselves, which flatters
it a little: it is a baseline, not a contender.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from faceage.models.base import Embedder, Face, FaceResult, ModelAdapter, package_versions

STATE = "pca.npz"


def grey_crop(image: np.ndarray, face: Face | None, size: int, margin: float = 0.2) -> np.ndarray:
    """A standardised ``size`` x ``size`` grey crop (float32, flattened)."""
    h, w = image.shape[:2]
    if face is not None:
        cx, cy = (face.left + face.right) / 2, (face.top + face.bottom) / 2
        side = max(face.right - face.left, face.bottom - face.top) * (1 + 2 * margin)
    else:
        cx, cy, side = w / 2, h / 2, min(w, h)
    half = side / 2
    box = (
        int(round(cx - half)),
        int(round(cy - half)),
        int(round(cx + half)),
        int(round(cy + half)),
    )
    grey = (
        Image.fromarray(image)
        .convert("L")
        .crop(box)
        .resize((size, size), Image.Resampling.BILINEAR)
    )
    x = np.asarray(grey, dtype=np.float32).ravel()
    return (x - x.mean()) / (x.std() + 1e-6)


class EigenEmbedder(Embedder):
    def __init__(self, state: dict, size: int):
        self.mean = state["mean"]
        self.components = state["components"]
        self.scale = state["scale"]
        self.size = size
        self.dim = self.components.shape[0]

    def embed_aligned(self, crops):
        return self.embed_batch(crops, [None] * len(crops))  # the centred square of each crop

    def embed_batch(self, images, faces):
        x = np.stack([grey_crop(im, f, self.size) for im, f in zip(images, faces, strict=True)])
        z = ((x - self.mean) @ self.components.T) / self.scale
        return [
            FaceResult(v.astype(np.float32), "ok", -1, f) for v, f in zip(z, faces, strict=True)
        ]


class EigenfacesAdapter(ModelAdapter):
    name = "eigenfaces"
    env = "core"
    uses_clean_faces = True
    defaults = {"size": 64, "components": 50, "whiten": False, "fit_images": 2000, "batch_size": 64}

    def prepare(self, settings, weights_dir, images, out_dir):
        """Fit the PCA on ``images``: an iterable of (rgb array, Face | None)."""
        from sklearn.decomposition import PCA

        settings = self.resolved(settings)
        size = int(settings["size"])
        x = np.stack([grey_crop(im, f, size) for im, f in images])
        n_comp = int(min(settings["components"], x.shape[0] - 1, x.shape[1]))
        whiten = bool(settings["whiten"])
        pca = PCA(n_components=n_comp, whiten=whiten, svd_solver="full", random_state=0).fit(x)
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        from faceage.contracts import atomic_path

        with atomic_path(out_dir / STATE) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh,
                mean=pca.mean_.astype(np.float32),
                components=pca.components_.astype(np.float32),
                scale=(np.sqrt(pca.explained_variance_) if whiten else np.ones(n_comp)).astype(
                    np.float32
                ),
            )
        return {
            "fitted_on_images": int(x.shape[0]),
            "components": n_comp,
            "explained_variance": float(pca.explained_variance_ratio_.sum()),
        }

    def load(self, settings, weights_dir, state_dir):
        with np.load(Path(state_dir) / STATE) as data:
            state = {k: data[k] for k in ("mean", "components", "scale")}
        return EigenEmbedder(state, int(self.resolved(settings)["size"]))

    def provenance(self, settings, weights_dir):
        return {
            "model": self.name,
            "embedding": "PCA of standardised grey crops",
            "colour_order": "grey (from RGB)",
            "settings": settings,
            "packages": package_versions("scikit-learn", "numpy", "pillow"),
        }


ADAPTER = EigenfacesAdapter()
