"""Fetching a public dataset for users with internet (only when asked for).

FG-NET is redistributed as one zip (``FGNET.zip``: ``FGNET/images/*.JPG`` plus
landmark files). :func:`fetch_fgnet` downloads it, checks it is a zip holding
the images, and extracts only the images into ``dest``. The workflow offers
it as the rule ``download_fgnet`` (``snakemake -c1 resources/fgnet``); no other
rule touches the network.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from faceage.images import is_image_name

log = logging.getLogger(__name__)

FGNET_URL = "https://yanweifu.github.io/FG_NET_data/FGNET.zip"


def extract_images(zip_path: str | Path, dest: str | Path, folder: str = "images") -> int:
    """Extract the image files under ``<any>/<folder>/`` of a zip, flat, into ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    n = 0
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            rel = PurePosixPath(info.filename)
            if info.is_dir() or folder not in rel.parts[:-1] or not is_image_name(rel.name):
                continue
            with zf.open(info) as src, open(dest / rel.name, "wb") as out:
                shutil.copyfileobj(src, out)
            n += 1
    if n == 0:
        raise ValueError(
            f"{zip_path}: no images under a '{folder}/' folder; is this the FG-NET zip?"
        )
    return n


def fetch_fgnet(dest: str | Path, url: str = FGNET_URL, timeout: float = 60) -> int:
    """Download FG-NET's zip from ``url`` and extract its images into ``dest``."""
    with tempfile.TemporaryDirectory() as tmp:
        zpath = Path(tmp) / "FGNET.zip"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, open(zpath, "wb") as out:
                shutil.copyfileobj(resp, out)
        except (urllib.error.URLError, OSError) as exc:
            raise ConnectionError(
                f"could not download FG-NET from {url} ({exc}). Without internet, "
                "download FGNET.zip elsewhere, unzip it, and set dataset_path to its images/ "
                "folder."
            ) from exc
        n = extract_images(zpath, dest)
    log.info("extracted %d FG-NET images into %s", n, dest)
    return n
