"""The HTML report as a person sees it: headless Chromium opens report.html, every category of the
run is in the menu, every plot of results/ opens from its row and is a real, decoded image, and
every table's row downloads it (a data URL named as the file).

Needs Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them) and selenium (pinned in
envs/workflow.yaml); skips without them locally, fails in CI (capability ``chromium``).
"""

from __future__ import annotations

import re
import shutil
from collections import Counter

import pytest
from capabilities import missing, need_module
from conftest import run_workflow

pytestmark = pytest.mark.slow

DEMO_CATEGORIES = [
    "1. Dataset",
    "2. Cleaning",
    "3. Comparisons",
    "4. Similarity",
    "5. Embedding maps",
    "6. Verification",
]


@pytest.fixture(scope="module")
def browser():
    need_module("selenium", piece="chromium", reason="selenium is not installed here")
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        missing(
            "chromium",
            "needs Debian's chromium and chromium-driver "
            "(apt-get install chromium chromium-driver)",
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.binary_location = chromium
    d = webdriver.Chrome(service=Service(driver), options=opts)
    yield d
    d.quit()


# Each query is one script in the page (a WebDriver call per element would be most of the time).
_LINKS = "return [...document.querySelectorAll('a')].map(a => a.innerText.trim()).filter(t => t)"
_ROWS = (
    "return [...document.querySelectorAll('tr')].filter(tr => tr.querySelector('a[iconname=eye]'))"
)
# each result's row: its label, and its eye's link and download name
_EYES = (
    _ROWS + ".map(tr => [tr.cells[0].innerText.trim(), ...['href', 'download']"
    ".map(k => tr.querySelector('a[iconname=eye]').getAttribute(k))])"
)
_IMAGES = (
    "return [...document.querySelectorAll('img')]"
    ".map(i => [i.getAttribute('src') || '', i.complete && i.naturalWidth > 0])"
)


def _until(d, condition, timeout=10, required=True):
    """Polls ``condition(d)`` until it is true (the report renders on its own time); on timeout
    fails, or returns None when not ``required``."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(d, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        if required:
            raise
        return None


def _open(d, url, category, sub, menu):
    """The report at ``category`` (and its subcategory ``sub``), freshly loaded; returns the
    links that are not the menu's (the category's subcategories)."""
    from selenium.webdriver.common.by import By

    d.get(url)
    _until(d, lambda d: d.find_elements(By.LINK_TEXT, category))[0].click()
    subs = _until(
        d,
        lambda d: [t for t in d.execute_script(_LINKS) if t not in menu] or d.execute_script(_ROWS),
    )
    if sub:
        d.find_element(By.LINK_TEXT, sub).click()
        _until(d, lambda d: d.execute_script(_ROWS))
    return [t for t in subs if isinstance(t, str)]


def _pngs_shown(d, wait=True):
    """{plot file name: decoded} for the images the open result shows, once each has loaded
    (one that has not decoded within a few seconds is reported); at once without ``wait``."""
    if wait:
        _until(d, lambda d: all(ok for _, ok in d.execute_script(_IMAGES)), 5, required=False)
    shown = {}
    for src, ok in d.execute_script(_IMAGES):
        m = re.search(r"filename=([^;]+\.png)", src)
        if m:
            shown[m.group(1)] = ok
    return shown


@pytest.mark.workflow
def test_report_shows_every_category_and_plot(demo_run, browser):
    run_workflow(demo_run, "--report", "report.html")
    url = (demo_run / "report.html").as_uri()
    d = browser
    d.get(url)
    _until(d, lambda d: "Workflow" in d.execute_script(_LINKS))
    menu = d.execute_script(_LINKS)
    assert [c for c in DEMO_CATEGORIES if c not in menu] == [], menu
    assert not [m for m in menu if re.match(r"\d+\. ", m) and m not in DEMO_CATEGORIES], menu
    assert len({m.split(".")[0] for m in menu if re.match(r"\d+\. ", m)}) == len(
        DEMO_CATEGORIES
    )  # no number twice
    menu = menu + ["Results"]

    seen: Counter = Counter()
    broken = []
    downloads = []
    for category in DEMO_CATEGORIES:
        subs = _open(d, url, category, None, menu)
        for sub in subs or [None]:
            _open(d, url, category, sub, menu)
            for k, (label, href, download) in enumerate(d.execute_script(_EYES)):
                if href != "#":  # a table's eye downloads it: a data URL with its bytes
                    downloads.append(label)
                    m = re.fullmatch(
                        r"data:[\w/.+-]+;charset=utf8;filename=([^;]+);base64,(.+)", href
                    )
                    assert m and m.group(1) == download, label
                    assert "/" not in label or label.endswith("/" + download), label
                    continue
                _open(d, url, category, sub, menu)  # each plot from a fresh page
                d.execute_script(_ROWS)[k].find_element("css selector", "a[iconname=eye]").click()
                # the plot shows beside the list (one that does not within 2 s is missing from
                # `seen`, and the test fails below)
                _until(d, lambda d: _pngs_shown(d, wait=False), 2, required=False)
                for name, ok in _pngs_shown(d).items():
                    seen[name] += 1
                    if not ok:
                        broken.append((category, sub, label, name))
    assert any(x.endswith("cleaning_report.tsv") for x in downloads), downloads
    plots = Counter(p.name for p in (demo_run / "results" / "demo").rglob("*.png"))
    assert not broken, f"images that did not decode in the browser: {broken}"
    assert seen == plots, f"plots in results/ vs opened in the report: {plots} / {seen}"
