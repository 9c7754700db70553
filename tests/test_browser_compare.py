"""Compare with eight models of one family in chromium: the columns wrap into rows, nothing is clipped.

Eight tiny latent sizes (2 to 9) plus 1-epoch copies of three of them: Compare holds epochs at the
eight-column family and lays the eight maps out in rows of at most four, each map drawn inside its
column with its title whole. The full page is saved as a screenshot to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser_support import RunTracker, StreamlitServer, full_page_screenshot, running_server, screenshot_dir
from tests.conftest import write_tiny_checkpoint
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, assert_page_healthy, browser  # noqa: F401
from tests.test_dashboard_words import LATENT_SIZES, resave

pytestmark = pytest.mark.browser

# Each map of the page, read from its component's shadow root: where its column (the component's host) and
# its drawing (the canvas' content box, inside its 1 px frame) lie, and whether its title shows whole (its
# text is not wider than its box).
MAPS_JS = """() => [...document.querySelectorAll('*')]
  .map((e) => e.shadowRoot?.querySelector('.vae-canvas.map'))
  .filter((root) => root)
  .map((root) => {
    const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
    const title = root.querySelector('.map-title');
    const canvas = root.querySelector('canvas.map');
    const [left, top] = box(canvas);
    const drawing = [left + canvas.clientLeft, top + canvas.clientTop, left + canvas.clientLeft + canvas.clientWidth,
                     top + canvas.clientTop + canvas.clientHeight];
    return { model: root.dataset.model, drawn: Boolean(root.dataset.drawn), host: box(root.getRootNode().host),
             drawing,
             title: title.textContent, whole: title.scrollWidth <= title.clientWidth + 1 };
  })"""
# Each column title: its text, its box and whether the text fits in it.
TITLES_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] h3')]
  .filter((h) => /^z = /.test(h.innerText))
  .map((h) => { const r = h.getBoundingClientRect();
    return { text: h.innerText, right: r.right, whole: h.scrollWidth <= h.clientWidth + 1 }; })"""


@pytest.fixture(scope="module")
def eight_models(tmp_path_factory, tiny_data) -> Path:
    root = tmp_path_factory.mktemp("eight")
    base = {z: write_tiny_checkpoint(root, *tiny_data, latent_dim=z) for z in LATENT_SIZES}
    for z in (2, 3, 4):
        resave(root, base[z], epochs=1)
    return root


@pytest.fixture(scope="module")
def compare_server(eight_models, tmp_path_factory) -> StreamlitServer:
    data = tmp_path_factory.mktemp("no-data")  # no test images: the maps come from the cached means
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(eight_models), "VAE_DATA_DIR": str(data)}
    with running_server(REPO / "dashboard" / "app.py", tmp_path_factory.mktemp("streamlit"), env) as server:
        yield server


def drawn_maps(page: Page) -> list[dict]:
    page.wait_for_function(f"() => {{ const maps = ({MAPS_JS})(); return maps.length >= {len(LATENT_SIZES)} "
                           "&& maps.every((m) => m.drawn); }", timeout=RUN_TIMEOUT_MS)
    return page.evaluate(MAPS_JS)


def test_eight_models_wrap_into_rows_and_nothing_is_clipped(browser, compare_server):  # noqa: F811
    tab = browser.new_context(viewport=VIEWPORT).new_page()
    app = RunTracker(tab)
    tab.goto(f"{compare_server.url}/compare")
    app.wait_after(0, RUN_TIMEOUT_MS)
    assert_page_healthy(tab, "Compare models")
    titles = tab.evaluate(TITLES_JS)
    assert [t["text"] for t in titles] == [f"z = {z}" for z in LATENT_SIZES]  # 2 epochs: one model per column
    maps = drawn_maps(tab)
    full_page_screenshot(tab, screenshot_dir(REPO) / "compare-eight-models.png")  # to look at, pass or fail
    main = tab.get_by_test_id("stMain").bounding_box()
    right_edge = main["x"] + main["width"]
    rows: dict[int, int] = {}
    for shown in maps:
        left, top, right, _ = shown["drawing"]
        host_left, _, host_right, _ = shown["host"]
        assert host_left - 1 <= left and right <= host_right + 1, f"{shown['model']}'s map is wider than its column"
        assert right <= right_edge, f"{shown['model']}'s map runs off the page"
        assert shown["whole"], f"{shown['model']}'s map title is cut: {shown['title']!r}"
        rows[round(top)] = rows.get(round(top), 0) + 1
    assert len(rows) >= 2 and max(rows.values()) <= 4, f"maps per row: {sorted(rows.items())}"
    assert all(t["whole"] and t["right"] <= right_edge for t in titles), titles
    tab.context.close()
