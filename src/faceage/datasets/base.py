"""Pieces every dataset adapter shares."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from faceage.images import IMAGE_SUFFIXES

SYSTEM_FILES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}


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


def walk_images(root: Path) -> Iterator[tuple[str, str | None]]:
    """Yield (relative POSIX path, reject reason or None) for every file, sorted.

    Hidden files and folders (``.DS_Store``, ``._x.jpg``, ``.git``), system files
    (``Thumbs.db``) and files without an image suffix are yielded with a reason
    so they show up in the rejects list instead of vanishing silently.
    """
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(root)
        hidden_dir = any(part.startswith(".") for part in rel_dir.parts)
        for name in sorted(filenames):
            rel = (rel_dir / name).as_posix()
            if hidden_dir or name.startswith("."):
                yield rel, "hidden_file"
            elif name.lower() in SYSTEM_FILES:
                yield rel, "system_file"
            elif Path(name).suffix.lower() not in IMAGE_SUFFIXES:
                yield rel, "not_an_image_name"
            else:
                yield rel, None


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
