"""A synthetic demo dataset: cartoon faces of made-up identities at several ages.

Real face datasets cannot ship with the project (licences, and faces are
biometric data), so the demo draws its own: every identity has fixed
features (face shape, eye spacing and size, nose, mouth, brows, skin and hair
tone), and age changes them the way it roughly does in people (a child's
rounder face with bigger eyes, later grey hair and wrinkles), plus per-image
jitter in pose and lighting. It exercises every stage of the workflow; it
says nothing about real face-recognition models.

Written in the original study's layout, ``<person>/<age>.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from faceage.contracts import atomic_path


def _identity(rng: np.random.Generator) -> dict:
    return {
        "face_w": rng.uniform(0.52, 0.66),
        "face_h": rng.uniform(0.68, 0.80),
        "eye_dx": rng.uniform(0.15, 0.22),
        "eye_y": rng.uniform(0.40, 0.47),
        "eye_r": rng.uniform(0.035, 0.055),
        "nose_len": rng.uniform(0.08, 0.16),
        "mouth_w": rng.uniform(0.12, 0.22),
        "mouth_y": rng.uniform(0.66, 0.74),
        "brow_tilt": rng.uniform(-0.03, 0.03),
        "skin": rng.uniform(110, 225),
        "hair": rng.uniform(20, 150),
        "hair_h": rng.uniform(0.10, 0.22),
        "iris": rng.uniform(20, 120),
    }


def _draw(idn: dict, age: int, size: int, rng: np.random.Generator) -> Image.Image:
    s = size
    youth = max(0.0, (18 - age) / 18)  # 1 at birth, 0 from 18 on
    old = max(0.0, (age - 40) / 40)  # 0 until 40, 1 at 80
    img = Image.new("L", (s, s), int(rng.uniform(40, 60)))
    d = ImageDraw.Draw(img)
    cx = s / 2 + rng.normal(0, s * 0.008)
    cy = s / 2 + rng.normal(0, s * 0.008)
    fw = s * idn["face_w"] * (1 + 0.08 * youth)
    fh = s * idn["face_h"] * (1 - 0.12 * youth + 0.03 * old)
    skin = idn["skin"] - 15 * old
    hair = idn["hair"] + (200 - idn["hair"]) * min(1.0, old * 1.3)
    # hair, face
    d.ellipse(
        [
            cx - fw / 2 - 2,
            cy - fh / 2 - s * idn["hair_h"] * (1 - 0.6 * old),
            cx + fw / 2 + 2,
            cy + fh / 4,
        ],
        fill=int(hair),
    )
    d.ellipse([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], fill=int(skin))
    # eyes (bigger, lower in children)
    ey = cy - fh / 2 + fh * (idn["eye_y"] + 0.08 * youth)
    er = s * idn["eye_r"] * (1 + 0.35 * youth)
    for sign in (-1, 1):
        ex = cx + sign * s * idn["eye_dx"] * (1 - 0.1 * youth)
        d.ellipse([ex - er * 1.4, ey - er, ex + er * 1.4, ey + er], fill=235)
        d.ellipse(
            [ex - er * 0.7, ey - er * 0.7, ex + er * 0.7, ey + er * 0.7], fill=int(idn["iris"])
        )
        by = ey - er * 2.2
        d.line(
            [
                ex - er * 1.6,
                by + sign * s * idn["brow_tilt"],
                ex + er * 1.6,
                by - sign * s * idn["brow_tilt"],
            ],
            fill=int(hair * 0.6),
            width=max(1, s // 48),
        )
        if old > 0:
            for k in range(1 + int(3 * old)):
                d.line(
                    [ex + sign * er * 1.6, ey + k * 2, ex + sign * er * 2.4, ey + k * 2 + 2],
                    fill=int(skin * 0.7),
                )
    # nose and mouth
    nl = s * idn["nose_len"] * (1 - 0.3 * youth)
    d.line(
        [cx, ey + er, cx - s * 0.02, ey + er + nl, cx + s * 0.02, ey + er + nl],
        fill=int(skin * 0.7),
        width=max(1, s // 64),
    )
    my = cy - fh / 2 + fh * (idn["mouth_y"] - 0.04 * youth)
    mw = s * idn["mouth_w"] * (1 - 0.25 * youth)
    d.arc(
        [cx - mw / 2, my - s * 0.03, cx + mw / 2, my + s * 0.03 + s * 0.02 * old],
        10,
        170,
        fill=int(skin * 0.45),
        width=max(1, s // 48),
    )
    if old > 0.2:  # forehead lines
        for k in range(int(4 * old)):
            y = cy - fh / 2 + fh * (0.18 + 0.05 * k)
            d.line([cx - fw * 0.25, y, cx + fw * 0.25, y], fill=int(skin * 0.8))
    img = img.rotate(rng.normal(0, 1.5), resample=Image.Resampling.BILINEAR, fillcolor=40)
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    arr = np.asarray(img, dtype=np.float32) * rng.uniform(0.93, 1.07) + rng.normal(0, 3, (s, s))
    tint = np.array([1.0, 0.9, 0.8]) if idn["skin"] > 160 else np.array([1.0, 0.85, 0.7])
    rgb = np.clip(arr[..., None] * tint, 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


# Written into every demo folder: the workflow draws a demo only into an empty folder or one holding
# this marker, so a dataset_path that points at real data is never overwritten.
DEMO_MARKER = ".faceage-demo"


def is_demo_folder(path: str | Path) -> bool:
    """True for a missing or empty folder, or one that holds the demo's images.

    That is, one with the demo marker or one holding only demo faces.
    """
    import re

    path = Path(path)
    if not path.is_dir() or (path / DEMO_MARKER).is_file():
        return True
    files = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
    return all(re.fullmatch(r"person\d+/\d+\.png|\.snakemake_timestamp", f) for f in files)


def make_demo(
    out_dir: str | Path,
    persons: int = 16,
    images_per_person: int = 10,
    size: int = 96,
    min_age: int = 1,
    max_age: int = 79,
    seed: int = 7,
) -> list[Path]:
    """Write ``persons`` x ``images_per_person`` synthetic faces; return their paths."""
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    if not is_demo_folder(out_dir):
        raise FileExistsError(
            f"{out_dir} holds files that are not a demo: refusing to draw the demo into it"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / DEMO_MARKER).write_text("synthetic demo faces drawn by faceage.demo.make_demo\n")
    paths = []
    for p in range(persons):
        idn = _identity(rng)
        span = rng.uniform(0.5, 1.0) * (max_age - min_age)
        start = rng.uniform(min_age, max_age - span)
        ages = np.unique(np.round(np.linspace(start, start + span, images_per_person)).astype(int))
        for age in ages:
            path = out_dir / f"person{p:02d}" / f"{age}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp:
                _draw(idn, int(age), size, rng).save(tmp, format="PNG")
            paths.append(path)
    return paths
