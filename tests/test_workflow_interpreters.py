"""faceage.workflow.interpreters: which interpreter runs a job, and the JSON settings of the steps
that run in a model's or estimator's own interpreter, on hand-built configurations."""

from __future__ import annotations

import json

from conftest import ROOT

from faceage.attributes import ESTIMATORS
from faceage.models import MODELS
from faceage.workflow import interpreters as interp


def test_env_file_is_relative_to_the_rules_folder():
    assert interp.env_file("dlib") == "../../envs/dlib.yaml"
    for env in {interp.model_env(m) for m in MODELS} | {
        interp.estimator_env(e) for e in ESTIMATORS
    }:
        assert (ROOT / "workflow" / "rules" / interp.env_file(env)).resolve().is_file(), env


def test_env_python_conda_then_python_envs_then_default():
    envs = {"dlib": "/venvs/dlib/bin/python"}
    assert interp.env_python("dlib", envs, using_conda=True) == "python"
    assert interp.env_python("dlib", envs, using_conda=False) == "/venvs/dlib/bin/python"
    assert interp.env_python("core", envs, False, default="/usr/bin/python3") == "/usr/bin/python3"


def test_model_and_estimator_envs():
    assert interp.model_env("eigenfaces") == "core"
    assert interp.model_env("insightface_paddle") == "paddle"
    assert interp.estimator_env("agegender") == "dlib"


def test_prepare_settings_are_sorted_json_of_what_prepare_model_reads(conf):
    c = conf(models=["dlib"], clean={"max_side": 800}, analysis={"seed": 7})
    text = interp.prepare_settings("dlib", c, "w")
    s = json.loads(text)
    assert list(s) == sorted(s)
    assert set(s) == {"model", "model_settings", "weights_dir", "max_side", "seed"}
    assert (s["model"], s["weights_dir"], s["max_side"], s["seed"]) == ("dlib", "w", 800, 7)
    assert s["model_settings"]["chip_size"] == c["model_settings"]["dlib"]["chip_size"]
    assert text == interp.settings_json(s)


def test_model_settings_resolve_the_face_choice(conf):
    study = json.loads(interp.prepare_settings("dlib", conf(), "w"))
    assert study["model_settings"]["multi_face"] == "largest"
    protocol = conf(dataset_format="protocol")
    assert (
        json.loads(interp.prepare_settings("dlib", protocol, "w"))["model_settings"]["multi_face"]
        == "centre"
    )
    own = conf(model_settings={"dlib": {"multi_face": "drop"}})
    assert (
        json.loads(interp.prepare_settings("dlib", own, "w"))["model_settings"]["multi_face"]
        == "drop"
    )
    # a model without a face choice gets none added
    assert (
        "multi_face"
        not in json.loads(interp.prepare_settings("eigenfaces", conf(), "w"))["model_settings"]
    )


def test_embed_settings_resolve_the_no_face_fallback(conf):
    def embed(c):
        return json.loads(interp.embed_settings("dlib", c, "w"))

    s = embed(conf())
    assert set(s) == {
        "model", "model_settings", "weights_dir", "max_side", "fallback", "fallback_crop"
    }  # fmt: skip
    assert (s["fallback"], s["fallback_crop"]) == ("none", 1.0)
    assert embed(conf(dataset_format="protocol"))["fallback"] == "aligned"
    assert embed(conf(embeddings={"no_face_fallback": "centre_crop"}))["fallback"] == "centre_crop"


def test_estimator_step_settings(conf):
    c = conf(attributes={"enabled": True, "batch_size": 8, "settings": {"agegender": {"x": 1}}})
    s = json.loads(interp.estimator_step_settings("agegender", c, "w"))
    assert s == {
        "estimator": "agegender",
        "estimator_settings": {"x": 1},
        "weights_dir": "w",
        "max_side": 1600,
        "batch_size": 8,
    }
    assert (
        json.loads(interp.estimator_step_settings("deepface", c, "w"))["estimator_settings"] == {}
    )
