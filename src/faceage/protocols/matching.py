"""Matching a protocol's image names to files, and labels read from the names.

A protocol names its images in its own way (AgeDB drops ``.jpg``, CALFW
uses bare file names, LFW ``Name/Name_0001.jpg``). :class:`ImageIndex`
finds a file for each name; :func:`labels_from_name` reads person, age and
gender from a name where the name carries them, and leaves them unknown
otherwise (a protocol run never drops an image for a missing label).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from faceage.datasets import ADAPTERS, NAME_ADAPTERS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")

# How person/age/gender are read from a protocol's image names: every dataset adapter that
# reads labels from file names (faceage.datasets.NAME_ADAPTERS), and three of our own. A
# format's default (``labels: auto``) is its registry entry's ``labels``
# (faceage.protocols.formats.FORMATS).
OWN_LABELS = ("none", "lfw", "top_folder")
LABELS = (*OWN_LABELS, *NAME_ADAPTERS)


def strip_suffix(name: str) -> str:
    low = name.lower()
    for suf in IMAGE_SUFFIXES:
        if low.endswith(suf):
            return name[: -len(suf)]
    return name


def _keys(name: str) -> list[str]:
    """Lookup keys of a name: the path, without image suffix, its file name, without suffix."""
    name = name.replace("\\", "/").strip("/")
    base = PurePosixPath(name).name
    return list(dict.fromkeys([name, strip_suffix(name), base, strip_suffix(base)]))


class ImageIndex:
    """Finds an image (a relative path or an image id) for a protocol's image name.

    A name matches on the relative path, the path without its image suffix,
    the file name, or the file name without suffix, in that order. A key
    shared by several images is ambiguous and never used.
    """

    def __init__(self, image_ids: Iterable[str]):
        self._maps: list[dict[str, str | None]] = [{}, {}, {}, {}]
        for iid in image_ids:
            iid = str(iid)
            keys = _keys(iid)
            for level, m in enumerate(self._maps):
                key = keys[min(level, len(keys) - 1)]
                if key in m and m[key] != iid:
                    m[key] = None  # ambiguous at this level
                else:
                    m[key] = iid

    def find(self, name: str) -> str | None:
        keys = _keys(str(name))
        for m in self._maps:
            for key in keys:
                iid = m.get(key)
                if iid is not None:
                    return iid
        return None


def protocol_images(pairs: pd.DataFrame) -> list[str]:
    """The distinct image names a protocol uses, in first-use order."""
    names = pairs[["image_a", "image_b"]].to_numpy(dtype=str)
    return list(dict.fromkeys(np.ravel(names, order="C")))


_NUMBERED = re.compile(r"^(?P<person>.+?)_\d{4}$")


def labels_from_name(rel: str, labels: str) -> dict:
    """``person``, ``age``, ``gender`` of an image from its relative path; None where unknown.

    ``labels``: a dataset adapter's name (``agedb``, ``cacd``, ``fgnet``,
    ``utkface``, ``folders``: :data:`faceage.datasets.NAME_ADAPTERS`) reads the
    path with that adapter; ``lfw`` reads ``Name_Surname_0003.jpg`` as the person
    ``Name_Surname`` (else the folder); ``top_folder`` takes the first folder
    of the path (``<person>/y/<photo>`` -> the person); ``none`` knows nothing.
    """
    out = {"person": None, "age": None, "gender": None}
    p = PurePosixPath(rel)
    if labels in NAME_ADAPTERS:
        from faceage.datasets.base import NameProblem

        module = importlib.import_module(ADAPTERS[labels])
        try:
            lab = module.parse_name(p)
        except NameProblem:
            return out
        return {"person": lab.person, "age": lab.age, "gender": lab.gender}
    if labels == "lfw":
        m = _NUMBERED.match(strip_suffix(p.name))
        out["person"] = m["person"] if m else (p.parent.name or None)
    elif labels == "top_folder":
        out["person"] = p.parts[0] if len(p.parts) > 1 else None
    elif labels != "none":
        raise ValueError(f"unknown labels {labels!r}; known: {', '.join(LABELS)}")
    return out
