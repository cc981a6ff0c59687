"""One photo under two names (issue 21): byte-identical FG-NET files labelled as different
persons are a label conflict - every copy removed and named in the report, unless an override
keeps one; a person left without a distinct photo is removed; never an impostor pair of one
photo; in protocol runs flagged, never removed."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from capabilities import missing

from faceage.clean import clean_manifest, inspect_images
from faceage.datasets import build_manifest
from faceage.impostor_pool import operating_pairs
from faceage.pairs import make_pairs

FGNET = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "fgnet"

pytestmark = [pytest.mark.shared]


@pytest.fixture(scope="module")
def bad_set(tmp_path_factory) -> Path:
    """Subjects 002 and 003 of FG-NET, plus 002's first photo copied as subject 092 (age 20),
    whose only photo it is."""
    if not FGNET.is_dir():
        missing("shared", f"needs real faces in {FGNET} (../shared is absent here)")
    root = tmp_path_factory.mktemp("conflict")
    for f in sorted(FGNET.iterdir()):
        if f.name.upper().startswith(("002A", "003A")):
            shutil.copy(f, root / f.name)
    first = sorted(root.glob("002A*"))[0]
    shutil.copy(first, root / "092A20.JPG")
    return root


def _clean(root: Path, overrides=None, keep_all=False):
    man, _ = build_manifest("fgnet", root)
    insp = inspect_images(man, detector=None)
    return man, *clean_manifest(
        man,
        insp,
        overrides,
        min_images_per_person=2,
        detector_used=False,
        keep_all=keep_all,
    )


def test_one_photo_under_two_persons_is_a_label_conflict(bad_set):
    man, clean, rep = _clean(bad_set)
    copy = man.loc[man["person"] == "092", "image_id"].item()
    original = man.loc[(man["person"] == "002") & (man["alias_of"].isna()), "image_id"].iloc[0]
    assert man.set_index("image_id").at[copy, "alias_of"] == original  # the bytes are equal
    conflict = rep[rep["reason"] == "conflicting_labels"].set_index("image_id")
    assert set(conflict.index) == {original, copy}
    assert (conflict["action"] == "removed").all()
    assert original in conflict.at[copy, "detail"] and "person 002" in conflict.at[copy, "detail"]
    assert (
        copy in conflict.at[original, "detail"] and "person 092" in conflict.at[original, "detail"]
    )
    assert "092" not in set(clean["person"])
    assert not clean["image_id"].isin([original, copy]).any()
    n002 = int((man["person"] == "002").sum())
    assert int((clean["person"] == "002").sum()) == n002 - 1  # the rest of 002 stays
    assert clean["alias_of"].isna().all()
    pairs = make_pairs(clean, folds=None)
    pool = operating_pairs(clean)
    for t in (pairs, pool):
        ids = set(t["image_a"].astype(str)) | set(t["image_b"].astype(str))
        assert copy not in ids and original not in ids


def test_an_override_keeps_one_copy(bad_set):
    man, _, _ = _clean(bad_set)
    copy = man.loc[man["person"] == "092", "image_id"].item()
    drop = pd.DataFrame(
        [{"image_id": copy, "action": "drop", "field": "", "value": "", "note": "not 092"}]
    )
    _, clean, rep = _clean(bad_set, overrides=drop)
    assert not (rep["reason"] == "conflicting_labels").any()
    assert int((clean["person"] == "002").sum()) == int((man["person"] == "002").sum())
    assert "092" not in set(clean["person"])


def test_a_person_without_a_distinct_photo_is_removed(bad_set, monkeypatch):
    """The minimum counts distinct photos per person, and a person with none counts 0: with the
    conflict rule switched off, 092 (whose only image is a copy of 002's photo) must still go."""
    import faceage.clean as clean_module

    monkeypatch.setattr(clean_module, "label_conflicts", lambda table: {})
    man, clean, rep = _clean(bad_set)
    assert "092" not in set(clean["person"])
    copy = man.loc[man["person"] == "092", "image_id"].item()
    row = rep.set_index("image_id").loc[copy]
    assert row["reason"] == "too_few_images" and "0 < 2 distinct" in row["detail"]


def test_protocol_runs_flag_and_never_remove(bad_set):
    man, clean, rep = _clean(bad_set, keep_all=True)
    assert len(clean) == len(man)
    conflict = rep[rep["reason"] == "conflicting_labels"]
    assert len(conflict) == 2 and (conflict["action"] == "flagged").all()
