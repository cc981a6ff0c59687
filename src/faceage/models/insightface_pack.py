"""insightface model packs (default buffalo_l: SCRFD-10G detector + ArcFace R50, 512-d).

Pipeline, as ``insightface.app.FaceAnalysis`` does it but batched: SCRFD finds
faces and their 5 keypoints in each image (the image is handed over in BGR,
insightface's convention), the chosen face is aligned to 112x112 with
insightface's ``norm_crop`` (ArcFace's 5-point template), and the crops of a
whole batch go through the recogniser's ``get_feat`` in one call.

Weights are not in any package: insightface reads ``<root>/models/<pack>/*.onnx``
and this adapter passes ``root=`` (there is no environment
variable) with ``root`` = ``<weights_dir>/insightface`` (or the model's own
``weights_dir`` setting), so the default location is
``resources/weights/insightface/models/buffalo_l/``.

Settings (``model_settings.insightface``):

* ``pack`` (``buffalo_l``): the folder name under ``<root>/models/``.
* ``det_size`` (320): SCRFD input size, an int (square), ``[w, h]``, or a list
  of ints for several scales merged by NMS (insightface >= 2 defaults to
  ``[128, 640]``). On FG-NET's tightly cropped scans 640 misses the face in
  about 39 % of images; 320 finds all but one.
* ``det_thresh`` (0.5): detector score threshold.
* ``pad`` (0.0): pad the image on each side by this fraction of its size
  (black border) before detection, another cure for tight crops.
* ``multi_face`` (the workflow's ``face_choice``): ``centre``, ``largest`` or ``drop``
  when several faces are found (:class:`faceage.models.base.FaceChoice`).
* ``providers`` (``[CPUExecutionProvider]``): onnxruntime providers, e.g.
  ``[CUDAExecutionProvider, CPUExecutionProvider]`` on a GPU node.
* ``weights_dir`` (empty): insightface's root folder for this model, instead of
  ``<weights_dir>/insightface``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faceage.adapters import weight_facts
from faceage.models.base import (
    Embedder,
    Face,
    FaceResult,
    MissingPackageError,
    ModelAdapter,
    WeightFile,
    face_choice,
    fill_vectors,
    nearest,
    package_versions,
    resize_rgb,
)

PACK_URL = "https://github.com/deepinsight/insightface/releases/download/v0.7/{pack}.zip"
# The detection and recognition files of insightface's published packs (the
# packs also hold landmark/attribute models, which this adapter does not load).
KNOWN_PACKS = {
    "buffalo_l": ("det_10g.onnx", "w600k_r50.onnx"),
    "buffalo_m": ("det_2.5g.onnx", "w600k_r50.onnx"),
    "buffalo_s": ("det_500m.onnx", "w600k_mbf.onnx"),
    "buffalo_sc": ("det_500m.onnx", "w600k_mbf.onnx"),
    "antelopev2": ("scrfd_10g_bnkps.onnx", "glintr100.onnx"),
}
# The no-face fallback's second detection pass (embed_fallback).
FALLBACK_DET_THRESH = 0.1
FALLBACK_PAD = 0.25
DEFAULTS = {
    "pack": "buffalo_l",
    "det_size": 320,
    "det_thresh": 0.5,
    "pad": 0.0,
    "providers": ["CPUExecutionProvider"],
    "weights_dir": "",
    "batch_size": 32,
}


def resolved(settings: dict) -> dict:
    """``settings`` with every default filled in (what provenance records)."""
    return ADAPTER.resolved(settings)


def det_sizes(value) -> list[tuple[int, int]]:
    """``det_size`` setting -> list of (width, height) detector input sizes.

    ``320`` -> [(320, 320)]; ``[640, 480]`` -> [(640, 480)] (one w, h pair);
    several scales, merged by the detector's NMS: ``[[128, 128], [640, 640]]``
    or a list of three or more ints.
    """
    if isinstance(value, int | float):
        return [(int(value), int(value))]
    items = list(value)
    if all(isinstance(v, int | float) for v in items):
        if len(items) == 2:
            return [(int(items[0]), int(items[1]))]
        return [(int(v), int(v)) for v in items]
    return [
        (int(v), int(v)) if isinstance(v, int | float) else (int(v[0]), int(v[1])) for v in items
    ]


def model_root(settings: dict, weights_dir: Path) -> Path:
    """insightface's ``root``: the ``weights_dir`` setting.

    Else ``<workflow weights_dir>/insightface``.
    """
    return Path(resolved(settings)["weights_dir"] or Path(weights_dir) / "insightface")


def pack_dir(settings: dict, weights_dir: Path) -> Path:
    return model_root(settings, weights_dir) / "models" / resolved(settings)["pack"]


class InsightfaceEmbedder(Embedder):
    def __init__(self, settings: dict, weights_dir: Path):
        try:
            import cv2  # noqa: F401 - insightface needs it; fail here with the env's name
            from insightface.app import FaceAnalysis
            from insightface.utils import face_align
        except ImportError as exc:
            raise MissingPackageError("insightface", "insightface", "insightface", exc) from exc
        s = resolved(settings)
        self.settings = s
        self._align = face_align
        providers = s["providers"]
        self.app = FaceAnalysis(
            name=s["pack"],
            root=str(model_root(s, weights_dir)),
            allowed_modules=["detection", "recognition"],
            providers=list(providers) if providers else None,
        )
        if "recognition" not in self.app.models:
            raise RuntimeError(
                f"insightface pack {pack_dir(s, weights_dir)} has no recognition model"
            )
        sizes = det_sizes(s["det_size"])
        self.app.prepare(
            ctx_id=0,
            det_thresh=float(s["det_thresh"]),
            det_size=sizes[0] if len(sizes) == 1 else sizes,
        )
        self.det = self.app.det_model
        self.rec = self.app.models["recognition"]
        self.dim = (
            int(self.rec.output_shape[-1]) if isinstance(self.rec.output_shape[-1], int) else 0
        )
        self.crop_size = int(self.rec.input_size[0])
        self.pad = float(s["pad"])
        self.policy = face_choice(s)

    def detect(self, bgr: np.ndarray) -> tuple[list[Face], list[np.ndarray]]:
        """Faces (in ``bgr``'s pixel coordinates) and their 5 keypoints."""
        offset = 0
        img = bgr
        if self.pad > 0:
            offset = int(round(self.pad * max(bgr.shape[:2])))
            img = np.pad(bgr, ((offset, offset), (offset, offset), (0, 0)))
        boxes, kpss = self.det.detect(img, max_num=0)
        faces, kps = [], []
        for i in range(boxes.shape[0]):
            x0, y0, x1, y1, score = (float(v) for v in boxes[i, :5])
            faces.append(Face(x0 - offset, y0 - offset, x1 - offset, y1 - offset, score))
            kps.append(np.asarray(kpss[i], dtype=np.float32) - offset if kpss is not None else None)
        return faces, kps

    def _embed(self, images: list[np.ndarray], choose) -> list[FaceResult]:
        """Detect, pick a face with ``choose(index, faces, shape)``, align, recognise."""
        results: list[FaceResult] = []
        crops, slots = [], []
        for i, rgb in enumerate(images):
            bgr = np.ascontiguousarray(rgb[:, :, ::-1])  # insightface works in BGR
            found, kps = self.detect(bgr)
            face, status = choose(i, found, rgb.shape)
            results.append(FaceResult(None, status, len(found), face))
            if face is None:
                continue
            landmarks = kps[found.index(face)]
            if landmarks is None:
                results[-1].status = "error: detector gave no keypoints"
                continue
            crops.append(self._align.norm_crop(bgr, landmark=landmarks, image_size=self.crop_size))
            slots.append(i)
        if crops:
            fill_vectors(results, slots, self.rec.get_feat(crops))
        return results

    def embed_batch(self, images: list[np.ndarray], faces: list[Face | None]) -> list[FaceResult]:
        return self._embed(images, lambda i, found, shape: self.policy.choose(found, shape))

    def embed_fallback(self, images: list[np.ndarray], boxes: list[Face]) -> list[FaceResult]:
        """A second SCRFD pass where the first found no face: score threshold
        :data:`FALLBACK_DET_THRESH` on the image padded by :data:`FALLBACK_PAD` of its
        longer side; the face nearest the guessed box is aligned from its keypoints. No
        face even then: no vector (the stage's last resort takes the centre crop)."""
        saved = self.det.det_thresh, self.pad
        self.det.det_thresh = min(saved[0], FALLBACK_DET_THRESH)
        self.pad = max(saved[1], FALLBACK_PAD)
        try:
            return self._embed(
                images,
                lambda i, found, shape: (nearest(found, boxes[i]), "ok" if found else "no_face"),
            )
        finally:
            self.det.det_thresh, self.pad = saved

    def embed_aligned(self, crops: list[np.ndarray]) -> list[FaceResult]:
        """Each crop resized to the recogniser's input (BGR), no detection or alignment."""
        bgr = [np.ascontiguousarray(resize_rgb(c, self.crop_size)[:, :, ::-1]) for c in crops]
        results = [FaceResult(None, "ok", -1, None) for _ in bgr]
        if bgr:
            fill_vectors(results, list(range(len(bgr))), self.rec.get_feat(bgr))
        return results


class InsightfaceAdapter(ModelAdapter):
    name = "insightface"
    env = "insightface"
    defaults = DEFAULTS
    uses_clean_faces = False

    def required_files(self, settings, weights_dir):
        s = resolved(settings)
        folder = pack_dir(s, weights_dir)
        source = (
            PACK_URL.format(pack=s["pack"])
            + " (unzip into the folder; `snakemake download_weights`)"
        )
        if s["pack"] in KNOWN_PACKS:
            return [WeightFile(folder / f, source) for f in KNOWN_PACKS[s["pack"]]]
        onnx = sorted(folder.glob("*.onnx"))
        if onnx:
            return [WeightFile(p, "your own model pack") for p in onnx]
        return [
            WeightFile(
                folder / "*.onnx",
                "your own model pack: a detector (SCRFD) and a recogniser (ArcFace) .onnx",
                note="an unknown pack name: its folder holds no .onnx file",
            )
        ]

    def download_hint(self):
        return (
            "insightface reads <weights_dir>/models/<pack>/*.onnx. With internet: "
            "`snakemake --cores 1 download_weights` (see docs/models.md)."
        )

    def downloads(self, settings, weights_dir):
        """The pack's zip (all its .onnx files) for a published pack; nothing for your own."""
        from faceage.models.download import Download

        s = resolved(settings)
        if s["pack"] not in KNOWN_PACKS:
            return []
        return [
            Download(PACK_URL.format(pack=s["pack"]), pack_dir(s, weights_dir), "zip", ("*.onnx",))
        ]

    def load(self, settings, weights_dir, state_dir):
        return InsightfaceEmbedder(settings, Path(weights_dir))

    def provenance(self, settings, weights_dir):
        s = resolved(settings)
        folder = pack_dir(s, weights_dir)
        return {
            "model": self.name,
            "env": self.env,
            "embedding": (
                f"insightface pack {s['pack']}: SCRFD detection + ArcFace-style recogniser"
            ),
            "pack_dir": str(folder),
            "pack_files": weight_facts(sorted(folder.glob("*.onnx"))),
            "det_size": [list(x) for x in det_sizes(s["det_size"])],
            "det_thresh": s["det_thresh"],
            "pad": s["pad"],
            "alignment": "insightface norm_crop: 5 SCRFD keypoints -> ArcFace template, 112x112",
            "colour_order": (
                "RGB image -> BGR for detection/alignment; recogniser blob swapRB (RGB)"
            ),
            "providers": s["providers"],
            "multi_face": face_choice(s).mode,
            "settings": s,
            "packages": package_versions(
                "insightface",
                "onnxruntime",
                "onnxruntime-gpu",
                "opencv-python",
                "opencv-python-headless",
                "numpy",
            ),
        }


ADAPTER = InsightfaceAdapter()
