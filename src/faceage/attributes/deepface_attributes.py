"""deepface's Age and Gender models (``DeepFace.analyze``, actions age + gender).

deepface detects and aligns each face with ``detector_backend`` (images
handed over in BGR, deepface's convention), then runs its VGG-Face based
Age model (101-way distribution, the expectation is the age) and Gender
model (Woman/Man, percentages). A batch of images goes through one
``analyze`` call. ``enforce_detection=False`` keeps one face-less image from
sinking the batch; the whole-image stand-in deepface returns then is
reported as ``no_face`` (see :func:`faceage.models.deepface_model.is_stand_in`).

Weights: ``$DEEPFACE_HOME/.deepface/weights/``, DEEPFACE_HOME being the
``weights_dir`` setting or ``<weights_dir>/deepface``, as for the ``deepface``
recognition model (:func:`faceage.models.deepface_model.deepface_home`):
``age_model_weights.h5`` and ``gender_model_weights.h5`` (TensorFlow
backend; ``.onnx`` for backend onnx) plus the detector's files. deepface
would try to download missing files at run time; this adapter checks them
first and stops with :class:`~faceage.models.base.MissingWeightsError`.

Settings: ``weights_dir`` (null), ``detector_backend`` (opencv), ``align`` (true),
``expand_percentage`` (0), ``backend`` (tensorflow | onnx).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceage.adapters import with_defaults
from faceage.attributes.base import Attributes, Estimator, EstimatorAdapter, gender_code
from faceage.models.base import MissingPackageError, WeightFile, largest, package_versions
from faceage.models.deepface_model import (
    DETECTOR_FILES,
    detected_faces,
    set_environment,
    weights_folder,
)

DEFAULTS = {
    "weights_dir": None,
    "detector_backend": "opencv",
    "align": True,
    "expand_percentage": 0,
    "backend": "tensorflow",
}
_URL = "https://github.com/serengil/deepface_models/releases/download/v1.0/"
SUFFIX = {"tensorflow": ".h5", "onnx": ".onnx"}


def resolved(settings: dict) -> dict:
    out = with_defaults(DEFAULTS, settings)
    if out["backend"] not in SUFFIX:
        raise ValueError(
            f"deepface attributes: backend must be one of {sorted(SUFFIX)}, got {out['backend']!r}"
        )
    return out


def needed_files(settings: dict) -> list[tuple[str, str]]:
    s = resolved(settings)
    files = [
        (
            f"{m}_model_weights{SUFFIX[s['backend']]}",
            _URL + f"{m}_model_weights{SUFFIX[s['backend']]}",
        )
        for m in ("age", "gender")
    ]
    return files + list(DETECTOR_FILES.get(s["detector_backend"], []))


class DeepfaceAttributes(Estimator):
    def __init__(self, settings: dict, weights_dir: Path):
        self.settings = resolved(settings)
        # deepface_model.set_environment reads model settings; only backend matters here.
        set_environment(
            {"backend": self.settings["backend"], "weights_dir": self.settings["weights_dir"]},
            weights_dir,
        )
        try:
            from deepface import DeepFace
        except ImportError as exc:
            raise MissingPackageError("deepface (attributes)", "deepface", "deepface", exc) from exc
        self._df = DeepFace
        for name in ("Age", "Gender"):  # load now: weight errors surface before any image
            DeepFace.build_model(model_name=name, task="facial_attribute")

    def predict_batch(self, images, faces):
        s = self.settings
        bgr = [np.ascontiguousarray(im[:, :, ::-1]) for im in images]
        out = self._df.analyze(
            img_path=bgr if len(bgr) > 1 else bgr[0],
            actions=("age", "gender"),
            enforce_detection=False,
            detector_backend=s["detector_backend"],
            align=bool(s["align"]),
            expand_percentage=int(s["expand_percentage"]),
            silent=True,
        )
        per_image = out if len(bgr) > 1 else [out]
        results = []
        for im, objs in zip(images, per_image, strict=True):
            objs = [o | {"facial_area": o.get("region", {})} for o in objs]
            real, boxes = detected_faces(objs, im, s["detector_backend"])
            best = largest(boxes)
            if best is None:
                results.append(Attributes(status="no_face", n_faces=0))
                continue
            o = real[boxes.index(best)]
            gender = gender_code(o.get("dominant_gender"))
            scores = o.get("gender") or {}
            conf = scores.get("Man" if gender == "M" else "Woman", np.nan)
            results.append(
                Attributes(
                    age=float(o["age"]),
                    gender=gender,
                    gender_confidence=float(conf) / 100.0,
                    n_faces=len(boxes),
                    face=best,
                )
            )
        return results


class DeepfaceAttributesAdapter(EstimatorAdapter):
    name = "deepface"
    env = "deepface"
    age_range = (0.0, 100.0)
    # Not measured here (no weights on this machine); deepface's author reports
    # a MAE of about 4.65 years on its own test split.
    reference_mae = 8.0
    reference_note = "a placeholder: not measured here (no deepface age weights on this machine)"

    def required_files(self, settings, weights_dir):
        folder = weights_folder(resolved(settings), Path(weights_dir))
        return [WeightFile(folder / name, src) for name, src in needed_files(settings)]

    def download_hint(self):
        return (
            "deepface reads $DEEPFACE_HOME/.deepface/weights/; the workflow sets DEEPFACE_HOME "
            "to the weights folder. Put the files there by hand "
            "(deepface downloads only with internet)."
        )

    def load(self, settings, weights_dir):
        return DeepfaceAttributes(settings, Path(weights_dir))

    def provenance(self, settings, weights_dir):
        s = resolved(settings)
        folder = weights_folder(resolved(settings), Path(weights_dir))
        return {
            "estimator": self.name,
            "weights": [str(folder / n) for n, _ in needed_files(s)],
            "models": "deepface Age (101-way, expectation) and Gender (Woman/Man) on VGG-Face",
            "colour_order": "BGR (deepface's convention)",
            "settings": s,
            "packages": package_versions(
                "deepface", "tensorflow", "tf-keras", "onnxruntime", "opencv-python", "numpy"
            ),
        }


ESTIMATOR = DeepfaceAttributesAdapter()
