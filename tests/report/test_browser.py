"""Open report.html in a real headless Chromium: figures render, no console errors, a screenshot.

Needs Debian's ``chromium`` (``apt-get install -y chromium``); skipped, saying so, without it.
The screenshot goes to $EDITSEQ_SCREENSHOT_DIR when set (to keep it), else beside the report.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.report.browser import Browser, find_chromium

# the inputs answer a few problems of their benchmark on purpose: the note it gives is tested on its own
pytestmark = pytest.mark.filterwarnings("ignore:.* problems \\(no samples of .*its pass@k is the mean over those")

IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i =>
  ({id: i.id, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width})))"""


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium not installed (Debian: apt-get install -y chromium); browser check skipped")
    b = Browser(binary)
    yield b
    b.close()


def test_report_renders_in_chromium(browser: Browser, built_report: Path) -> None:
    browser.open((built_report / "report.html").as_uri())
    images = json.loads(browser.evaluate(IMAGES_JS))
    assert [i["id"] for i in images] == ["fig-passk", "fig-passk_tokens", "fig-passk_1", "fig-per_problem", "fig-mtpb",
                                         "fig-diversity", "fig-lintseq_0"]
    for image in images:
        assert image["complete"] and image["w"] > 100 and image["h"] > 100 and image["shown"] > 100, image
    assert browser.errors() == []
    # the step viewer works: "next" moves to the second edit of the first sequence
    assert browser.evaluate("document.querySelector('.seq .pos').textContent").startswith("edit 1 of ")
    browser.evaluate("document.querySelector('.seq .next').click()")
    assert browser.evaluate("document.querySelector('.seq .pos').textContent").startswith("edit 2 of ")
    shot = built_report / "screenshot.png"
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    keep = os.environ.get("EDITSEQ_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_screenshot.png")
    assert browser.errors() == []


def test_problem_table_sorts_and_a_link_opens_it_at_its_row(browser: Browser, built_report: Path) -> None:
    """Was: the per-problem table had no row to link to and kept one order. A link to a row opens
    the folded table; a column's header sorts by it, problems a run did not attempt last."""
    browser.open((built_report / "report.html").as_uri() + "?linked#problem-HumanEval-2")
    assert browser.evaluate("document.getElementById('problem-HumanEval-2').closest('details').open") is True
    mixed = "Array.from(document.querySelectorAll('table.sortable tr[id]')).map(r => r.cells[2].dataset.sort)"
    before = browser.evaluate(mixed)
    rated = sorted(float(v) for v in before if v)
    assert 0 < len(rated) < len(before)  # MTPB's problems have no rate of this run
    for order in (rated, rated[::-1]):  # a click sorts up, the next down
        browser.evaluate("document.querySelectorAll('table.sortable th')[2].click()")
        after = browser.evaluate(mixed)
        assert [float(v) for v in after[:len(rated)]] == order and set(after[len(rated):]) == {""}
    assert browser.evaluate("document.querySelectorAll('table.sortable th')[2].getAttribute('aria-sort')") == "descending"
    assert browser.errors() == []
