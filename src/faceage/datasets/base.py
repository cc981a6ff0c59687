"""Pieces every dataset adapter shares."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from faceage.images import IMAGE_SUFFIXES, ImageError, regular_file_size

SYSTEM_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}

# The one list of the dataset stage's reject reasons (the code before ``:`` in rejects.tsv's
# ``reason``); docs/datasets.md and docs/robustness.md describe them.
REJECT_REASONS = {
    "hidden_file": "a hidden file, or a file in a hidden folder (.DS_Store, ._x.jpg, .git/...)",
    "system_file": "an operating system's file (Thumbs.db, desktop.ini)",
    "not_an_image_name": "the name has no image suffix",
    "unparseable_name": "the adapter cannot read the labels from the name",
    "link_outside_dataset": "a symbolic link to a folder outside the dataset folder: not walked",
    "folder_link": (
        "a symbolic link to a folder inside the dataset folder: not followed (its images are "
        "listed once, under their own folder)"
    ),
    "broken_link": "a symbolic link whose target does not exist",
    "not_a_regular_file": "a FIFO, device or socket (or a link to one): never opened",
    "too_large": "a file larger than faceage.images.MAX_FILE_BYTES: never read",
    "unreadable": "the file or folder cannot be listed or read (permissions)",
    "missing_path": "csv adapter: an empty path field",
    "missing_file": "csv adapter: the path names no file",
    "missing_label": "csv adapter: no person label",
    "not_found": "protocol run: a name the protocol uses matches no image file",
}


class NameProblem(ValueError):
    """A file name an adapter cannot read; the message is the reject reason."""


@dataclass(frozen=True)
class Labels:
    person: str
    age: int | None
    gender: str | None = None  # "M", "F" or None
    race: str | None = None

    def row(self, rel: str, path: Path) -> dict:
        return {
            "image_id": rel,
            "path": str(path),
            "person": self.person,
            "age": self.age,
            "gender": self.gender,
            "source": PurePosixPath(rel).name,
            "race": self.race,
        }


def file_problem(path: str | os.PathLike) -> str | None:
    """The reject reason (``code: detail``) of a file that must never be opened or read,
    else None: a broken link, a FIFO, device or socket (also behind a link), a file beyond
    :data:`faceage.images.MAX_FILE_BYTES`. ``os.stat`` only: nothing is opened."""
    try:
        regular_file_size(path)
    except ImageError as exc:
        if exc.reason == "unreadable" and os.path.islink(path) and not os.path.exists(path):
            return f"broken_link: points to {os.readlink(path)}, which does not exist"
        return f"{exc.reason}: {exc.detail}"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_images(root: Path) -> Iterator[tuple[str, str | None]]:
    """Yield (relative POSIX path, reject reason or None) for every file, sorted.

    Hidden files and folders (``.DS_Store``, ``._x.jpg``, ``.git``), system files
    (``Thumbs.db``) and files without an image suffix are yielded with a reason
    so they show up in the rejects list instead of vanishing silently.

    Each file is listed once (issue 29): a symbolic link to a folder is never followed, so
    no loop (``loop -> .``) multiplies the images and nothing outside ``root`` is walked. It
    is yielded once itself, as ``link_outside_dataset`` (its target is outside ``root``) or
    ``folder_link`` (inside: its images are listed under their own folder). A file with an
    image name that is not a regular file (a FIFO, a device such as ``/dev/zero`` behind a
    link, a socket), a broken link or a file larger than
    :data:`faceage.images.MAX_FILE_BYTES` is rejected from ``os.stat`` alone, never
    opened. A symbolic link to a regular image file is an image (wherever it points: a
    dataset of links into a shared store is common); two names of one file become aliases.
    See :data:`REJECT_REASONS`.
    """
    root = Path(root)
    yield from _walk(root, os.path.realpath(root), PurePosixPath(), hidden=False)


def _walk(
    root: Path, real_root: str, rel_dir: PurePosixPath, hidden: bool
) -> Iterator[tuple[str, str | None]]:
    folder = root.joinpath(*rel_dir.parts)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield rel_dir.as_posix(), f"unreadable: folder {folder}: {exc.strerror or exc}"
        return
    folders = []
    for entry in entries:
        rel = (rel_dir / entry.name).as_posix()
        name = entry.name
        if entry.is_symlink() and os.path.isdir(entry.path):
            target = os.path.realpath(entry.path)
            if _inside(target, real_root):
                where = os.path.relpath(target, real_root).replace(os.sep, "/")
                yield rel, f"folder_link: links to {where or '.'} inside the dataset; not followed"
            else:
                yield rel, f"link_outside_dataset: links to {target}; not walked"
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            folders.append(entry)
            continue
        if hidden or name.startswith("."):
            yield rel, "hidden_file"
        elif name.lower() in SYSTEM_FILES:
            yield rel, "system_file"
        elif Path(name).suffix.lower() not in IMAGE_SUFFIXES:
            yield rel, "not_an_image_name"
        else:
            yield rel, file_problem(entry.path)
    for entry in folders:
        yield from _walk(
            root, real_root, rel_dir / entry.name, hidden or entry.name.startswith(".")
        )


def parse_age(text: str, what: str = "age") -> int:
    if not re.fullmatch(r"-?\d{1,4}", text.strip()):
        raise NameProblem(f"unparseable_name: {what} {text!r} is not a whole number")
    return int(text)


def parse_gender(text: str, male: tuple[str, ...], female: tuple[str, ...]) -> str | None:
    t = text.strip().lower()
    if t in male:
        return "M"
    if t in female:
        return "F"
    raise NameProblem(f"unparseable_name: gender {text!r} is not one of {male + female}")
