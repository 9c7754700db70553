"""Hostile uploads on Your digit, through a real browser (rows 45-48): one line on the page, bounded memory.

`streamlit run dashboard/app.py` serves the shipped checkpoints; chromium opens /your-digit and
uploads each file of tests/hostile_uploads.py through the page's file input. The server's
resident memory (its process tree, sampled every 10 ms) may grow by at most 100 MB while one
is read. Without chromium the tests skip on a laptop and fail under CI=true.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser_support import CHROMIUM, RunTracker, launch_chromium, running_server
from tests.conftest import missing_prerequisite
from tests.hostile_uploads import GROWTH_BOUND_MB, HOSTILE, MB, Hostile, TreeRss, upload

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_MS = 120_000  # the first visit imports torch and loads a model on 2 busy cores


@pytest.fixture(scope="module")
def server(shipped_root, tmp_path_factory):
    if not CHROMIUM.exists():
        missing_prerequisite(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(shipped_root)}
    with running_server(REPO / "dashboard" / "app.py", tmp_path_factory.mktemp("streamlit"), env) as server:
        yield server


@pytest.fixture(scope="module")
def your_digit(server):
    """(the /your-digit tab, its run tracker, the server's RSS meter), the page drawn once before any upload."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        tracker = RunTracker(page)
        page.goto(f"{server.url}/your-digit")
        tracker.wait_quiet(quiet_ms=1500, timeout_ms=RUN_TIMEOUT_MS)
        rss = TreeRss(server.process.pid)
        yield page, tracker, rss
        rss.close()
        browser.close()


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_row45_to_48_a_hostile_upload_shows_one_line_and_bounded_memory(hostile: Hostile, your_digit, server,
                                                                        tmp_path):
    page, tracker, rss = your_digit
    path = tmp_path / hostile.name
    hostile.write(path)
    before, peak = upload(page, tracker, rss, path, hostile, RUN_TIMEOUT_MS)
    growth = (peak - before) / MB
    shown = page.get_by_text(hostile.expected).first.inner_text()
    print(f"{hostile.name}: {path.stat().st_size:,} bytes, server RSS {before / MB:.0f} MB before, "
          f"peak {peak / MB:.0f} MB (+{growth:.0f} MB); the page shows {shown!r}")
    assert server.process.poll() is None, server.logs()
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert len([line for line in shown.splitlines() if line.strip()]) == 1, shown
    assert growth <= GROWTH_BOUND_MB, f"{hostile.name} grew the server by {growth:.0f} MB"
