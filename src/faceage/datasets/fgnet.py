"""FG-NET: ``<subject>A<age>[a|b].JPG`` (case-insensitive), e.g. ``078A11.JPG``.

A trailing letter tells apart two scans of the same subject at the same age.
FG-NET has no gender labels.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from faceage.datasets.base import Labels, NameProblem

_NAME = re.compile(r"(?P<subject>\d{3})a(?P<age>\d{2})(?P<scan>[a-z])?", re.IGNORECASE)


def parse_name(rel: PurePosixPath) -> Labels:
    stem = rel.name.rsplit(".", 1)[0]
    m = _NAME.fullmatch(stem)
    if not m:
        raise NameProblem("unparseable_name: expected <subject>A<age>[a|b], e.g. 078A11.JPG")
    return Labels(person=m["subject"], age=int(m["age"]))
