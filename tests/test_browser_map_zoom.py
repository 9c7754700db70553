"""Zoom and pan on the Latent map in chromium, on the shipped z = 2 model.

The wheel zooms into the dense centre about the cursor and a point there shows its thumbnail;
a drag pans; a box dragged while zoomed selects the rows inside it in data coordinates; the
address then carries the camera (``view=cx,cy,zoom``) and a fresh tab opened at it draws the same
view, pixel for pixel; + zooms, double-click shows the whole map again and keeps the selection.

What the map shows is read from outside the page: its canvas's pixels (screenshots), its root's
``data-zoom`` and ``data-center``, the address and the caption beside the map. The page's
``screenPoint`` says where a test digit is drawn, as in test_browser_canvas.py.
"""

from __future__ import annotations

import io
import math
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser_support import RunTracker, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, browser, dashboard  # noqa: F401
from tests.test_browser_canvas import THUMB_JS

pytestmark = [pytest.mark.browser]

Z2 = "mnist-z2-h400-e12-b128-lr0.001-s0"
Z2_LABEL = "MNIST+%C2%B7+MLP%2C+z+%3D+2"  # the model picker's label, as the address spells it
MAP = ".vae-canvas.map"
SHOTS = screenshot_dir(REPO)
SCREEN_POINT_JS = "(row) => globalThis.__vaeCanvas.screenPoint(row)"
SCREEN_POINTS_JS = "(rows) => rows.map((row) => globalThis.__vaeCanvas.screenPoint(row))"
MAP_SELECTION_JS = "() => [...[...globalThis.__vaeCanvas.maps][0].selected].sort((a, b) => a - b)"
# Page pixels [x, y] of the canvas where no visible point is within reach (a click there selects nothing).
EMPTY_SPOT_JS = """() => {
  const map = [...globalThis.__vaeCanvas.maps][0], box = map.canvas.getBoundingClientRect(), a = map.view.area;
  for (let v = 0.1; v < 0.9; v += 0.05) for (let u = 0.1; u < 0.7; u += 0.05) {
    const [x, y] = [a.left + u * a.width, a.top + v * a.height];
    if (map.nearest(x, y) < 0) return [box.left + x, box.top + y];
  }
  return null;
}"""
CAPTION = re.compile(r"^\d+ selected: #")


def means() -> tuple[np.ndarray, np.ndarray]:
    """The z = 2 model's test means as the page draws them (canvas.MapPoints.data: 4 decimals), and the classes."""
    arrays = np.load(REPO / "checkpoints" / Z2 / "projections.npz")
    return np.round(np.asarray(arrays["mu"], dtype=np.float64), 4), arrays["labels"]


def centre_row(mu: np.ndarray) -> int:
    """The test row whose mean lies nearest the medians of the means: the map's dense centre."""
    return int(np.argmin(np.linalg.norm(mu - np.median(mu, axis=0), axis=1)))


