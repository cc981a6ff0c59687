"""Loading images the same way in every stage.

:func:`load_rgb` is the only door through which pixels enter the workflow: it
honours EXIF rotation, converts greyscale, CMYK, palette, 16-bit and alpha
images to 8-bit RGB, and shrinks very large images while decoding (JPEG draft
mode) so memory stays bounded. Face boxes anywhere in the workflow are in the
pixel coordinates of the image as returned here.

What a decode may cost is bounded before any pixel is read (issue 29):

* only regular files are opened (:func:`regular_file_size`: ``os.stat``, never ``open``
  first): a FIFO, a device such as ``/dev/zero`` (also behind a symlink) or a socket is
  ``not_a_regular_file``;
* a file larger than :data:`MAX_FILE_BYTES` is ``too_large`` (never hashed nor decoded);
* the pixel count is checked from the header, before decoding: more than
  :data:`MAX_PIXELS` to decode (a JPEG's after libjpeg's 1/2-1/8 scaling) is ``too_large``;
  Pillow's own ``DecompressionBombError`` is ``too_large`` too;
* a large image is shrunk (box filter) to less than twice ``max_side`` right after
  decoding, in the mode it was decoded in, and only then converted to 8-bit RGB: no
  full-size conversion copy, and never a float64 one.

So one decode takes at most :func:`decode_peak_mb` MiB beyond the interpreter
(``MAX_PIXELS`` x :data:`DECODE_BYTES_PER_PIXEL` for the decoded image plus the working
copies of the shrunk one).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

# Pixels an image may have to be decoded at all (a JPEG: after libjpeg's reduced-scale decode,
# which takes a 12000x9000 photo to 3000x2250). 64 Mpx is an 8000x8000 image: more than any
# face study needs and more than a 61 Mpx camera's raw frame. Checked from the header, before
# any pixel is decoded; a larger image is ``too_large``.
MAX_PIXELS = 64_000_000
# The widest mode Pillow decodes into (I, F, RGBA, CMYK: 4 bytes a pixel; I;16 takes 2).
DECODE_BYTES_PER_PIXEL = 4
# A progressive JPEG keeps every DCT coefficient of the full-size image while it decodes
# (2 bytes per coefficient, up to 3 components), whatever the reduced scale: its header may
# claim no more pixels than fit that budget.
PROGRESSIVE_JPEG_BYTES_PER_PIXEL = 6
# What the shrunk image's working copies (the shrunk image, its 8-bit RGB conversion, the EXIF
# turn, the final array) take per pixel, at most (2 x max_side)^2 pixels of them.
WORKING_BYTES_PER_PIXEL = 20
# The largest file hashed or decoded (a 8000x8000 16-bit RGBA TIFF without compression is
# 512 MB; a face photo is a few MB). Larger files are ``too_large``, never read.
MAX_FILE_BYTES = 512 * 2**20
DEFAULT_MAX_SIDE = 1600
MIN_SIDE = 24

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm"}


def decode_peak_mb(max_side: int = DEFAULT_MAX_SIDE) -> int:
    """The most memory, in MiB, one :func:`load_rgb` call may take beyond the interpreter.

    The decoded image (:data:`MAX_PIXELS` x :data:`DECODE_BYTES_PER_PIXEL`) plus the working
    copies of the image shrunk to under twice ``max_side`` (all of it when ``max_side`` is 0:
    nothing is shrunk). With the defaults: 244 + 196 = 440 MiB. A job that decodes images
    (clean's inspection, detection, embedding, attributes) needs this on top of its model.
    """
    working = MAX_PIXELS if not max_side else min(MAX_PIXELS, (2 * max_side) ** 2)
    total = MAX_PIXELS * DECODE_BYTES_PER_PIXEL + working * WORKING_BYTES_PER_PIXEL
    return -(-total // 2**20)


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


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is (``a FIFO (named pipe)``, ``a socket``...)."""
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def regular_file_size(path: str | os.PathLike, max_bytes: int | None = MAX_FILE_BYTES) -> int:
    """The size in bytes of ``path`` if it is a regular file no larger than ``max_bytes``.

    ``os.stat`` only (it follows symlinks: a link to ``/dev/zero`` is a device), so nothing
    is opened: a FIFO would block ``open`` forever and a device would be read forever. Raises
    :class:`ImageError` with reason ``unreadable`` (missing, a broken link, no permission),
    ``not_a_regular_file`` or ``too_large``.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ImageError("unreadable", f"{exc.strerror or exc}: {path}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ImageError("not_a_regular_file", f"{path} is {file_kind(st.st_mode)}; never opened")
    if max_bytes is not None and st.st_size > max_bytes:
        raise ImageError(
            "too_large",
            f"{st.st_size / 2**20:.0f} MiB file, more than the "
            f"{max_bytes / 2**20:.0f} MiB read at most (faceage.images.MAX_FILE_BYTES)",
        )
    return st.st_size


def file_digest(path: str | os.PathLike, max_bytes: int | None = None) -> str:
    """SHA-256 of the file's bytes (used to find exact duplicates).

    Only a regular file is opened (:func:`regular_file_size`); with ``max_bytes`` (the
    dataset's images: :data:`MAX_FILE_BYTES`) a larger file is ``too_large`` and no more than
    ``max_bytes`` bytes are ever read, even from a file that grows meanwhile.
    """
    member = member_of(path)
    if member is not None:
        return hashlib.sha256(_member_bytes(*member)).hexdigest()
    regular_file_size(path, max_bytes)
    h = hashlib.sha256()
    left = max_bytes
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            if left is not None:
                left -= len(chunk)
                if left < 0:
                    raise ImageError("too_large", f"{path} grew beyond {max_bytes} bytes")
    return h.hexdigest()


# Modes Image.reduce takes (it premultiplies LA and RGBA by their alpha: a copy, made here a
# band at a time).
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F")
_BAND_PIXELS = 1 << 22


def _shrink(img: Image.Image, max_side: int) -> Image.Image:
    """``img`` shrunk by a whole factor to between ``max_side`` and twice it (the mean of each
    factor x factor block), in its own mode (16-bit, float, alpha...): before any conversion
    copy, and a band of rows at a time, so the only full-size image is the decoded one.
    Unchanged when already smaller than twice ``max_side``."""
    w, h = img.size
    f = max(w, h) // max_side if max_side else 0
    if f < 2:
        return img
    size = (-(-w // f), -(-h // f))
    if img.mode not in _REDUCIBLE:  # 16-bit grey (box filter), palette and bilevel (nearest)
        nearest = img.mode in ("P", "PA", "1")
        return img.resize(size, Image.Resampling.NEAREST if nearest else Image.Resampling.BOX)
    out = Image.new(img.mode, size)
    rows = f * max(1, _BAND_PIXELS // (w * f))  # source rows per band: a multiple of f
    for top in range(0, h, rows):
        out.paste(img.crop((0, top, w, min(h, top + rows))).reduce(f), (0, top // f))
    return out


_GREY_INT = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# EXIF orientation -> the turn that makes the stored pixels upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _grey16_to_l(img: Image.Image, hi: float) -> Image.Image:
    """A 16- or 32-bit integer greyscale image as 8-bit ``L``: 0..65535 scaled to 0..255
    (rounded) when ``hi`` (the full image's largest value) exceeds 255, else kept; integer
    arithmetic a band of rows at a time, so no full-size float copy is ever made."""
    w, h = img.size
    out = np.empty((h, w), dtype=np.uint8)
    step = max(1, (1 << 20) // max(w, 1))
    for top in range(0, h, step):
        band = np.asarray(img.crop((0, top, w, min(h, top + step)))).astype(np.int64)
        if hi > 255:
            np.clip(band, 0, 65535, out=band)
            band = (band * 255 + 32767) // 65535
        np.clip(band, 0, 255, out=band)
        out[top : top + step] = band
    return Image.fromarray(out, mode="L")


def _to_rgb8(img: Image.Image, hi: float = 0) -> Image.Image:
    """``img`` as 8-bit RGB; ``hi``: the largest value of the (unshrunk) integer greyscale
    image, which decides whether 16-bit values are scaled."""
    mode = img.mode
    if mode in _GREY_INT:
        return _grey16_to_l(img, hi).convert("RGB")
    if mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        arr8 = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(arr8, mode="L").convert("RGB")
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode != "RGB":
        return img.convert("RGB")
    return img


def _too_many_pixels(img: Image.Image, header: tuple[int, int]) -> str:
    """Why ``img`` (opened, drafted, not decoded) may not be decoded ('' when it may)."""
    w, h = img.size
    if w * h > MAX_PIXELS:
        scaled = f" (decoded at {w}x{h})" if (w, h) != header else ""
        return (
            f"{header[0]}x{header[1]} pixels{scaled}: more than the {MAX_PIXELS / 1e6:.0f} Mpx "
            "decoded at most (faceage.images.MAX_PIXELS)"
        )
    hw, hh = header
    if img.format == "JPEG" and img.info.get("progressive"):
        budget = MAX_PIXELS * DECODE_BYTES_PER_PIXEL
        if hw * hh * PROGRESSIVE_JPEG_BYTES_PER_PIXEL > budget:
            return (
                f"{hw}x{hh} pixels, progressive JPEG: its full-size coefficients would take more "
                f"than the {budget / 2**20:.0f} MiB a decode may (faceage.images.MAX_PIXELS)"
            )
    return ""


def load_rgb(path: str | os.PathLike, max_side: int = DEFAULT_MAX_SIDE) -> np.ndarray:
    """Decode ``path`` to an RGB uint8 array [H, W, 3], EXIF-upright.

    Images whose longer side exceeds ``max_side`` are shrunk (aspect kept);
    for JPEGs the decoder itself reduces by a power of two first, so a
    12000x9000 photo never occupies its full size in memory; any other format is shrunk
    (box filter, in its own mode) right after decoding, before it is converted. Memory:
    at most :func:`decode_peak_mb` MiB. Raises
    :class:`ImageError` with reason ``empty_file``, ``not_an_image`` (no
    image format recognised, e.g. text named .jpg), ``truncated`` (the file
    ends early), ``undecodable`` (corrupt data), ``not_a_regular_file`` (a FIFO,
    device or socket: never opened), ``unreadable``, ``too_large`` (file or pixel count
    beyond the caps) or ``too_small``.
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
        size = regular_file_size(source)
    if size == 0:
        raise ImageError("empty_file", "0 bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as img:
                header = img.size
                if max_side and max(header) > max_side and img.format == "JPEG":
                    # Let libjpeg decode at 1/2, 1/4 or 1/8 scale.
                    img.draft("RGB", (max_side, max_side))
                too_many = _too_many_pixels(img, header)
                if too_many:
                    raise ImageError("too_large", too_many)
                img.load()
                turn = _UPRIGHT.get(img.getexif().get(0x0112, 1))
                hi = img.getextrema()[1] if img.mode in _GREY_INT and min(img.size) else 0
                out = _shrink(img, max_side)
                out = out.transpose(turn) if turn is not None else out
                out = _to_rgb8(out, hi)
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
        out = out.copy() if out is img else out
        out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if min(out.size) < MIN_SIDE:
        raise ImageError(
            "too_small", f"{out.size[0]}x{out.size[1]} pixels (minimum side {MIN_SIDE})"
        )
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8))
