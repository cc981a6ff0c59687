"""A rule gets exactly the settings its step reads, so a setting re-runs only the rules that
read it (issue 22).

Two checks on the finished demo (and on the FG-NET preset where ../shared is there):
* every setting a rule hands its step was read by the step (``FACEAGE_SETTINGS_REPORT``:
  the step layer notes what each step reads);
* changing one configuration key at a time, Snakemake re-runs (for changed params) exactly
  the rules that read it: what ``snakemake --summary --config <setting>`` calls "params
  changed", asked of Snakemake's own rerun trigger for every setting in one process with one
  parse and one DAG (tests/helpers/rule_params.py).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import ROOT
from rule_params import rerun_by_setting


def _reports(work) -> dict[str, tuple[set, set]]:
    out: dict[str, tuple[set, set]] = {}
    for f in sorted((work / "settings_read").glob("*.json")):
        r = json.loads(f.read_text())
        given, read = out.setdefault(r["rule"], (set(), set()))
        given |= set(r["given"])
        read |= set(r["read"])
    return out


def test_every_setting_a_rule_hands_its_step_is_read(demo_run):
    reports = _reports(demo_run)
    assert {"pairs", "clean", "embed", "verification_metrics", "projections"} <= set(reports)
    unread = {rule: sorted(g - r) for rule, (g, r) in reports.items() if g - r}
    assert not unread, f"settings handed to a step that never reads them: {unread}"


@pytest.mark.shared
def test_every_setting_is_read_on_fgnet(fgnet_run):
    """The preset runs dlib with a detector and the age/gender branch: rules the demo skips."""
    reports = _reports(fgnet_run)
    assert {"detect_faces", "attributes_flags", "attributes_evaluate"} <= set(reports)
    unread = {rule: sorted(g - r) for rule, (g, r) in reports.items() if g - r}
    assert not unread, f"settings handed to a step that never reads them: {unread}"


# key changed (as --config text) -> the rules whose params change on the demo (eigenfaces,
# no detector, no attribute branch); the jobs after them re-run because their inputs do.
RERUNS = {
    "verification={folds: 5}": {"verification_metrics"},
    "verification={seed: 3}": {"verification_metrics", "ageing_model"},
    "verification={ageing_max_pairs: 500}": {"ageing_model"},
    "verification={age_probe: {folds: 3}}": {"age_probe"},
    "verification={fmr_levels: [0.01]}": {
        "verification_metrics",
        "operating_plots",
        "verification_comparison",
    },
    "verification={paired: {min_gender_persons: 3}}": set(),  # one model: no comparison
    "comparisons={operating_impostors: 1000}": {"operating_pairs"},
    "comparisons={impostor_ratio: 2.0}": {"pairs"},
    "comparisons={seed: 5}": {"pairs", "operating_pairs"},
    "analysis={min_pairs_per_gap: 3}": {"plot_similarity"},
    "analysis={tsne_perplexity: 10}": {"projections"},
    "analysis={seed: 2}": {"projections", "prepare_model"},
    "clean={min_images_per_person: 3}": {"clean"},
    "clean={upsample: 2}": set(),  # no detector in the demo: nothing reads it
    "clean={max_side: 800}": {"detect_faces", "prepare_model", "embed"},
    "embeddings={fallback_crop: 0.5}": {"embed"},
    "embeddings={no_face_fallback: none}": set(),  # auto is none in the study already
    "face_choice=centre": {"clean"},  # the detector's choice too, where there is one
    # check_weights records the settings beside the weights it checked (once per model)
    "model_settings={eigenfaces: {whiten: true}}": {"check_weights", "prepare_model", "embed"},
    "model_settings={eigenfaces: {flip: true}}": {"check_weights", "prepare_model", "embed"},
    "model_settings={dlib: {jitter: 100}}": set(),  # not a model of this run
    "attributes={cs_threshold: 3}": set(),  # the branch is off
    "demo={seed: 8}": {"demo_dataset"},
    "study={fmr: 0.01}": set(),  # no datasets: no study
}


# The same on the demo with two models, where the paired comparison runs: each of its rules
# re-runs only for the settings it reads.
PAIRED_RERUNS = {
    "verification={paired: {min_gender_persons: 3}}": {"paired_by_gender"},
    "verification={min_year_pairs: 5}": {
        "verification_metrics",
        "verification_metrics_common",
        "paired_fnmr",
    },
    "verification={impostors: all}": {
        "verification_metrics",
        "verification_metrics_common",
        "paired_differences",
        "paired_by_gender",
    },
    # fmr_levels holds what far_levels did (issue 31): the paired differences and the
    # by-gender table compare FNMR at these FMRs too
    "verification={fmr_levels: [0.01]}": {
        "verification_metrics",
        "verification_metrics_common",
        "operating_plots",
        "verification_comparison",
        "paired_fnmr",
        "paired_differences",
        "paired_by_gender",
    },
}
PAIRED_RULES = {"paired_differences", "paired_fnmr", "paired_failure_to_enrol", "paired_by_gender"}


# A setting that changes nothing: no rule re-runs for it, which shows that every job's params
# as evaluated here (the settings' record aside) are the ones the finished run recorded.
UNCHANGED = "verification={enabled: true}"


def _rerun_for_params(work, settings) -> dict[str, set[str]]:
    """{setting: the rules with an output whose params changed (the status
    ``snakemake --summary --config <setting>`` gives it)}, one parse for all settings."""
    kw = {}
    if (work / "Snakefile").exists():  # the two-model demo: its own Snakefile and config
        kw = dict(snakefile=work / "Snakefile", configfile=work / "config.yaml", targets=["all"])
    got = rerun_by_setting(work, settings, **kw)
    # results/<dataset>/settings.yaml records every setting, so it is re-written whenever a
    # setting changes (also one this run's rules do not read; nothing reads the record); the
    # rules that compute are the question here
    for setting, rerun in got.items():
        assert "run_settings" in rerun or not rerun, (setting, rerun)
    return {setting: rerun - {"run_settings"} for setting, rerun in got.items()}


@pytest.mark.workflow
def test_a_setting_reruns_only_the_rules_that_read_it(demo_run):
    got = _rerun_for_params(demo_run, [UNCHANGED, *RERUNS])
    assert got.pop(UNCHANGED) == set()
    wrong = {
        setting: {"expected": sorted(expected), "re-run": sorted(got[setting])}
        for setting, expected in RERUNS.items()
        if got[setting] != expected
    }
    assert not wrong, json.dumps(wrong, indent=1)


def test_every_paired_rule_reads_what_it_is_given(paired_demo_run):
    reports = _reports(paired_demo_run)
    assert PAIRED_RULES | {"common_pairs", "similarity_tables"} <= set(reports)
    unread = {rule: sorted(g - r) for rule, (g, r) in reports.items() if g - r}
    assert not unread, f"settings handed to a step that never reads them: {unread}"


@pytest.mark.workflow
def test_a_setting_reruns_only_the_paired_rules_that_read_it(paired_demo_run):
    got = _rerun_for_params(paired_demo_run, [UNCHANGED, *PAIRED_RERUNS])
    assert got.pop(UNCHANGED) == set()
    wrong = {
        setting: {"expected": sorted(expected), "re-run": sorted(got[setting])}
        for setting, expected in PAIRED_RERUNS.items()
        if got[setting] != expected
    }
    assert not wrong, json.dumps(wrong, indent=1)


def test_the_table_covers_every_section():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    nested = {k for k, v in schema["properties"].items() if "properties" in v}
    named = {re.match(r"(\w+)=", k).group(1) for k in RERUNS}
    missing = nested - named
    assert not missing, f"no re-run check for the settings under {sorted(missing)}"
