"""The original study's re-organised layout: ``<person>/<age>.jpg``.

Several images of one person at one age may be told apart by a suffix:
``<age>a.jpg``, ``<age>_2.jpg`` or ``<age>-2.jpg``. Gender may be given by a
top-level folder ``M/`` or ``F/`` (``<gender>/<person>/<age>.jpg``).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from faceage.datasets.base import Labels, NameProblem

# A minus sign is read (not rejected as a bad name) so that a negative age
# reaches the clean stage's age check and is reported as impossible_age.
_AGE = re.compile(r"(?P<age>-?\d{1,3})(?:[a-z]|[_\- ].*)?", re.IGNORECASE)


def parse_name(rel: PurePosixPath) -> Labels:
    parts = rel.parts
    if len(parts) not in (2, 3):
        raise NameProblem(
            "unparseable_name: expected <person>/<age>.jpg or <M|F>/<person>/<age>.jpg"
        )
    gender = None
    if len(parts) == 3:
        if parts[0].upper() not in ("M", "F"):
            raise NameProblem(f"unparseable_name: gender folder {parts[0]!r} is not M or F")
        gender = parts[0].upper()
    m = _AGE.fullmatch(rel.name.rsplit(".", 1)[0])
    if not m:
        raise NameProblem("unparseable_name: file name does not start with an age in years")
    return Labels(person=parts[-2], age=int(m["age"]), gender=gender)
