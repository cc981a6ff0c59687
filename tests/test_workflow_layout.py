"""faceage.workflow.layout: every output path of a dataset and of the study, on hand-built
configurations (the schema's defaults filled in, as config.smk resolves them)."""

from __future__ import annotations

from faceage.workflow.layout import (
    Layout,
    depleted_benchmark_messages,
    failure_messages,
    fill,
    one_of,
)

L = Layout()


def test_the_wildcard_pattern_is_a_dataset_name():
    assert L.results("{dataset}") == "results/{dataset}"
    assert L.verification("{dataset}") == "results/{dataset}/verification"
    assert L.results("demo") == "results/demo"
    assert Layout(root="out").clean_manifest("x") == "out/x/clean/manifest.tsv"
    assert L.study_dir == "results/study"
    assert L.weights_record("{model}", "{group}") == "results/models/{model}/{group}/weights.json"


def test_fill_keeps_the_wildcards_it_is_not_given():
    pattern = "results/{dataset}/embeddings/{model}/shard_{shard}.npz"
    assert fill(pattern, dataset="d", shard=3) == "results/d/embeddings/{model}/shard_3.npz"


def test_one_of_escapes_and_matches_nothing_when_empty():
    assert one_of(["a.b", "c"]) == r"a\.b|c"
    assert one_of([]) == "^$"


def test_per_model_files_follow_the_model_order(conf):
    c = conf(models=["eigenfaces", "dlib"])
    assert L.score_files("d", c) == [
        "results/d/scores/eigenfaces.parquet",
        "results/d/scores/dlib.parquet",
    ]
    assert L.operating_score_files("d", c)[1] == "results/d/scores/operating/dlib.parquet"
    assert L.embedding_files("d", c) == [
        "results/d/embeddings/eigenfaces.npz",
        "results/d/embeddings/dlib.npz",
    ]


def test_comparison_reads_the_common_pairs_tables_of_several_models(conf):
    common = L.comparison_inputs("d", conf(models=["eigenfaces", "dlib"]))
    assert common["metrics"] == [
        "results/d/verification/eigenfaces/common/metrics.tsv",
        "results/d/verification/dlib/common/metrics.tsv",
    ]
    assert common["ageing"][0] == "results/d/verification/eigenfaces/common/ageing.tsv"
    assert common["probe"][0] == "results/d/verification/eigenfaces/age_probe.tsv"
    assert common["common"] == "results/d/verification/paired/common_pairs.tsv"
    own = L.comparison_inputs(
        "d", conf(models=["eigenfaces", "dlib"], verification={"comparison_pairs": "own"})
    )
    assert own["metrics"][1] == "results/d/verification/dlib/metrics.tsv"
    assert "common" not in own
    alone = L.comparison_inputs("d", conf(models=["dlib"]))  # one model: nothing in common
    assert alone["metrics"] == ["results/d/verification/dlib/metrics.tsv"]
    assert "common" not in alone


def test_shard_files_name_every_shard(conf):
    pattern = "results/{dataset}/embeddings/{model}/shard_{shard}.npz"
    assert L.shard_files(pattern, "d", conf(shards=3)) == [
        "results/d/embeddings/{model}/shard_0.npz",
        "results/d/embeddings/{model}/shard_1.npz",
        "results/d/embeddings/{model}/shard_2.npz",
    ]


def test_embed_benchmarks_of_built_in_models_only(conf):
    c = conf(models=["eigenfaces", "mine"], shards=2)
    assert L.embed_benchmarks("d", c, {"eigenfaces"}) == {
        "eigenfaces": [
            "benchmarks/embed/d_eigenfaces_shard0.tsv",
            "benchmarks/embed/d_eigenfaces_shard1.tsv",
        ]
    }
    speeds = L.embed_benchmarks("d", c, {"eigenfaces"}, L.speed)
    assert speeds["eigenfaces"][1] == "benchmarks/embed/d_eigenfaces_shard1.json"
    assert L.log("embed", "{dataset}", "m") == "logs/embed/{dataset}_m.log"


def test_dataset_outputs_of_one_model(conf):
    v = "results/demo/verification"
    assert L.dataset_outputs("demo", conf(models=["eigenfaces"])) == [
        "results/demo/clean/cleaning_summary.tsv",
        "results/demo/tables/timing.tsv",
        "results/demo/embeddings/eigenfaces_vectors.csv",
        "results/demo/tables/similarity_within_range.csv",
        "results/demo/plots/similarity_by_gap.png",
        "results/demo/plots/projections_eigenfaces.png",
        f"{v}/comparison.tsv",
        f"{v}/metrics_by_gap.png",
        f"{v}/eigenfaces/roc_by_gap.png",
        f"{v}/eigenfaces/det.png",
        f"{v}/eigenfaces/fnmr_by_gap.png",
        f"{v}/eigenfaces/fnmr_by_year.png",
    ]


