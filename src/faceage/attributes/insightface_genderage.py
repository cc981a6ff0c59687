"""insightface's gender/age model (``genderage.onnx`` of the buffalo_l pack).

The pack's SCRFD detector finds the faces (image handed over in BGR,
insightface's convention); for the largest face insightface's own
``Attribute`` model crops a 96x96 square around the box (1.5x the longer
side) and returns gender (argmax of two outputs, 1 = male) and age
(third output x 100, rounded) through the library's ``FaceAnalysis.get``.
insightface does not report a confidence, so the same crop is run once more
through the model's session to read the two gender outputs: their softmax
(or the values themselves when they already are probabilities) is the
gender confidence. No age confidence exists (NaN).

Weights: ``<weights_dir>/insightface/models/<pack>/`` (or the ``weights_dir``
setting's ``models/<pack>/``) must hold the pack's detector and
``genderage.onnx`` (the same folder the ``insightface`` recognition model
uses; see :mod:`faceage.models.insightface_pack`). Settings: ``pack``
(buffalo_l), ``weights_dir``, ``det_size`` (320), ``det_thresh`` (0.5), ``providers``
(CPU), as for the recognition model, and ``genderage_file``
(genderage.onnx).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceage.attributes.base import Attributes, Estimator, EstimatorAdapter
from faceage.models.base import Face, MissingPackageError, WeightFile, largest, package_versions
from faceage.models.insightface_pack import KNOWN_PACKS, PACK_URL, det_sizes, pack_dir
from faceage.models.insightface_pack import resolved as pack_settings

DEFAULTS = {"genderage_file": "genderage.onnx"}


def resolved(settings: dict) -> dict:
    out = pack_settings(settings)
    for k, v in DEFAULTS.items():
        out.setdefault(k, v)
    return out


def gender_probabilities(raw: np.ndarray) -> np.ndarray:
    """[p_female, p_male] from the model's first two outputs.

    Softmax, unless they already are probabilities.
    """
    two = np.asarray(raw[:2], dtype=np.float64)
    if (two >= 0).all() and (two <= 1).all() and abs(two.sum() - 1.0) < 1e-3:
        return two
    e = np.exp(two - two.max())
    return e / e.sum()


class InsightfaceGenderAge(Estimator):
    def __init__(self, settings: dict, weights_dir: Path):
        try:
            import cv2
            from insightface.app import FaceAnalysis
            from insightface.utils import face_align
        except ImportError as exc:
            raise MissingPackageError(
                "insightface (attributes)", "insightface", "insightface", exc
            ) from exc
        s = resolved(settings)
        self._cv2, self._align = cv2, face_align
        providers = s["providers"]
        self.app = FaceAnalysis(
            name=str(pack_dir(s, weights_dir)),
            root=str(weights_dir),
            allowed_modules=["detection", "genderage"],
            providers=list(providers) if providers else None,
        )
        if "genderage" not in self.app.models:
            raise RuntimeError(
                f"insightface pack {pack_dir(s, weights_dir)} has no gender/age model "
                "(an .onnx with a 96x96 input and 3 outputs, e.g. genderage.onnx)"
            )
        sizes = det_sizes(s["det_size"])
        self.app.prepare(
            ctx_id=-1 if providers == ["CPUExecutionProvider"] else 0,
            det_thresh=float(s["det_thresh"]),
            det_size=sizes[0] if len(sizes) == 1 else sizes,
        )
        self.model = self.app.models["genderage"]

    def _raw(self, bgr: np.ndarray, bbox) -> np.ndarray:
        """The model's three outputs for the crop insightface's ``Attribute.get`` makes."""
        m = self.model
        w, h = bbox[2] - bbox[0], bbox[3] - bbox[1]
        center = (bbox[2] + bbox[0]) / 2, (bbox[3] + bbox[1]) / 2
        scale = m.input_size[0] / (max(w, h) * 1.5)
        crop, _ = self._align.transform(bgr, center, m.input_size[0], scale, 0)
        blob = self._cv2.dnn.blobFromImage(
            crop, 1.0 / m.input_std, tuple(crop.shape[0:2][::-1]), (m.input_mean,) * 3, swapRB=True
        )
        return np.asarray(m.session.run(m.output_names, {m.input_name: blob})[0][0])

    def predict_batch(self, images, faces):
        out = []
        for image in images:
            bgr = np.ascontiguousarray(image[:, :, ::-1])
            found = self.app.get(bgr)
            if not found:
                out.append(Attributes(status="no_face", n_faces=0))
                continue
            boxes = [Face(*(float(v) for v in f.bbox[:4]), float(f.det_score)) for f in found]
            best = largest(boxes)
            f = found[boxes.index(best)]
            p = gender_probabilities(self._raw(bgr, f.bbox))
            gender = "M" if int(f.gender) == 1 else "F"
            out.append(
                Attributes(
                    age=float(f.age),
                    gender=gender,
                    gender_confidence=float(p[int(f.gender)]),
                    n_faces=len(found),
                    face=best,
                )
            )
        return out


class InsightfaceGenderAgeAdapter(EstimatorAdapter):
    name = "insightface"
    env = "insightface"
    age_range = (0.0, 100.0)
    # insightface publishes no MAE for genderage; not measured here (no weights).
    reference_mae = 8.0
    reference_note = "a placeholder: not measured here (no genderage.onnx on this machine)"

    def required_files(self, settings, weights_dir):
        s = resolved(settings)
        folder = pack_dir(s, weights_dir)
        source = PACK_URL.format(pack=s["pack"]) + " (unzip into this folder)"
        files = [WeightFile(folder / s["genderage_file"], source)]
        if s["pack"] in KNOWN_PACKS:
            files.append(WeightFile(folder / KNOWN_PACKS[s["pack"]][0], source))
        return files

    def download_hint(self):
        return (
            "insightface reads <weights_dir>/insightface/models/<pack>/*.onnx; "
            "the buffalo_l pack (non-commercial research use) holds det_10g.onnx and "
            "genderage.onnx."
        )

    def load(self, settings, weights_dir):
        return InsightfaceGenderAge(settings, Path(weights_dir))

    def provenance(self, settings, weights_dir):
        s = resolved(settings)
        folder = pack_dir(s, weights_dir)
        return {
            "estimator": self.name,
            "pack": str(folder),
            "files": sorted(p.name for p in folder.glob("*.onnx")) if folder.is_dir() else [],
            "crop": "insightface Attribute: 96x96 square, 1.5x the detector box, no rotation, "
            "BGR->RGB blob",
            "gender_confidence": "softmax of the two gender outputs of the same crop",
            "settings": s,
            "packages": package_versions(
                "insightface", "onnxruntime", "onnx", "opencv-python", "numpy"
            ),
        }


ESTIMATOR = InsightfaceGenderAgeAdapter()
