"""Fetch a model's published weights into the workflow's weights folder (needs internet).

    python -m faceage.models.download --model insightface --settings '{}' \
        --record resources/weights/.downloads/insightface.json

(``--weights-dir`` defaults to the folder above the record's ``.downloads/``.)

Each adapter that has published weights lists them with ``downloads(settings,
weights_dir)``: a list of :class:`Download` (URL, archive kind, destination
folder, which files to keep). Files already present are not fetched again.
After fetching, the adapter's ``check_weights`` must pass, and a JSON record
(URL, file, size, SHA-256) is written. Only the workflow's ``download_weights``
rule calls this; nothing downloads at embedding time.
"""

from __future__ import annotations

import argparse
import bz2
import fnmatch
import hashlib
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
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


def fetch(url: str, to: Path, timeout: float = 60) -> None:
    """Download ``url`` to ``to`` (via a temporary file, so a broken transfer leaves nothing)."""
    to.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=to.parent, delete=False, suffix=".part") as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - fixed https URLs
                shutil.copyfileobj(resp, tmp, 1 << 20)
            tmp.close()
            Path(tmp.name).replace(to)
        except BaseException:
            tmp.close()
            Path(tmp.name).unlink(missing_ok=True)
            raise


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
                fetch(d.url, archive)
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m faceage.models.download", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--model", required=True)
    ap.add_argument("--settings", default="{}")
    ap.add_argument("--weights-dir")
    ap.add_argument("--record")
    a = ap.parse_args(argv)
    if not a.weights_dir:
        if not a.record:
            ap.error("give --weights-dir or --record <weights_dir>/.downloads/<model>.json")
        a.weights_dir = str(Path(a.record).resolve().parent.parent)
    try:
        download_model(a.model, json.loads(a.settings), a.weights_dir, a.record)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"ERROR [{a.model}]: download failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