def test_dataset_outputs_grow_with_models_exports_and_estimators(conf):
    c = conf(
        models=["eigenfaces", "dlib"],
        tsv_export=True,
        attributes={"enabled": True, "estimators": ["agegender"]},
    )
    out = L.dataset_outputs("d", c)
    assert "results/d/verification/paired/forest_auc.png" in out
    assert "results/d/tsv/scores/dlib.tsv" in out
    assert "results/d/attributes/agegender/review.tsv" in out
    assert out[-1] == "results/d/plots/attributes_speed_vs_mae.png"
    # pattern-major, as expand() lists them: every model's ROC, then every model's DET
    rocs = [i for i, f in enumerate(out) if f.endswith(("roc_by_gap.png", "det.png"))]
    assert [out[i].split("/")[3] for i in rocs] == ["eigenfaces", "dlib", "eigenfaces", "dlib"]
    assert out.count("results/d/verification/comparison.tsv") == 1
    off = L.dataset_outputs("d", conf(models=["eigenfaces"], verification={"enabled": False}))
    assert not any("/verification/" in f for f in off)


def test_a_protocol_dataset_makes_its_benchmarks_only(conf):
    c = conf(dataset_format="protocol", models=["dlib"], tsv_export=True)
    assert L.dataset_outputs("p", c) == [
        "results/p/clean/cleaning_summary.tsv",
        "results/p/tables/timing.tsv",
        "results/p/embeddings/dlib_vectors.csv",
        "results/p/verification/benchmarks.tsv",
    ]


def test_final_outputs_add_the_study_in_a_study(conf):
    datasets = {"a": conf(models=["dlib"]), "b": conf(models=["eigenfaces"])}
    one = L.final_outputs(datasets, study=False)
    assert one == L.dataset_outputs("a", datasets["a"]) + L.dataset_outputs("b", datasets["b"])
    both = L.final_outputs(datasets, study=True)
    assert both[len(one) :] == [
        "results/study/summary.tsv",
        "results/study/tables.md",
        "results/study/tables.tex",
        "results/study/by_gap.png",
        "results/study/forest.png",
    ]


def test_study_inputs_and_their_records_are_aligned(conf):
    datasets = {
        "pair": conf(models=["eigenfaces", "dlib"]),
        "one": conf(models=["dlib"], attributes={"enabled": True, "estimators": ["agegender"]}),
        "bench": conf(dataset_format="protocol", models=["dlib"]),
        "off": conf(models=["dlib"], verification={"enabled": False}),
    }
    inputs = L.study_inputs(datasets)
    settings = L.study_settings(datasets, fmr=0.001)
    assert inputs["metrics"] == [
        "results/pair/verification/eigenfaces/common/metrics.tsv",
        "results/pair/verification/dlib/common/metrics.tsv",
        "results/one/verification/dlib/metrics.tsv",
    ]
    assert inputs["conventions"][2] == "results/one/verification/dlib/conventions.json"
    assert settings["models"] == [
        {"dataset": "pair", "model": "eigenfaces"},
        {"dataset": "pair", "model": "dlib"},
        {"dataset": "one", "model": "dlib"},
    ]
    assert inputs["differences"] == ["results/pair/verification/paired/differences.tsv"]
    assert settings["differences"] == [{"dataset": "pair"}]
    assert inputs["benchmarks"] == ["results/bench/verification/benchmarks.tsv"]
    assert settings["benchmarks"] == [{"dataset": "bench"}]
    assert inputs["attributes"] == ["results/one/attributes/agegender/summary.tsv"]
    assert settings["attributes"] == [{"dataset": "one", "estimator": "agegender"}]
    assert settings["fmr"] == 0.001


def test_failure_message_when_no_image_survived_cleaning(tmp_path):
    layout = Layout(root=str(tmp_path))
    manifest = tmp_path / "d" / "clean" / "manifest.tsv"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("image_id\tshard\n")
    (msg,) = failure_messages(layout, ["d", "absent"])
    assert msg.startswith("ERROR: no image survived cleaning; see ")
    assert f"{tmp_path}/d/clean/cleaning_report.tsv" in msg
    manifest.write_text("image_id\tshard\nx.jpg\t0\n")
    assert failure_messages(layout, ["d"]) == []


def test_depleted_benchmarks_are_named_with_their_counts(tmp_path):
    layout = Layout(root=str(tmp_path))
    table = tmp_path / "p" / "verification" / "benchmarks.tsv"
    table.parent.mkdir(parents=True)
    cols = "protocol\tmodel\taccuracy_note\tn_pairs\tn_genuine\tn_impostor\tn_unscored"
    table.write_text(f"{cols}\nlfw\tdlib\t\t10\t5\t5\t0\nagedb\tdlib\ttoo few\t4\t1\t2\t1\n")
    assert depleted_benchmark_messages(layout, ["p", "absent"]) == [
        "WARNING: protocol agedb, model dlib: no accuracy reported: too few (4 pairs: 1 "
        "genuine, 2 impostor, 1 unscored; dataset p)"
    ]
