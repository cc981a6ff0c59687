"""Model registry: name -> adapter module (imported lazily, in its own env).

See :mod:`faceage.models.base` for the interface. A new model is one module
plus one line here.
"""

from __future__ import annotations

import importlib

from faceage.models.base import ModelAdapter

MODELS = {
    "dlib": "faceage.models.dlib_resnet",
    "eigenfaces": "faceage.models.eigenfaces",
    "insightface": "faceage.models.insightface_pack",
    "insightface_paddle": "faceage.models.paddle_model",
    "deepface": "faceage.models.deepface_model",
}


def get_adapter(name: str) -> ModelAdapter:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    module = importlib.import_module(MODELS[name])
    return module.ADAPTER
