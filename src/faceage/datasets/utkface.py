"""UTKFace: ``[age]_[gender]_[race]_[datetime].jpg.chip.jpg``.

Gender 0 = male, 1 = female; race 0-4 = White, Black, Asian, Indian, Others.
UTKFace has no identity labels: every image is its own person (usable for
age/gender evaluation, not for genuine pairs).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from faceage.datasets.base import Labels, NameProblem

RACES = {"0": "White", "1": "Black", "2": "Asian", "3": "Indian", "4": "Others"}
_NAME = re.compile(r"(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_(?P<stamp>\d{17})")


def parse_name(rel: PurePosixPath) -> Labels:
    stem = rel.name.split(".", 1)[0]
    m = _NAME.fullmatch(stem)
    if not m:
        raise NameProblem(
            "unparseable_name: expected <age>_<gender 0|1>_<race 0-4>_<17-digit datetime>"
        )
    gender = "M" if m["gender"] == "0" else "F"
    return Labels(
        person=f"utk_{m['stamp']}_{m['age']}",
        age=int(m["age"]),
        gender=gender,
        race=RACES[m["race"]],
    )
