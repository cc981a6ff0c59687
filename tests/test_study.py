"""The study (faceage.study, steps study_summary / study_tables / study_plots): every figure of
results/study/ equals the figure in its dataset's own tables, and the LaTeX compiles.

The per-dataset tables are made by the real steps and analysis on synthetic scores: ``alpha``
(two models on their common pairs, as ``comparison_pairs: common`` runs them), ``beta`` (two
models on their own pairs), ``gamma`` (a protocol dataset: benchmarks.tsv) and ``utk`` (age and
gender estimators only).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
import yaml
from capabilities import missing
from test_verification import VER_SETTINGS, _metrics_step, _pool_file, synthetic_scores

from faceage.analysis import paired as P
from faceage.analysis.comparison import read_result
from faceage.attributes import evaluation as ev
from faceage.contracts import SCORE_COLUMNS, write_table
from faceage.protocols.evaluation import benchmarks_table
from faceage.steps import Files, Settings, get, run
from faceage.study import numbers, render
from faceage.study.summary import SUMMARY_COLUMNS, provenance_line, provenance_table
from faceage.workflow.settings import provenance

MODELS = ["modela", "modelb"]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
FMR = 0.01  # estimable on the synthetic pools (about 7,000 impostor pairs)
STUDY = ["summary", "conventions", "differences", "benchmarks", "attributes", "provenance"]


def _dataset(root, name, common: bool, seed: int) -> dict:
    """Two models' verification tables (and comparison.tsv, differences.tsv) of one dataset."""
    ver = root / name / "verification"
    scores = {}
    for k, m in enumerate(MODELS):
        s = synthetic_scores(n_persons=20, seed=seed + k, slope=-0.01 * (k + 1))
        if m == "modelb":  # a model that misses some images: the common pairs differ
            lost = s["image_a"].isin(s["image_a"].drop_duplicates().iloc[:10])
            s = s.assign(similarity=s["similarity"].mask(lost))
        scores[m] = s
        write_table(s, ver / f"{m}.tsv", SCORE_COLUMNS)
    sub = "common/" if common else ""
    if common:
        files = {
            "scores": [str(ver / f"{m}.tsv") for m in MODELS],
            "operating": [_pool_file(ver / f"{m}.tsv") for m in MODELS],
        }
        ids = {k: str(ver / "paired" / f"{k}.tsv") for k in ("table", "ids", "operating_ids")}
        run("common_pairs", input=files, output=ids, settings={"models": MODELS})
    for m in MODELS:
        d = ver / m / sub
        args = ("verification_metrics_common",) if common else ("verification_metrics",)
        extra = (ids["ids"], ids["operating_ids"]) if common else ()
        _metrics_step(args[0], ver / f"{m}.tsv", d, m, *extra)
    files = {
        "metrics": [str(ver / m / sub / "metrics.tsv") for m in MODELS],
        "ageing": [str(ver / m / sub / "ageing.tsv") for m in MODELS],
        "conventions": [str(ver / m / sub / "conventions.json") for m in MODELS],
    }
    comp = {"metrics": files["metrics"], "ageing": files["ageing"]}
    if common:
        comp["common"] = ids["table"]
    run(
        "verification_comparison",
        input=comp,
        output={"table": str(ver / "comparison.tsv"), "plot": str(ver / "by_gap.png")},
        settings={"models": MODELS, "title": name} | {k: VER_SETTINGS[k] for k in ("fmr_levels",)},
    )
    res = P.paired_comparison(scores, [0, 10, 20, 30], fmr_levels=(1e-2,), n_bootstrap=30)
    write_table(res.differences, ver / "paired" / "differences.tsv")
    return files | {"differences": str(ver / "paired" / "differences.tsv")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    alpha, beta = _dataset(root, "alpha", True, 0), _dataset(root, "beta", False, 10)
    summaries = [
        pd.DataFrame(
            [
                {
                    "protocol": "lfw",
                    "format": "lfw_pairs",
                    "model": m,
                    "accuracy": a,
                    "accuracy_std": 0.004,
                    "accuracy_note": "",
                    "auc": 0.99,
                    "n_pairs": 6000,
                    "n_genuine": 3000,
                    "n_impostor": 3000,
                    "n_unscored": 3,
                }
            ]
        )
        for m, a in (("modela", 0.9871), ("modelb", 0.95))
    ]
    bench = benchmarks_table(summaries, published={"lfw": {"modela": 0.9913}})
    (root / "gamma").mkdir()
    write_table(bench, root / "gamma" / "benchmarks.tsv")
    rng = np.random.default_rng(0)
    attributes = []
    for k, est in enumerate(["agegender", "deepface"]):
        age = rng.integers(1, 90, 200)
        pred = pd.DataFrame(
            {
                "age": age,
                "age_pred": age + rng.normal(k, 5 + k, 200),
                "gender": rng.choice(["F", "M"], 200),
                "gender_pred": rng.choice(["F", "M"], 200),
            }
        )
        path = root / "utk" / est / "summary.tsv"
        write_table(pd.DataFrame([ev.summary(pred, {"images_per_second": 50.0}, est)]), path)
        attributes.append(str(path))
    records = [{"dataset": d, "model": m} for d in ("alpha", "beta") for m in MODELS]
    inputs = {
        "metrics": alpha["metrics"] + beta["metrics"],
        "ageing": alpha["ageing"] + beta["ageing"],
        "conventions": alpha["conventions"] + beta["conventions"],
        "differences": [alpha["differences"], beta["differences"]],
        "benchmarks": [str(root / "gamma" / "benchmarks.tsv")],
        "attributes": attributes,
        "settings": [],
    }
    for ds in ("alpha", "beta", "gamma", "utk"):  # results/<ds>/settings.yaml (run_settings)
        record = root / ds / "settings.yaml"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(yaml.safe_dump(provenance({"dataset": ds}, COMMIT)))
        inputs["settings"].append(str(record))
    settings = {
        "models": records,
        "differences": [{"dataset": "alpha"}, {"dataset": "beta"}],
        "benchmarks": [{"dataset": "gamma"}],
        "attributes": [{"dataset": "utk", "estimator": e} for e in ("agegender", "deepface")],
        "settings": [{"dataset": d} for d in ("alpha", "beta", "gamma", "utk")],
        "fmr": FMR,
    }
    out = root / "study"
    outputs = {k: str(out / f"{k}.tsv") for k in STUDY}
    run("study_summary", input=inputs, output=outputs, settings=settings)
    tables = {"markdown": str(out / "tables.md"), "latex": str(out / "tables.tex")}
    run("study_tables", input={k: outputs[k] for k in STUDY if k != "differences"}, output=tables)
    plots = {"by_gap": str(out / "by_gap.png"), "forest": str(out / "forest.png")}
    run("study_plots", input={k: outputs[k] for k in ("summary", "differences")}, output=plots)
    return {
        "root": root,
        "inputs": inputs,
        "settings": settings,
        "outputs": outputs,
        "tables": tables,
        "plots": plots,
    }


def _same(a, b, what: str) -> None:
    """Equal cell for cell, empty equal to empty (numbers as read back from the TSVs)."""
    a, b = pd.Series(list(a), dtype=object), pd.Series(list(b), dtype=object)
    both_empty = a.isna() & b.isna()
    assert (both_empty | (a == b)).all(), f"{what}: {list(a)} != {list(b)}"


def test_every_summary_figure_equals_its_datasets_own_table(world):
    study = read_result(world["outputs"]["summary"])
    assert list(study.columns) == SUMMARY_COLUMNS
    assert list(dict.fromkeys(study["dataset"])) == ["alpha", "beta"]
    records = world["settings"]["models"]
    for rec, m_path, a_path in zip(
        records, world["inputs"]["metrics"], world["inputs"]["ageing"], strict=True
    ):
        source = read_result(m_path)
        source = source[source["subset"].isin(["all", "gap_bin"])].reset_index(drop=True)
        mine = study[(study["dataset"] == rec["dataset"]) & (study["model"] == rec["model"])]
        mine = mine.reset_index(drop=True)
        assert list(mine["label"]) == list(source["label"])  # all, then the bins in order
        for col in ["n_persons", "n_genuine", "n_impostor", "n_unscored", "auc", "auc_lo"] + [
            "auc_hi", "eer", "eer_lo", "eer_hi", "acc_mean", "acc_std", "acc_lo", "acc_hi"
        ] + ["acc_folds", "acc_pairs", "n_operating_impostors", "roc_impostors"]:  # fmt: skip
            _same(mine[col], source[col], f"{rec} {col}")
        for mine_col, src in (("fnmr", ""), ("fnmr_lo", "_lo"), ("fnmr_hi", "_hi")):
            _same(mine[mine_col], source[f"fnmr_at_fmr_{FMR:g}{src}"], f"{rec} {mine_col}")
        ageing = read_result(a_path).iloc[0]
        top = mine.iloc[0]
        assert top["slope_per_decade"] == ageing["slope_per_decade"]
        assert top["slope_per_decade_lo"] == pytest.approx(10 * ageing["slope_per_year_lo"])
        assert top["n_ageing_pairs"] == ageing["n_pairs_fitted"]
        assert mine["pairs"].eq("common" if rec["dataset"] == "alpha" else "own").all()
        # a missing figure says why, in the source's words
        for i, r in mine[mine["acc_mean"].isna() & (mine["n_genuine"] > 0)].iterrows():
            note = next(n for n in source.loc[i, "notes"].split("; ") if n.startswith("accuracy"))
            assert f"acc_mean: {note}" in r["empty"]
        assert mine.loc[mine["auc"].notna() & mine["acc_mean"].notna(), "empty"].isna().all()


def test_the_study_equals_each_datasets_comparison_table(world):
    """The study takes the files comparison.tsv takes: the same figures, common pairs included."""
    study = read_result(world["outputs"]["summary"])
    for dataset in ("alpha", "beta"):
        comp = read_result(world["root"] / dataset / "verification" / "comparison.tsv")
        for _, c in comp.iterrows():
            mine = study[(study["dataset"] == dataset) & (study["model"] == c["model"])]
            top = mine[mine["subset"] == "all"].iloc[0]
            assert top["pairs"] == c["pairs"]
            pairs = [(x, x) for x in ["auc", "auc_lo", "auc_hi", "eer", "eer_lo", "eer_hi"]]
            pairs += [("acc_mean", "acc_mean"), ("n_genuine", "n_genuine")]
            pairs += [(f"fnmr{s}", f"fnmr_at_fmr_{FMR:g}{s}") for s in ("", "_lo", "_hi")]
            pairs += [(f"slope_per_decade{s}",) * 2 for s in ("", "_lo", "_hi")]
            for mine_col, comp_col in pairs:
                _same([top[mine_col]], [c[comp_col]], f"{dataset}/{c['model']} {mine_col}")
            for _, r in mine[mine["subset"] == "gap_bin"].iterrows():
                b = r["label"]
                _same([r["auc"], r["acc_mean"]], [c[f"auc_gap_{b}"], c[f"acc_gap_{b}"]], b)
                _same([r["fnmr"]], [c[f"fnmr_at_fmr_{FMR:g}_gap_{b}"]], b)


def test_differences_benchmarks_and_attributes_are_the_sources_stacked(world):
    out, inputs = world["outputs"], world["inputs"]
    diff = read_result(out["differences"])
    for k, dataset in enumerate(("alpha", "beta")):
        mine = diff[diff["dataset"] == dataset].drop(columns="dataset").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, read_result(inputs["differences"][k]))
    bench = read_result(out["benchmarks"])
    assert set(bench["dataset"]) == {"gamma"}
    pd.testing.assert_frame_equal(
        bench.drop(columns="dataset"), read_result(inputs["benchmarks"][0]), check_dtype=False
    )
    assert bench.loc[bench["model"] == "modela", "published_accuracy"].iloc[0] == 0.9913
    attr = read_result(out["attributes"])
    assert list(attr["estimator"]) == ["agegender", "deepface"] and set(attr["dataset"]) == {"utk"}
    for k, path in enumerate(inputs["attributes"]):
        src = read_result(path).iloc[0]
        for col in ("mae", "bias", "cs5", "gender_accuracy", "age_n", "gender_n"):
            assert attr.loc[k, col] == src[col]
    conv = read_result(out["conventions"])
    assert list(conv["pairs"]) == ["common", "common", "own", "own"]
    assert set(conv["bootstrap_iterations"]) == {30} and set(conv["folds"]) == {10}