def open_tab(browser, url: str) -> RunTracker:  # noqa: F811
    """A fresh tab (a fresh session) at ``url``, its first run drawn, its map laid out (and its sprite held)."""
    tab = browser.new_context(viewport=VIEWPORT).new_page()
    tracker = RunTracker(tab)
    tab.goto(url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    tab.locator(f"{MAP}[data-zoom]").wait_for(timeout=RUN_TIMEOUT_MS)  # laid out and drawn
    if not tab.get_by_test_id("stMain").get_by_text(re.compile("^Thumbnails .* are hidden")).count():
        tab.wait_for_function("() => (globalThis.__vaeCanvas?.sprites.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
    return tracker


def view_text(page: Page) -> str:
    """The map's camera as its root says it (data-center, data-zoom): 'cx,cy,zoom', the address's form."""
    root = page.locator(MAP)
    return f"{root.get_attribute('data-center')},{root.get_attribute('data-zoom')}"


def camera(page: Page) -> tuple[float, ...]:
    return tuple(float(v) for v in view_text(page).split(","))


def settled(tracker: RunTracker, before: str) -> tuple[float, ...]:
    """Wait until the map's camera is no longer ``before`` (view_text) and the address carries it: the gesture has
    ended, the map reported it and the page wrote it (no ``view`` for the whole map)."""
    tracker.page.wait_for_function("""(before) => {
      const root = [...globalThis.__vaeCanvas.maps][0].root;
      const now = `${root.dataset.center},${root.dataset.zoom}`;
      const view = new URLSearchParams(location.search).get('view');
      return now !== before && view === (root.dataset.zoom === '1' ? null : now);
    }""", arg=before, timeout=RUN_TIMEOUT_MS)
    tracker.wait_quiet(300, RUN_TIMEOUT_MS)
    return camera(tracker.page)


def pixel_box(locator) -> dict:
    """The element's box on whole page pixels: its top-left corner floored, its CSS size rounded. A page laid out
    at a fraction of a pixel (text above the map) would otherwise give screenshots one row taller in one tab than
    in another, and shift every position read against them by that fraction."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    return {"x": math.floor(box["x"]), "y": math.floor(box["y"]), "width": round(box["width"]),
            "height": round(box["height"])}


def shot(page: Page, locator, name: str) -> tuple[np.ndarray, dict]:
    """[H, W, 3] pixels of ``pixel_box(locator)`` as on screen, saved to artifacts/screenshots/``name``; and that box:
    pixel (i, j) is page pixel (box y + i, box x + j)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Not while a rerun dims the page's elements (Streamlit marks them stale and lightens them)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=RUN_TIMEOUT_MS)
    box = pixel_box(locator)
    png = page.screenshot(path=SHOTS / name, clip=box, animations="disabled")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int), box


def canvas_pixels(page: Page, name: str) -> np.ndarray:
    """The map's canvas as it is on screen [H, W, 3] (``shot`` of its box), saved to artifacts/screenshots/``name``."""
    page.mouse.move(5, 5)  # no hover ring, no thumbnail
    page.wait_for_function(f"() => ({THUMB_JS})()[0] === ''", timeout=5000)
    return shot(page, page.locator(f"{MAP} .map-box"), name)[0]


def outlined(pixels: np.ndarray) -> int:
    """How many pixels of the plot's bottom-right corner have the overview's outline colour."""
    return int((np.abs(pixels[-200:, -260:] - [33, 37, 41]).sum(axis=2) < 70).sum())


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def rows_in_box(box: list[float]) -> list[int]:
    """The test rows whose drawn means lie inside ``box`` [x0, y0, x1, y1], computed here from the checkpoint."""
    x, y = means()[0].T
    x0, y0, x1, y1 = box
    return np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)).tolist()


