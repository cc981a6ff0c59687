"""Fetch a model's published weights into the workflow's weights folder (needs internet).

    faceage download insightface [--weights-dir resources/weights]

or, for every configured model, ``snakemake -c1 download_weights`` (the rule runs the
``download_model_weights`` step in the model's own environment).

Each adapter that has published weights lists them with ``downloads(settings,
weights_dir)``: a list of :class:`Download` (URL, archive kind, destination
folder, which files to keep). Files already present are not fetched again.
Fetching goes through pooch (retries, a progress bar, hash check before the
file is used): an archive whose SHA-256 is published (:data:`PUBLISHED_SHA256`)
must match it; for the others the first hash seen is recorded in
``<weights_dir>/.downloads/sha256.json`` and a later download that differs
(a replaced release asset, an HTML error page) is refused. After fetching,
the adapter's ``check_weights`` must pass, and a JSON record (URL, file,
size, SHA-256) is written. Only the workflow's ``download_weights`` rule
calls this; nothing downloads at embedding time.
"""

from __future__ import annotations

import bz2
import fnmatch
import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from faceage.contracts import atomic_path
from faceage.models import get_adapter


@dataclass(frozen=True)
class Download:
    """One thing to fetch: ``kind`` is file, bz2, zip or tar.

    ``keep``: for file/bz2 the name to save as; for archives the member base
    names (or glob patterns such as ``*.onnx``) to extract, flattened, into ``dest``.
    """

    url: str
    dest: Path
    kind: str
    keep: tuple[str, ...]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# SHA-256 of published weight archives, where a value has been published (insightface's v0.7
# release packs, as pinned by public installers that verify them); the others are pinned on first
# download (trust on first use) in <weights_dir>/.downloads/sha256.json.
_INSIGHTFACE_V07 = "https://github.com/deepinsight/insightface/releases/download/v0.7"
PUBLISHED_SHA256 = {
    f"{_INSIGHTFACE_V07}/buffalo_s.zip": (
        "d85a87f503f691807cd8bb97128bdf7a0660326cd9cd02657127fa978bab8b5e"
    ),
    f"{_INSIGHTFACE_V07}/buffalo_m.zip": (
        "d98264bd8f2dc75cbc2ddce2a14e636e02bb857b3051c234b737bf3b614edca9"
    ),
    f"{_INSIGHTFACE_V07}/antelopev2.zip": (
        "8e182f14fc6e80b3bfa375b33eb6cff7ee05d8ef7633e738d1c89021dcf0c5c5"
    ),
}


class HashMismatchError(ValueError):
    """A download whose bytes are not the ones pinned for its URL."""


