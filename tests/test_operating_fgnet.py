"""The shipped FG-NET preset with dlib (conftest.fgnet_run): FNMR at FMR 1e-3 and 1e-4
per gap bin, set on the operating pool, against a direct computation on the same embeddings -
all genuine pairs of a bin against a threshold set on all cross-person pairs - and the figures
drawn. Slow (the whole preset) and needs ../shared."""

import numpy as np
import pandas as pd
import pytest

from faceage import contracts as c
from faceage.bins import bin_index, bin_labels

pytestmark = [pytest.mark.slow, pytest.mark.shared]


def _direct(res):
    """Cosine of every pair of clean images straight from the embeddings: (genuine scores,
    genuine gaps, impostor scores); pairs of two names of one photo left out."""
    clean = c.read_table(res / "clean" / "manifest.tsv").sort_values("image_id")
    emb = c.read_embeddings(res / "embeddings" / "dlib.npz")
    row = {iid: k for k, iid in enumerate(emb["image_id"])}
    photo = clean["alias_of"].fillna(clean["image_id"]).astype(str).to_numpy()
    v = emb["vectors"][[row[p] for p in photo]].astype(np.float64)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    i, j = np.triu_indices(len(clean), 1)
    ok = np.isfinite(v).all(axis=1)
    keep = ok[i] & ok[j] & (photo[i] != photo[j])
    i, j = i[keep], j[keep]
    s = np.einsum("ij,ij->i", v[i], v[j])
    person = clean["person"].astype(str).to_numpy()
    age = clean["age"].to_numpy(dtype=np.int64)
    gen = person[i] == person[j]
    return s[gen], np.abs(age[i] - age[j])[gen], s[~gen]


def test_fgnet_fnmr_at_fixed_fmr_equals_a_direct_computation(fgnet_run):
    res = fgnet_run / "results" / "fgnet"
    ver = res / "verification" / "dlib"
    fnmr = pd.read_csv(ver / "fnmr.tsv", sep="\t", dtype={"gap_bin": str})
    gen_s, gen_gap, imp_s = _direct(res)
    assert (fnmr["n_impostor"] == len(imp_s)).all()  # the pool is every cross-person pair
    imp = np.sort(imp_s)[::-1]
    edges = [0, 5, 10, 20, 30]
    codes = bin_index(gen_gap, edges)
    for fmr in (1e-3, 1e-4):
        k = int(np.floor(fmr * len(imp)))
        while k > 0 and np.float32(imp[k]) == np.float32(imp[k - 1]):
            k -= 1
        rows = fnmr[np.isclose(fnmr["fmr"], fmr)].set_index("gap_bin")
        thr = rows["threshold"].iloc[0]
        assert imp[k] < thr + 1e-6 and (imp > thr + 1e-6).sum() <= fmr * len(imp)
        for b, lab in enumerate(["all", *bin_labels(edges)]):
            s = gen_s if lab == "all" else gen_s[codes == b - 1]
            r = rows.loc[lab]
            assert r["n_genuine"] == len(s)
            assert r["fnmr"] == pytest.approx(np.mean(s < thr), abs=2 / len(s))
            assert r["fnmr_lo"] <= r["fnmr"] <= r["fnmr_hi"]
            print(
                f"FMR {fmr:g} gap {lab}: FNMR {r['fnmr']:.3f} [{r['fnmr_lo']:.3f}, "
                f"{r['fnmr_hi']:.3f}] on {len(s)} genuine, {len(imp_s)} impostor pairs"
            )
    metrics = pd.read_csv(ver / "metrics.tsv", sep="\t", dtype={"label": str})
    overall = metrics[metrics["subset"] == "all"].iloc[0]
    at = fnmr[np.isclose(fnmr["fmr"], 1e-3) & (fnmr["gap_bin"] == "all")].iloc[0]
    assert overall["fnmr_at_fmr_0.001"] == pytest.approx(at["fnmr"])
    assert overall["n_operating_impostors"] == len(imp_s)
    for png in ("fnmr_by_year.png", "fnmr_by_gap.png", "det.png"):
        assert (ver / png).stat().st_size > 20_000  # a figure, not a one-line sentence
    # comparison.tsv: with a second model in the run, on the pairs both scored (common/)
    comparison = pd.read_csv(res / "verification" / "comparison.tsv", sep="\t")
    dlib = comparison.set_index("model").loc["dlib"]
    if dlib["pairs"] == "common":
        common = pd.read_csv(ver / "common" / "metrics.tsv", sep="\t", dtype={"label": str})
        at_common = common[common["subset"] == "all"].iloc[0]["fnmr_at_fmr_0.001"]
        assert dlib["fnmr_at_fmr_0.001"] == pytest.approx(at_common)
    else:
        assert dlib["fnmr_at_fmr_0.001"] == pytest.approx(at["fnmr"])