def test_zoom_pan_select_and_share_the_view(browser, dashboard):  # noqa: F811
    mu, _ = means()
    first = open_tab(browser, f"{dashboard.url}/latent-map?model={Z2_LABEL}")
    page = first.page
    try:
        root = page.locator(MAP)
        assert root.get_attribute("data-model") == Z2 and root.get_attribute("data-zoom") == "1"
        whole = view_text(page)
        before = canvas_pixels(page, "map-zoom-whole.png")
        expect(page.get_by_role("button", name="Reset view")).to_be_hidden()

        # The wheel over the dense centre zooms about the cursor: what is under it stays under it (the digit
        # beside it, a fraction of a pixel away at first, moves away zoom times as far).
        centre = centre_row(mu)
        start = np.array(page.evaluate(SCREEN_POINT_JS, centre))
        cursor = np.round(start)  # a wheel event's clientX and clientY are whole pixels
        page.mouse.move(*cursor)
        for _ in range(16):
            page.mouse.wheel(0, -120)  # 2 ** (120 * 0.0025) = 1.23 per notch
            page.wait_for_timeout(16)
        zoomed = settled(first, whole)
        assert 20 < zoomed[2] < 40, zoomed
        after_zoom = np.array(page.evaluate(SCREEN_POINT_JS, centre))
        assert np.abs(after_zoom - (cursor + zoomed[2] * (start - cursor))).max() < 0.5, (start, after_zoom)
        x, y = after_zoom
        pixels = canvas_pixels(page, "map-zoom-centre.png")
        assert (np.abs(pixels - before).sum(axis=2) > 60).mean() > 0.05  # a different picture
        expect(page.get_by_role("button", name="Reset view")).to_be_visible()
        # The overview in the plot's bottom-right corner outlines the view (#212529): none at zoom 1.
        assert outlined(pixels) > 12 and outlined(before) == 0, (outlined(pixels), outlined(before))

        # Hovering a point of the zoomed centre shows that digit's thumbnail.
        page.mouse.move(x, y)
        page.wait_for_function(f"() => ({THUMB_JS})()[0] !== ''", timeout=5000)
        shown_row, drawn = page.evaluate(THUMB_JS)
        near = page.evaluate(SCREEN_POINT_JS, int(shown_row))
        assert near is not None and abs(near[0] - x) <= 10 and abs(near[1] - y) <= 10, (shown_row, near, x, y)
        assert drawn == (page.evaluate("() => globalThis.__vaeCanvas.sprites.size") > 0)
        page.locator(MAP).screenshot(path=SHOTS / "map-zoom-hover.png")

        # A drag pans: the digit moves with the pointer, the centre the other way.
        was = view_text(page)
        page.mouse.down()
        page.mouse.move(x - 120, y + 60, steps=12)
        page.mouse.up()
        panned = settled(first, was)
        moved = page.evaluate(SCREEN_POINT_JS, centre)
        assert abs(moved[0] - x + 120) < 1 and abs(moved[1] - y - 60) < 1, (x, y, moved)
        assert panned[2] == zoomed[2] and panned[0] > zoomed[0] and panned[1] > zoomed[1]
        assert page.evaluate(MAP_SELECTION_JS) == []  # a drag in the Pan mode selects nothing

        # A box dragged while zoomed selects the rows inside it, in data coordinates.
        page.locator(f"{MAP} .modes .mode", has_text="Box").click()
        canvas = page.locator(f"{MAP} canvas.map").bounding_box()
        a = (canvas["x"] + 0.35 * canvas["width"], canvas["y"] + 0.3 * canvas["height"])
        b = (canvas["x"] + 0.55 * canvas["width"], canvas["y"] + 0.55 * canvas["height"])
        page.mouse.move(*a)
        page.mouse.down()
        page.mouse.move(*b, steps=8)
        page.mouse.up()
        page.wait_for_url(re.compile(r"[?&]select=box"), timeout=RUN_TIMEOUT_MS)
        first.wait_quiet(300, RUN_TIMEOUT_MS)
        box = [float(v) for v in query(page)["select"][0].removeprefix("box:").split(",")]
        inside = rows_in_box(box)
        assert 10 < len(inside) < 2000, (box, len(inside))
        assert page.evaluate(MAP_SELECTION_JS) == inside
        caption = page.get_by_test_id("stMain").get_by_text(CAPTION)
        expect(caption).to_have_text(re.compile(rf"^{len(inside)} selected: #{inside[0]} "), timeout=RUN_TIMEOUT_MS)
        # ... and the box in data coordinates is the one dragged on screen: the rows inside are drawn inside it.
        drawn_at = np.array(page.evaluate(SCREEN_POINTS_JS, inside), dtype=float)
        assert (drawn_at >= np.minimum(a, b) - 1).all() and (drawn_at <= np.maximum(a, b) + 1).all()
        assert camera(page) == panned  # selecting moved nothing
        shared = canvas_pixels(page, "map-zoom-selected.png")
        address = page.url
    finally:
        page.context.close()
    assert {"view", "select"} <= set(parse_qs(urlparse(address).query)) and len(address) < 2000, address

    second = open_tab(browser, address)
    page = second.page
    try:
        second.wait_quiet(800, RUN_TIMEOUT_MS)
        assert camera(page) == panned  # the link's view, restored
        opened = canvas_pixels(page, "map-zoom-link.png")
        assert opened.shape == shared.shape
        assert (np.abs(opened - shared).sum(axis=2) > 30).mean() < 0.002  # the same picture
        assert page.evaluate(MAP_SELECTION_JS) == inside

        # + zooms about the plot's centre while the map has the focus; a double-click shows the whole map again.
        page.locator(f"{MAP} canvas.map").focus()
        was = view_text(page)
        page.keyboard.press("+")
        plus = settled(second, was)
        assert plus[2] == pytest.approx(panned[2] * 1.5, rel=1e-3)
        was = view_text(page)
        page.mouse.dblclick(*page.evaluate(EMPTY_SPOT_JS))
        settled(second, was)
        assert view_text(page) == whole
        expect(page.get_by_role("button", name="Reset view")).to_be_hidden()
        assert page.evaluate(MAP_SELECTION_JS) == inside  # the double-click's clicks kept the selection
        assert query(page)["select"] == parse_qs(urlparse(address).query)["select"]
        reset = canvas_pixels(page, "map-zoom-reset.png")
        assert (np.abs(reset - opened).sum(axis=2) > 60).mean() > 0.05
    finally:
        page.context.close()