def test_an_empty_fnmr_says_why(world, tmp_path):
    """FMR 0.001 needs 10,000 pool pairs (the synthetic pools hold fewer); 0.05 is not a level."""
    for fmr, reason in (
        (0.001, "fnmr: not estimable: {n} impostor pairs, FMR 0.001 needs >= 10000"),
        (0.05, "fnmr: FMR 0.05 is not among this dataset's fmr_levels"),
    ):
        settings = world["settings"] | {"fmr": fmr}
        outputs = {k: str(tmp_path / f"{k}.tsv") for k in STUDY}
        t = run("study_summary", input=world["inputs"], output=outputs, settings=settings)
        rows = t[t["n_genuine"] > 0]
        assert rows["fnmr"].isna().all()
        for _, r in rows.iterrows():
            assert reason.format(n=int(r["n_operating_impostors"])) in r["empty"]


def test_the_step_reads_every_setting_and_refuses_misaligned_records(world, tmp_path):
    settings = Settings(world["settings"])
    outputs = Files({k: str(tmp_path / f"{k}.tsv") for k in STUDY})
    get("study_summary")(input=Files(world["inputs"]), output=outputs, settings=settings)
    assert settings.read == settings.names()
    short = world["settings"] | {"models": world["settings"]["models"][:-1]}
    with pytest.raises(ValueError, match="4 metrics files but 3 settings.models records"):
        run("study_summary", input=world["inputs"], output=outputs, settings=short)


