"""AgeDB: ``<n>_<Name>_<age>_<g>.jpg``, e.g. ``0_MariaCallas_35_f.jpg``.

The person is the name field; gender ``m``/``f``. Names with underscores are
kept whole (everything between the running number and the age).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from faceage.datasets.base import Labels, NameProblem, parse_age, parse_gender


def parse_name(rel: PurePosixPath) -> Labels:
    stem = rel.name.rsplit(".", 1)[0]
    parts = stem.split("_")
    if len(parts) < 4 or not parts[0].isdigit():
        raise NameProblem("unparseable_name: expected <n>_<Name>_<age>_<gender>")
    name = "_".join(parts[1:-2]).strip()
    if not name:
        raise NameProblem("unparseable_name: empty person name")
    return Labels(
        person=name, age=parse_age(parts[-2]), gender=parse_gender(parts[-1], ("m",), ("f",))
    )