def fetch(
    url: str, to: Path, known_hash: str | None = None, retries: int = 3, timeout: float = 60
) -> str:
    """Download ``url`` to ``to`` with pooch (progress bar, ``retries``); return its SHA-256.

    With ``known_hash`` the bytes must match it (pooch checks before the file is kept), else
    :class:`HashMismatchError`. A broken transfer leaves nothing under ``to``.
    """
    import pooch

    to.parent.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(
        progressbar=True, timeout=timeout
    )  # tqdm bar on stderr (the log)
    for attempt in range(1, retries + 1):
        try:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{known_hash}" if known_hash else None,
                fname=to.name,
                path=to.parent,
                downloader=downloader,
            )
            return sha256(to)
        except ValueError as exc:  # pooch: hash mismatch (the file is not kept)
            raise HashMismatchError(f"{url}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - network errors of any kind: retry, then give up
            if attempt == retries:
                raise OSError(f"{url}: {type(exc).__name__}: {exc}") from exc
            print(f"retrying {url} ({attempt}/{retries}): {exc}", file=sys.stderr, flush=True)
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def pinned_hashes(weights_dir: Path) -> tuple[dict, Path]:
    """The first-seen SHA-256 per URL and the path of the file that records them.

    That file is ``<weights_dir>/.downloads/sha256.json``.
    """
    path = Path(weights_dir) / ".downloads" / "sha256.json"
    return (json.loads(path.read_text()) if path.is_file() else {}), path


def fetch_pinned(url: str, to: Path, weights_dir: Path) -> str:
    """:func:`fetch` with the published hash, or the one first seen for ``url``.

    A hash not seen before is recorded.
    """
    seen, record = pinned_hashes(weights_dir)
    known = PUBLISHED_SHA256.get(url) or seen.get(url)
    try:
        digest = fetch(url, to, known)
    except HashMismatchError as exc:
        origin = "published" if url in PUBLISHED_SHA256 else f"first seen and recorded in {record}"
        raise HashMismatchError(
            f"{exc}\nThe file at {url} is not the one whose SHA-256 ({known}) was {origin}: "
            "the release asset was replaced or the server sent something else (an error page?). "
            "Nothing was kept. "
            "If the new file is intended, delete its line from the record and download again."
        ) from None
    if url not in PUBLISHED_SHA256 and url not in seen:
        seen[url] = digest
        with atomic_path(record) as tmp:
            tmp.write_text(json.dumps(seen, indent=2, sort_keys=True) + "\n")
    return digest


def wanted(name: str, keep: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(name, k) for k in keep)


def _store(src, target: Path) -> Path:
    """Copy the open binary stream ``src`` to ``target`` atomically.

    A weight file counts as present once it exists, so a download killed half-way must never
    leave a partial file under the real name.
    """
    with atomic_path(target) as tmp, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    return target


def unpack(d: Download, archive: Path) -> list[Path]:
    """Put the wanted files of a fetched ``archive`` into ``d.dest``; return their paths."""
    d.dest.mkdir(parents=True, exist_ok=True)
    out = []
    if d.kind in ("file", "bz2"):
        opener = open if d.kind == "file" else bz2.open
        with opener(archive, "rb") as src:
            return [_store(src, d.dest / d.keep[0])]
    if d.kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename).name
                if not info.is_dir() and wanted(name, d.keep):
                    with zf.open(info) as src:
                        out.append(_store(src, d.dest / name))
    elif d.kind == "tar":
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                name = PurePosixPath(member.name).name
                if member.isfile() and wanted(name, d.keep):
                    with tf.extractfile(member) as src:
                        out.append(_store(src, d.dest / name))
    else:
        raise ValueError(f"unknown download kind {d.kind!r}")
    missing = {k for k in d.keep if not any(c in k for c in "*?[")} - {p.name for p in out}
    if missing:
        raise RuntimeError(f"{d.url}: archive lacks {sorted(missing)}")
    return out


def download_model(
    model: str, settings: dict, weights_dir: str | Path, record: str | Path | None = None
) -> dict:
    """Fetch what ``model`` needs into ``weights_dir``; check it; write ``record``."""
    adapter = get_adapter(model)
    if not hasattr(adapter, "downloads"):
        raise ValueError(f"model {model!r} has no published weights to download")
    done = []
    for d in adapter.downloads(settings, Path(weights_dir)):
        globs = [k for k in d.keep if any(c in k for c in "*?[")]
        present = [d.dest / k for k in d.keep if k not in globs]
        if all(p.is_file() for p in present) and all(any(d.dest.glob(g)) for g in globs):
            files = present + [p for g in globs for p in sorted(d.dest.glob(g))]
        else:
            with tempfile.TemporaryDirectory() as tmp:
                archive = Path(tmp) / PurePosixPath(d.url).name
                print(f"fetching {d.url}", file=sys.stderr, flush=True)
                fetch_pinned(d.url, archive, Path(weights_dir))
                files = unpack(d, archive)
        done += [
            {"url": d.url, "file": str(p), "bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in files
        ]
    adapter.check_weights(settings, Path(weights_dir))
    info = {"model": model, "settings": settings, "files": done}
    if record:
        with atomic_path(record) as tmp:
            tmp.write_text(json.dumps(info, indent=2) + "\n")
    return info
