"""Loading images the same way in every stage.

:func:`load_rgb` is the only door through which pixels enter the workflow: it
honours EXIF rotation, converts greyscale, CMYK, palette, 16-bit and alpha
images to 8-bit RGB, and shrinks very large images while decoding (JPEG draft
mode) so memory stays bounded. Face boxes anywhere in the workflow are in the
pixel coordinates of the image as returned here.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Refuse to decode anything whose header claims more pixels than this (a
# decompression bomb, or a scan far beyond any face study's needs). Checked
# here instead of by Pillow's own bomb warning, which fires from 89 Mpx and
# would reject ordinary large photos (a 12000x9000 JPEG is 108 Mpx, and is
# decoded at reduced scale anyway).
MAX_HEADER_PIXELS = 150_000_000
DEFAULT_MAX_SIDE = 1600
MIN_SIDE = 24

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm"}


class ImageError(Exception):
    """An image that cannot be used; ``reason`` is a short code for reports."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def is_image_name(name: str) -> bool:
    """True for names with an image suffix that are not hidden/system files."""
    if name.startswith(".") or name.lower() in {"thumbs.db", "desktop.ini"}:
        return False
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


# An image stored inside a container file rather than as a file of its own:
# ``<file>.bin::<index>`` is image <index> of an insightface evaluation .bin.
_MEMBER = re.compile(r"^(?P<file>.+\.bin)::(?P<index>\d+)$", re.IGNORECASE)


def member_of(path: str | os.PathLike) -> tuple[str, int] | None:
    """(container file, index) for a ``<file>.bin::<index>`` path, else None."""
    m = _MEMBER.match(str(path))
    return (m["file"], int(m["index"])) if m else None


def member_path(container: str | os.PathLike, index: int) -> str:
    return f"{container}::{index}"


def _member_bytes(container: str, index: int) -> bytes:
    from faceage.protocols.formats.insightface_bin import read_bin  # the restricted unpickler

    images, _ = read_bin(container)
    if not 0 <= index < len(images):
        raise ImageError("unreadable", f"{container} holds {len(images)} images, not #{index}")
    return images[index]


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of the file's bytes (used to find exact duplicates)."""
    member = member_of(path)
    if member is not None:
        return hashlib.sha256(_member_bytes(*member)).hexdigest()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _to_rgb8(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        hi = arr.max() if arr.size else 0
        scale = 255.0 / 65535.0 if hi > 255 else 1.0
        arr8 = np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        arr8 = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode != "RGB":
        return img.convert("RGB")
    return img


def load_rgb(path: str | os.PathLike, max_side: int = DEFAULT_MAX_SIDE) -> np.ndarray:
    """Decode ``path`` to an RGB uint8 array [H, W, 3], EXIF-upright.

    Images whose longer side exceeds ``max_side`` are shrunk (aspect kept);
    for JPEGs the decoder itself reduces by a power of two first, so a
    12000x9000 photo never occupies its full size in memory. Raises
    :class:`ImageError` with reason ``empty_file``, ``not_an_image`` (no
    image format recognised, e.g. text named .jpg), ``truncated`` (the file
    ends early), ``undecodable`` (corrupt data), ``too_large`` or ``too_small``.
    """
    member = member_of(path)
    if member is not None:
        try:
            data = _member_bytes(*member)
        except (OSError, ValueError) as exc:
            raise ImageError("unreadable", str(exc)) from exc
        size, source = len(data), io.BytesIO(data)
    else:
        source = Path(path)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise ImageError("unreadable", str(exc)) from exc
    if size == 0:
        raise ImageError("empty_file", "0 bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                w, h = img.size
                if w * h > MAX_HEADER_PIXELS:
                    raise ImageError("too_large", f"{w}x{h} pixels")
                if max_side and max(w, h) > max_side and img.format == "JPEG":
                    # Let libjpeg decode at 1/2, 1/4 or 1/8 scale.
                    img.draft("RGB", (max_side, max_side))
                img.load()
                exif_orientation = img.getexif().get(0x0112, 1)
                out = ImageOps.exif_transpose(img) if exif_orientation != 1 else img
                out = _to_rgb8(out)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:  # beyond twice Pillow's limit, before our check
        raise ImageError("too_large", str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise ImageError("not_an_image", f"{type(exc).__name__}: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        reason = "truncated" if "truncated" in str(exc) else "undecodable"
        raise ImageError(reason, f"{type(exc).__name__}: {exc}") from exc
    if max_side and max(out.size) > max_side:
        out = out.copy()
        out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if min(out.size) < MIN_SIDE:
        raise ImageError(
            "too_small", f"{out.size[0]}x{out.size[1]} pixels (minimum side {MIN_SIDE})"
        )
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8))
