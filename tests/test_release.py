"""What a paper and a catalog need: licence, citation, changelog, one version, catalog usage."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from capabilities import missing, touch
from conftest import ROOT

import faceage

CFF_SCHEMA = ROOT / "tests" / "data" / "cff-1.2.0.schema.json"


def pyproject_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]


def project_urls() -> dict[str, str]:
    """pyproject's [project.urls] (read by hand: tomllib is Python 3.11+, the package 3.10+)."""
    text = (ROOT / "pyproject.toml").read_text()
    section = re.search(r"^\[project\.urls\]\n(.*?)(?=^\[)", text, re.M | re.S)[1]
    return dict(re.findall(r'^(\w+) = "([^"]+)"$', section, re.M))


def repository() -> str:
    """The repository URL, written once: pyproject's [project.urls] Repository."""
    return project_urls()["Repository"]


def changelog_dates() -> dict[str, str]:
    """{version: date} of CHANGELOG.md's released sections (``## [0.1.0] - 2026-12-01``)."""
    text = (ROOT / "CHANGELOG.md").read_text()
    return dict(re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", text, re.M))


def cff_errors(cff: dict) -> list[str]:
    """Every way ``cff`` breaks the Citation File Format 1.2.0 schema (as cffconvert --validate).

    The schema is the one cffconvert 2.0.0 ships (tests/data/, CC-BY-4.0, from the
    citation-file-format project); cffconvert itself needs jsonschema < 4, which Snakemake's
    environment cannot have, so the same schema is checked with the jsonschema we have.
    """
    schema = json.loads(CFF_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(cff)]


def read_cff() -> dict:
    # CFF is YAML 1.2; a date or a version must stay a string, as the schema wants.
    return yaml.load((ROOT / "CITATION.cff").read_text(), Loader=yaml.BaseLoader)


def test_citation_cff_is_valid():
    assert cff_errors(read_cff()) == []


def test_the_cff_check_finds_what_cffconvert_refuses():
    cff = read_cff()
    assert cff_errors({k: v for k, v in cff.items() if k != "authors"})  # required key
    assert cff_errors({**cff, "license": "MIT-ish"})  # not an SPDX identifier
    assert cff_errors({**cff, "cff-version": "1.1.0"})
    assert cff_errors({**cff, "colour": "blue"})  # unknown key


def test_version_is_written_once_and_everything_agrees():
    version = pyproject_version()
    init = (ROOT / "src" / "faceage" / "__init__.py").read_text()
    assert version not in init, "the version belongs in pyproject.toml only"
    assert faceage.__version__ == version
    assert read_cff()["version"] == version
    out = subprocess.run(
        [sys.executable, "-m", "faceage", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["faceage", version]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    assert released and released[0] == version, "CHANGELOG.md's newest release is the version"


def test_licence_is_mit_for_the_code_and_says_data_and_weights_are_not_covered():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "WITHOUT WARRANTY" in text
    assert "model weights" in text
    assert read_cff()["license"] == "MIT"
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "## Cite" in readme and "LICENSE" in readme
    # every README section LICENSE points to exists
    for section in re.findall(r'README\.md, section "([^"]+)"', text):
        assert f"## {section}\n" in readme, section
    assert "README.md" not in text or re.search(r'README\.md, section "', text)


def test_catalog_usage_file():
    """The keys the Snakemake workflow catalog reads for its standardized usage."""
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert set(usage) == {"mandatory-flags", "software-stack-deployment", "report"}
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    assert set(usage["software-stack-deployment"]) == {"conda", "apptainer", "apptainer+conda"}
    assert all(isinstance(v, bool) for v in usage["software-stack-deployment"].values())
    assert (ROOT / "config" / "README.md").is_file()
    for f in re.findall(r"--configfile (\S+)", usage["mandatory-flags"]["flags"]):
        assert (ROOT / f).is_file(), f


def test_authors_and_urls_in_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'authors = [{name = "The Face-Age-Invariant contributors"}]' in text
    assert [a["name"] for a in read_cff()["authors"]] == ["The Face-Age-Invariant contributors"]
    urls = project_urls()
    assert set(urls) == {"Repository", "Documentation", "Changelog", "Issues"}
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", urls["Repository"])
    for name, url in urls.items():
        assert url.startswith(urls["Repository"]), name


def test_one_repository_url_everywhere():
    """CITATION.cff, README's deploy lines, the docs and the catalog file name pyproject's
    repository, and no placeholder for it is left."""
    url = repository()
    slug = url.removeprefix("https://github.com/")
    cff = read_cff()
    assert cff["repository-code"] == url
    # cffconvert's BibTeX url comes from identifiers, then url, then repository-code: nothing
    # may stand before it with another address.
    assert "url" not in cff and "identifiers" not in cff and "repository" not in cff
    readme = (ROOT / "README.md").read_text()
    assert f"snakedeploy deploy-workflow {url} . --tag <tag>" in readme
    assert re.findall(r'github\("([^"]+)", path="workflow/Snakefile"', readme) == [slug]
    assert f"git+{url}@<tag>" in readme
    texts = {
        f: (ROOT / f).read_text()
        for f in ["README.md", ".snakemake-workflow-catalog.yml", "CITATION.cff"]
        + [f"docs/{d.name}" for d in sorted((ROOT / "docs").glob("*.md"))]
    }
    for f, text in texts.items():
        assert "<owner>" not in text and "<repository" not in text, f
        for other in re.findall(r"github\.com/[\w.-]+/Face-Age-Invariant", text):
            assert other == f"github.com/{slug}", (f, other)


def test_citation_date_is_the_changelogs_date_of_the_version():
    cff = read_cff()
    dates = changelog_dates()
    assert cff["version"] in dates, "CHANGELOG.md has no dated section for CITATION's version"
    assert cff["date-released"] == dates[cff["version"]]


def test_cff_holds_what_the_bibtex_entry_is_made_of():
    """cffconvert 2.0.0's BibTeX: author from authors, title, year (and month) from
    date-released, url from repository-code. Its writer has no version field (it writes only
    author, doi, month, title, url, year); the version is CITATION's ``version``, which
    ruby-cff's @software entry and the other formats carry (README, "Cite, licence")."""
    cff = read_cff()
    assert cff["authors"] and all(a.get("name") for a in cff["authors"])
    assert cff["title"].startswith("Face-Age-Invariant")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", cff["date-released"])
    assert cff["version"] == pyproject_version()
    assert cff["repository-code"] == repository()


def _cffconvert_bibtex() -> str:
    """``cffconvert -f bibtex`` of CITATION.cff, after ``--validate``. cffconvert needs
    jsonschema < 4, so it lives in a venv of its own: .venvs/cffconvert (``$FACEAGE_VENVS``;
    envs/tools/cffconvert.txt, built by .ci/run; docs/release.md). Else the importable package,
    else a cffconvert on PATH; without any, skip (fail where CI declares ``venv-cffconvert``)."""
    venv = Path(os.environ.get("FACEAGE_VENVS", ROOT / ".venvs")) / "cffconvert"
    touch("venv-cffconvert")
    exe = str(venv / "bin" / "cffconvert") if (venv / ".ready").exists() else None
    if exe is None and importlib.util.find_spec("cffconvert") is not None:
        from cffconvert import Citation

        return Citation((ROOT / "CITATION.cff").read_text()).as_bibtex()
    exe = exe or shutil.which("cffconvert")
    if exe is None:
        missing(
            "venv-cffconvert",
            f"cffconvert is neither in {venv} ({venv}/.ready absent; build it: python3 -m venv "
            f"{venv} && {venv}/bin/pip install --require-hashes -r envs/tools/cffconvert.txt "
            f"&& touch {venv}/.ready), importable here nor on PATH",
        )
    for args in (["--validate"], ["-f", "bibtex"]):
        out = subprocess.run(
            [exe, "-i", str(ROOT / "CITATION.cff"), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, f"cffconvert {' '.join(args)} failed:\n{out.stderr[-4000:]}"
    return out.stdout


@pytest.mark.e2e
def test_cffconvert_bibtex_has_author_title_year_and_url():
    bib = _cffconvert_bibtex()
    cff = read_cff()
    fields = dict(re.findall(r"^(\w+) = \{(.*)\},?$", bib, re.M))
    assert fields["author"] == "The Face-Age-Invariant contributors"
    assert fields["title"] == cff["title"]
    assert fields["year"] == cff["date-released"][:4]
    assert fields["url"] == repository()


# What a run records: the version and the commit (docs/release.md, "What a run records").


def test_a_deployed_modules_source_records_its_own_commit_and_version(tmp_path):
    """A module deployed from a git source runs the package unpacked into
    .snakemake/faceage-src/<commit>/ (workflow/rules/config.smk) with that commit's
    pyproject.toml: settings.yaml records that commit and version, not those of a repository
    the working directory happens to be in, nor of an installed faceage."""

    from faceage.workflow.settings import git_commit, provenance

    user = tmp_path / "user"
    user.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "user's own"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=user, check=True
        )
    sha = "ab" * 20
    unpacked = user / ".snakemake" / "faceage-src" / sha
    (unpacked / "faceage").mkdir(parents=True)
    assert git_commit(unpacked) == sha
    assert git_commit(unpacked.parent / ("cd" * 19)) != "cd" * 19  # not a commit's name
    assert provenance({}, git_commit(unpacked))["git_commit"] == sha
    shutil.copy(ROOT / "src" / "faceage" / "__init__.py", unpacked / "faceage" / "__init__.py")
    (unpacked / "pyproject.toml").write_text('[project]\nname = "faceage"\nversion = "9.8.7"\n')
    spec = importlib.util.spec_from_file_location(
        "faceage_unpacked", unpacked / "faceage" / "__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.__version__ == "9.8.7"


def test_the_checkout_records_its_head():
    from faceage.workflow.settings import git_commit

    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if not head:
        pytest.skip("not a git checkout")
    assert git_commit(ROOT / "src").removesuffix("-dirty") == head


def test_a_models_provenance_records_the_version(tmp_path, monkeypatch):
    """embeddings/<model>/provenance.json: the faceage version that prepared the model (its
    commit is settings.yaml's: the embedding rules take none, so a commit re-embeds nothing)."""
    import numpy as np
    from PIL import Image

    from faceage import embed
    from faceage.contracts import write_manifest
    from faceage.datasets import build_manifest
    from faceage.models.base import ModelAdapter

    class Stub(ModelAdapter):
        name = "stub"
        env = "core"
        defaults = {}

        def required_files(self, settings, weights_dir):
            return []

        def load(self, settings, weights_dir, state_dir):
            return None

        def provenance(self, settings, weights_dir):
            return {"model": "stub"}

    monkeypatch.setattr(embed, "get_adapter", lambda model: Stub())
    (tmp_path / "faces" / "001").mkdir(parents=True)
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(tmp_path / "faces/001/30.png")
    manifest, _ = build_manifest("folders", tmp_path / "faces", 1)
    write_manifest(manifest, tmp_path / "m.tsv")
    out = tmp_path / "provenance.json"
    embed.prepare("stub", {}, tmp_path, tmp_path / "m.tsv", tmp_path / "state", out)
    record = json.loads(out.read_text())
    assert record["faceage_version"] == faceage.__version__ == pyproject_version()
    assert record["model"] == "stub"