def test_markdown_tables_show_the_summary_with_caption_and_counts(world):
    study = read_result(world["outputs"]["summary"])
    md = open(world["tables"]["markdown"]).read()
    top = study[(study["subset"] == "all")].reset_index(drop=True)
    digits = numbers.decimals(top["auc_hi"] - top["auc_lo"])
    for _, r in top.iterrows():
        cell = numbers.with_interval(r["auc"], r["auc_lo"], r["auc_hi"], digits)
        assert f"| {r['dataset']} | {r['model']} | {cell} |" in md
    assert md.count("**Table ") == 5  # overall, AUC and FNMR by gap, benchmarks, attributes
    assert "the pairs every model of the dataset scored (alpha)" in md
    assert "each model's own scored pairs (beta)" in md
    assert "30 iterations" in md and "10-fold" in md and f"FMR = {FMR:g}" in md
    assert "*Counts - alpha (modela, modelb): " in md or "*Counts - alpha (modela): " in md
    assert "98.71 ± 0.40 | 99.13 | -0.42 |" in md  # modela on lfw beside its published figure
    # accuracy: the folds' mean ± std, never the mean beside an interval of another quantity
    acc = numbers.column_spread(top, "acc_mean", "acc_std")
    for cell in acc:
        assert cell == "–" or f" | {cell} | " in md
        assert "±" in cell or cell == "–", cell


