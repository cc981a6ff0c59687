"""CACD (Cross-Age Celebrity Dataset, CACD2000): ``<age>_<Name>_<nnnn>.jpg``.

E.g. ``53_Robert_De_Niro_0001.jpg``, ``23_Mary-Kate_Olsen_0003.jpg``,
``35_Jean-Claude_Van_Damme_0012.jpg``. The person is everything between the
age and the running number (kept whole, underscores included:
``Robert_De_Niro``), so every image of one celebrity has the same person at
every age. The age is the prefix (CACD's labels are photo year minus birth
year, 16-62). CACD has no gender labels.

Ages outside :data:`AGE_MIN`-:data:`AGE_MAX` cannot be CACD labels and are
rejected here; ``clean.age_min``/``clean.age_max`` can narrow the range
further (removed there as ``impossible_age``).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from faceage.datasets.base import Labels, NameProblem, parse_age

# Deliberately wider than CACD's 16-62: only names that cannot be CACD's go.
AGE_MIN, AGE_MAX = 10, 90

_EXPECTED = "expected <age>_<Name>_<nnnn>, e.g. 53_Robert_De_Niro_0001.jpg"


def parse_name(rel: PurePosixPath) -> Labels:
    stem = rel.name.rsplit(".", 1)[0]
    parts = stem.split("_")
    if len(parts) < 3:
        raise NameProblem(f"unparseable_name: {_EXPECTED}")
    if not any(ch.isdigit() for ch in parts[0]):
        raise NameProblem(f"unparseable_name: no age prefix; {_EXPECTED}")
    if not (parts[-1].isascii() and parts[-1].isdigit()):
        raise NameProblem(f"unparseable_name: no trailing image number; {_EXPECTED}")
    age = parse_age(parts[0])
    if not AGE_MIN <= age <= AGE_MAX:
        raise NameProblem(
            f"unparseable_name: age {age} outside the plausible {AGE_MIN}-{AGE_MAX} (CACD: 16-62)"
        )
    name = "_".join(parts[1:-1])
    if not name.strip("_ "):
        raise NameProblem("unparseable_name: empty person name")
    return Labels(person=name, age=age)
