"""What a paper and a catalog need: licence, citation, changelog, one version, catalog usage."""

import json
import re
import subprocess
import sys

import jsonschema
import yaml
from conftest import ROOT

import faceage

CFF_SCHEMA = ROOT / "tests" / "data" / "cff-1.2.0.schema.json"


def pyproject_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]


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