def test_latex_tables_compile(world, tmp_path):
    """pdflatex (Debian: texlive-latex-base texlive-latex-recommended, for booktabs) compiles a
    minimal document that inputs tables.tex; CI installs it (.ci/run, FACEAGE_PROVIDES=latex)."""
    tex = open(world["tables"]["latex"]).read()
    assert tex.count("\\begin{table}") == 5 and "\\toprule" in tex and "\\bottomrule" in tex
    if shutil.which("pdflatex") is None:
        missing("latex", "pdflatex is not installed (apt-get install texlive-latex-recommended)")
    (tmp_path / "tables.tex").write_text(tex)
    doc = "\\documentclass{article}\\usepackage{booktabs}\\begin{document}"
    (tmp_path / "doc.tex").write_text(doc + "\\input{tables.tex}\\end{document}\n")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    assert "Overfull \\hbox" not in done.stdout  # the tables fit an article's text width


def test_figures_are_written(world):
    for path in world["plots"].values():
        with open(path, "rb") as fh:
            assert fh.read(4) == b"\x89PNG"
    diff = read_result(world["outputs"]["differences"])
    assert (diff["metric"] == "auc").any()  # the forest plot has rows to draw


def test_numbers_and_latex_escaping():
    assert numbers.decimals([0.25, 0.3]) == 2 and numbers.decimals([0.012]) == 3
    assert numbers.decimals([1e-6]) == numbers.MAX_DECIMALS
    assert numbers.decimals([np.nan]) == numbers.PLAIN_DECIMALS
    assert numbers.with_interval(0.8134, 0.6937, 0.9485, 2) == "0.81 [0.69, 0.95]"
    assert numbers.with_interval(0.8134, np.nan, np.nan, 2) == "0.81"
    assert numbers.with_interval(np.nan, 0.1, 0.2, 2) == numbers.MISSING
    assert numbers.count(466377) == "466,377"
    assert render.latex_cell("my_model & 50%") == "my\\_model \\& 50\\%"
    assert render.latex_cell("0-4") == "0-4"  # a bin's hyphen stays a hyphen
    cell = render.latex_cell("-0.14 [-0.18, -0.10]")
    assert cell.startswith("\\begin{tabular}[t]{@{}c@{}}$-$0.14\\\\")
    assert "[$-$0.18, $-$0.10]" in cell
    assert json.dumps(render.latex_text(numbers.MISSING)) == '"--"'


def test_the_study_records_each_datasets_version_and_commit(world):
    """provenance.tsv: every dataset's faceage version and git commit, from its settings.yaml;
    the paper tables end with them."""
    import faceage

    t = pd.read_csv(world["outputs"]["provenance"], sep="\t", dtype=str)
    assert t.to_dict("records") == [
        {"dataset": d, "faceage_version": faceage.__version__, "git_commit": COMMIT}
        for d in ("alpha", "beta", "gamma", "utk")
    ]
    made = f"Made with faceage {faceage.__version__}, commit {COMMIT} (provenance.tsv)."
    md = open(world["tables"]["markdown"]).read()
    assert md.endswith(f"\n\n{made}\n")
    assert open(world["tables"]["latex"]).read().endswith(f"\n% {made}\n")


def test_provenance_line_names_each_version_and_commit_and_keeps_text():
    t = provenance_table(
        [("a", {"faceage_version": "1.10", "git_commit": "c1"}), ("b", {}), ("c", {})]
    )
    assert t["faceage_version"].tolist() == ["1.10", "unknown", "unknown"]
    assert provenance_line(t) == (
        "faceage 1.10, commit c1 (a); faceage unknown, commit unknown (b, c)"
    )
    assert provenance_line(t.iloc[:1]) == "faceage 1.10, commit c1"
