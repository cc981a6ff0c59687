"""The HTML report as a person sees it: headless Chromium opens report.html, every category of the
run is in the menu, every plot of results/ opens from its row and is a real, decoded image.

Needs Debian's ``chromium`` and ``chromium-driver`` (.ci/run installs them) and selenium (pinned in
envs/workflow.yaml); skips without them locally, fails in CI (capability ``chromium``).
"""

from __future__ import annotations

import re
import shutil
import time
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


def _wait(d, by, what, timeout=10):
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout).until(ec.presence_of_element_located((by, what)))


def _rows(d):
    from selenium.webdriver.common.by import By

    return [
        tr
        for tr in d.find_elements(By.CSS_SELECTOR, "tr")
        if tr.find_elements(By.CSS_SELECTOR, "a[iconname=eye]")
    ]


def _open(d, url, category, sub):
    """The report at ``category`` (and its subcategory ``sub``), freshly loaded."""
    from selenium.webdriver.common.by import By

    d.get(url)
    d.find_element(By.LINK_TEXT, category).click()
    time.sleep(0.3)
    if sub:
        d.find_element(By.LINK_TEXT, sub).click()
        time.sleep(0.3)


@pytest.mark.workflow
def test_report_shows_every_category_and_plot(demo_run, browser):
    from selenium.webdriver.common.by import By

    run_workflow(demo_run, "--report", "report.html")
    url = (demo_run / "report.html").as_uri()
    d = browser
    d.get(url)
    _wait(d, By.LINK_TEXT, "Workflow")
    menu = [a.text for a in d.find_elements(By.TAG_NAME, "a")]
    assert [c for c in DEMO_CATEGORIES if c not in menu] == [], menu
    assert not [m for m in menu if re.match(r"\d+\. ", m) and m not in DEMO_CATEGORIES], menu
    assert len({m.split(".")[0] for m in menu if re.match(r"\d+\. ", m)}) == len(
        DEMO_CATEGORIES
    )  # no number twice

    seen: Counter = Counter()
    broken = []
    for category in DEMO_CATEGORIES:
        _open(d, url, category, None)
        subs = [
            a.text
            for a in d.find_elements(By.TAG_NAME, "a")
            if a.text and a.text not in menu + ["Results"]
        ]
        for sub in subs or [None]:
            _open(d, url, category, sub)
            for k in range(len(_rows(d))):
                _open(d, url, category, sub)
                row = _rows(d)[k]
                label = row.text
                row.find_element(By.CSS_SELECTOR, "a[iconname=eye]").click()
                time.sleep(0.6)
                for img in d.find_elements(By.TAG_NAME, "img"):
                    src = img.get_attribute("src") or ""
                    m = re.search(r"filename=([^;]+\.png)", src)
                    if not m:
                        continue
                    ok = d.execute_script(
                        "return arguments[0].complete && arguments[0].naturalWidth > 0", img
                    )
                    seen[m.group(1)] += 1
                    if not ok:
                        broken.append((category, sub, label, m.group(1)))
    plots = Counter(p.name for p in (demo_run / "results" / "demo").rglob("*.png"))
    assert not broken, f"images that did not decode in the browser: {broken}"
    assert seen == plots, f"plots in results/ vs opened in the report: {plots} / {seen}"
