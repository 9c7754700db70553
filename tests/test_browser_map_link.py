"""The Latent map's legend and selection in a copied address, in chromium.

Hide two classes and draw a lasso on the map, copy the address, open it in a fresh tab (a new
session): the same classes are hidden and the same rows are selected, on the map and in the
caption beside it. The address carries them as ``hide=3,8`` and ``select=lasso:x,y,...`` (data
coordinates), written by ``dashboard/latent_map/state.py``.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import RunTracker, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, browser, dashboard  # noqa: F401

pytestmark = pytest.mark.browser

Z10 = "MNIST+%C2%B7+MLP%2C+z+%3D+10"  # the model picker's label, as the address spells it
HIDDEN = (3, 8)
MAP_SELECTION_JS = "() => [...[...globalThis.__vaeCanvas.maps][0].selected].sort((a, b) => a - b)"
CAPTION = re.compile(r"^\d+ selected: #")


def open_tab(browser, url: str) -> RunTracker:  # noqa: F811
    """A fresh tab (a fresh Streamlit session) at ``url``, its first run drawn and its map laid out."""
    tab = browser.new_context(viewport=VIEWPORT).new_page()
    tracker = RunTracker(tab)
    tab.goto(url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    tab.locator(".vae-canvas.map canvas.map").wait_for(timeout=RUN_TIMEOUT_MS)
    tab.wait_for_function("() => globalThis.__vaeCanvas?.screenPoint(0) !== null", timeout=RUN_TIMEOUT_MS)
    return tracker


def hidden_chips(page: Page) -> list[str]:
    """The legend's hidden classes, by name (a hidden chip is not pressed)."""
    chips = page.locator(".vae-canvas.map .legend .chip")
    return [chips.nth(k).inner_text() for k in range(chips.count()) if chips.nth(k).get_attribute("aria-pressed")
            == "false"]


def shown(tracker: RunTracker) -> dict:
    """What the map and the page show once quiet: hidden classes, the map's selected rows, the caption."""
    page = tracker.page
    tracker.wait_quiet(1000, RUN_TIMEOUT_MS)
    caption = page.get_by_test_id("stMain").get_by_text(CAPTION)
    expect(caption).to_be_visible(timeout=RUN_TIMEOUT_MS)
    return {"hidden": hidden_chips(page), "rows": page.evaluate(MAP_SELECTION_JS), "caption": caption.inner_text()}


def test_a_copied_address_brings_back_the_maps_legend_and_lasso(browser, dashboard):  # noqa: F811
    first = open_tab(browser, f"{dashboard.url}/latent-map?model={Z10}")
    page = first.page
    try:
        for k in HIDDEN:  # each click on a chip is reported: the page hears the legend
            runs = first.finished
            page.locator(".vae-canvas.map .legend .chip").nth(k).click()
            first.wait_after(runs, RUN_TIMEOUT_MS)
        page.locator(".vae-canvas.map .modes .mode", has_text="Lasso").click()
        box = page.locator(".vae-canvas.map canvas.map").bounding_box()
        at = lambda u, v: (box["x"] + u * box["width"], box["y"] + v * box["height"])  # noqa: E731
        triangle = [at(0.3, 0.7), at(0.5, 0.25), at(0.75, 0.75)]
        runs = first.finished
        page.mouse.move(*triangle[0])
        page.mouse.down()
        for corner in [*triangle[1:], triangle[0]]:
            page.mouse.move(*corner, steps=25)
        page.mouse.up()
        first.wait_after(runs, RUN_TIMEOUT_MS)
        before = shown(first)
        page.wait_for_url(re.compile(r"[?&]select=lasso"), timeout=RUN_TIMEOUT_MS)
        address = page.url
        page.locator(".vae-canvas.map").screenshot(path=screenshot_dir(REPO) / "latent-map-link-before.png")
    finally:
        first.page.context.close()
    query = parse_qs(urlparse(address).query)
    assert query["hide"] == [",".join(map(str, HIDDEN))] and len(address) < 2000, address
    corners = np.array(query["select"][0].removeprefix("lasso:").split(","), dtype=float).reshape(-1, 2)
    assert 3 <= len(corners) <= 48  # the drawn path, simplified, in data coordinates
    assert before["hidden"] == [str(k) for k in HIDDEN] and 20 < len(before["rows"]) < 9000, before["caption"]
    assert before["caption"].startswith(f"{len(before['rows'])} selected: #")

    second = open_tab(browser, address)
    try:
        after = shown(second)
        second.page.locator(".vae-canvas.map").screenshot(path=screenshot_dir(REPO) / "latent-map-link-after.png")
        assert parse_qs(urlparse(second.page.url).query) == query  # the fresh tab keeps the address as it came
    finally:
        second.page.context.close()
    assert after == before
