"""Any other dataset: a CSV manifest (``path,person,age[,gender]``).

``dataset_path`` is the CSV file; image paths in it are relative to the CSV's
folder (or absolute). Gender accepts M/F, male/female, m/f, 0/1 (0 = male).
Rows with a missing file or unreadable labels go to the rejects list, and so do paths
that are no regular file (a FIFO, a device) or too large to read
(:func:`~faceage.datasets.base.file_problem`).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from faceage.datasets.base import Labels, NameProblem, file_problem, parse_age, parse_gender

REQUIRED = ("path", "person", "age")


def build(csv_path: Path) -> tuple[list[dict], list[dict]]:
    if not csv_path.is_file():
        raise FileNotFoundError(f"CSV manifest {csv_path} does not exist")
    base = csv_path.parent
    rows, rejects = [], []
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{csv_path}: missing columns {missing}; need {list(REQUIRED)} (+ optional gender)"
            )
        for line, rec in enumerate(reader, start=2):
            rel = (rec.get("path") or "").strip()
            path = Path(rel) if Path(rel).is_absolute() else base / rel
            try:
                if not rel:
                    raise NameProblem("missing_path: empty path field")
                if not os.path.lexists(path):
                    raise NameProblem(f"missing_file: line {line}")
                problem = file_problem(path)  # a FIFO, a device, a huge file: never opened
                if problem:
                    raise NameProblem(f"{problem} (line {line})")
                person = (rec.get("person") or "").strip()
                if not person:
                    raise NameProblem(f"missing_label: line {line} has no person")
                age_text = (rec.get("age") or "").strip()
                age = parse_age(age_text) if age_text else None
                g = (rec.get("gender") or "").strip()
                gender = parse_gender(g, ("m", "male", "0"), ("f", "female", "1")) if g else None
            except NameProblem as exc:
                rejects.append({"source": Path(rel).name, "path": str(path), "reason": str(exc)})
                continue
            rows.append(
                Labels(person=person, age=age, gender=gender).row(Path(rel).as_posix(), path)
            )
    return rows, rejects
