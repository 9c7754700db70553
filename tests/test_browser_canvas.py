"""Our canvases and shareable links in a real browser: `streamlit run` on the shipped checkpoints, Debian's chromium.

A stroke drawn with the mouse on the Your digit pad comes back as a reconstruction and two
classifier readings, and "Explore from here" opens the explorer at it; hovering a point of
the Latent map shows that test digit's thumbnail, and a dragged box or lasso selects the points
inside it; an address copied from the explorer, opened
in a fresh tab, shows the same page, model, start point and slider values.
Screenshots go to VAE_SCREENSHOT_DIR (default artifacts/screenshots/).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import RunTracker, full_page_screenshot, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, assert_page_healthy, browser, dashboard  # noqa: F401

pytestmark = pytest.mark.browser

# The map's thumbnail: (row it shows or '', whether its digit canvas is drawn from the sprite), read from the
# component's shadow root.
THUMB_JS = """() => {
  const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot?.querySelector('.vae-canvas.map'));
  const thumb = host?.shadowRoot.querySelector('.vae-canvas.map .thumb');
  if (!thumb || thumb.hidden) return ['', false];
  return [thumb.dataset.row ?? '', !thumb.querySelector('canvas').hidden];
}"""
# The row the map's thumbnail must show with the cursor at page pixels (x, y): the nearest visible point's,
# or '' when none is in reach. Asked of the map itself, so a test waits for that state, not for a time.
EXPECTED_THUMB_JS = """([x, y]) => {
  const map = [...globalThis.__vaeCanvas.maps].find((m) => m.px);
  const box = map.canvas.getBoundingClientRect();
  const i = map.nearest(x - box.left, y - box.top);
  return i < 0 ? '' : String(map.rows[i]);
}"""


def open_tab(browser, url: str) -> RunTracker:  # noqa: F811
    """A fresh tab (a fresh Streamlit session) at ``url``, its first run drawn."""
    tab = browser.new_context(viewport=VIEWPORT).new_page()
    tracker = RunTracker(tab)
    tab.goto(url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    return tracker


def close(tracker: RunTracker) -> None:
    tracker.page.context.close()


def heading(page: Page) -> str:
    return page.get_by_test_id("stMain").locator("h1").first.inner_text()


def draw_a_seven(page: Page) -> None:
    """A 7 on the pad, drawn with the mouse: a bar, then a slanted stroke down."""
    box = page.locator(".vae-canvas.draw canvas.pad").bounding_box()
    x, y, side = box["x"], box["y"], box["width"]
    page.mouse.move(x + 0.25 * side, y + 0.2 * side)
    page.mouse.down()
    for k in range(1, 16):
        page.mouse.move(x + (0.25 + 0.5 * k / 15) * side, y + 0.2 * side)
    for k in range(1, 26):
        page.mouse.move(x + (0.75 - 0.3 * k / 25) * side, y + (0.2 + 0.65 * k / 25) * side)
    page.mouse.up()


def test_a_digit_drawn_with_the_mouse_is_reconstructed_read_and_opens_the_explorer(browser, dashboard):  # noqa: F811
    app = open_tab(browser, f"{dashboard.url}/your-digit")
    page = app.page
    try:
        assert heading(page).startswith("Your digit")
        page.locator(".vae-canvas.draw canvas.pad").wait_for(timeout=RUN_TIMEOUT_MS)
        runs = app.finished
        draw_a_seven(page)
        app.wait_after(runs, RUN_TIMEOUT_MS)  # the stroke's end reports 784 grey levels; the page encodes them
        main = page.get_by_test_id("stMain")
        expect(main.get_by_text("Decoded from its mean")).to_be_visible(timeout=RUN_TIMEOUT_MS)
        expect(main.get_by_text("As MNIST would store it")).to_be_visible()
        readings = main.get_by_text(re.compile(r"^Looks like an? \d"))
        expect(readings).to_have_count(2)
        assert "7" in readings.first.inner_text(), readings.all_inner_texts()  # the classifier reads the drawing
        assert_page_healthy(page, "Your digit")
        full_page_screenshot(page, screenshot_dir(REPO) / "your-digit.png")

        runs = app.finished
        page.get_by_role("link", name="Explore from here").last.click()
        page.wait_for_url(re.compile(r"/explorer\?"), timeout=RUN_TIMEOUT_MS)
        app.wait_after(runs, RUN_TIMEOUT_MS)
        expect(main.locator("h1").first).to_have_text(re.compile(r"^Latent explorer"), timeout=RUN_TIMEOUT_MS)
        query = parse_qs(urlparse(page.url).query)
        assert query["start"] == ["Your digit"] and len(query["at"][0].split(",")) == 2  # the default model: z = 2
        expect(main.get_by_role("radio", name="Your digit")).to_be_checked(timeout=RUN_TIMEOUT_MS)
        full_page_screenshot(page, screenshot_dir(REPO) / "your-digit-explored.png")
    finally:
        close(app)


def test_hovering_the_latent_map_shows_the_digit_under_the_cursor(browser, dashboard):  # noqa: F811
    app = open_tab(browser, f"{dashboard.url}/latent-map")
    page = app.page
    try:
        page.locator(".vae-canvas.map canvas.map").wait_for(timeout=RUN_TIMEOUT_MS)
        with_data = not page.get_by_test_id("stMain").get_by_text(re.compile("^Thumbnails .* are hidden")).count()
        if with_data:  # the sprite arrives once, then the page says it holds it
            page.wait_for_function("() => (globalThis.__vaeCanvas?.sprites.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        page.wait_for_function("() => globalThis.__vaeCanvas?.screenPoint(0) !== null", timeout=RUN_TIMEOUT_MS)
        for row in (0, 1234, 9999):
            x, y = page.evaluate("(row) => globalThis.__vaeCanvas.screenPoint(row)", row)
            page.mouse.move(x, y)
            page.wait_for_function(f"() => ({THUMB_JS})()[0] !== ''", timeout=5000)
            shown, drawn = page.evaluate(THUMB_JS)
            # the nearest point to the cursor: this row, or one drawn on top of it
            near = page.evaluate("(row) => globalThis.__vaeCanvas.screenPoint(row)", int(shown))
            assert abs(near[0] - x) <= 10 and abs(near[1] - y) <= 10, (row, shown)
            assert drawn == with_data
        page.locator(".vae-canvas.map").screenshot(path=screenshot_dir(REPO) / "latent-map-hover.png")
        digit = page.locator(".vae-canvas.map .thumb-text").inner_text().split("·")[1].strip()
        page.locator(".vae-canvas.map .legend .chip").nth(int(digit)).click()  # hide that digit's class
        page.mouse.move(5, 5)
        page.wait_for_function(f"() => ({THUMB_JS})()[0] === ''", timeout=5000)
        page.mouse.move(x, y)  # back over the hidden point: a hidden digit shows no thumbnail
        expected = page.evaluate(EXPECTED_THUMB_JS, [x, y])
        assert expected != shown  # the map itself skips the hidden class
        page.wait_for_function(f"() => ({THUMB_JS})()[0] === {expected!r}", timeout=5000)
    finally:
        close(app)


# Every test row's place on screen [x, y] (null for a row the map does not draw), and the rows the map holds selected.
SCREEN_POINTS_JS = "(count) => Array.from({length: count}, (_, row) => globalThis.__vaeCanvas.screenPoint(row))"
MAP_SELECTION_JS = "() => [...[...globalThis.__vaeCanvas.maps][0].selected]"


def inside_polygon(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """points [N, 2], a closed polygon's corners [K, 2] -> [N] bool, by the even-odd rule."""
    x, y, inside = points[:, 0], points[:, 1], np.zeros(len(points), dtype=bool)
    for (xa, ya), (xb, yb) in zip(corners, np.roll(corners, 1, axis=0), strict=True):
        crosses = (ya > y) != (yb > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside ^= crosses & (x < (xb - xa) * (y - ya) / (yb - ya) + xa)
    return inside


def distance_to_edges(points: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """points [N, 2] -> [N] distance to the nearest edge of the closed polygon ``corners`` [K, 2]."""
    nearest = np.full(len(points), np.inf)
    for a, b in zip(corners, np.roll(corners, 1, axis=0), strict=True):
        t = np.clip(((points - a) @ (b - a)) / max(float((b - a) @ (b - a)), 1e-9), 0, 1)
        nearest = np.minimum(nearest, np.linalg.norm(points - (a + t[:, None] * (b - a)), axis=1))
    return nearest


def select_and_check(app: RunTracker, corners: np.ndarray, drag: Callable[[], None], points: np.ndarray) -> int:
    """Drag, then check that the map selected the drawn points inside ``corners`` and the page heard it."""
    runs = app.finished
    drag()
    app.wait_after(runs, RUN_TIMEOUT_MS)
    selected = np.zeros(len(points), dtype=bool)
    selected[app.page.evaluate(MAP_SELECTION_JS)] = True
    drawn = ~np.isnan(points[:, 0])
    inside = drawn & inside_polygon(np.nan_to_num(points), corners)
    clear = drawn & (distance_to_edges(np.nan_to_num(points), corners) > 2)  # the mouse path is not exact
    assert inside[clear].any() and (~inside[clear]).any(), "the shape should hold some points and leave some out"
    outside, missed = (selected & ~inside & clear).sum(), (~selected & inside & clear).sum()
    assert outside == missed == 0, (f"{selected.sum()} selected, {inside.sum()} inside: {outside} selected outside, "
                                    f"{missed} missed inside")
    expect(app.page.get_by_test_id("stMain").get_by_text(re.compile(rf"^{selected.sum()} selected: #"))).to_be_visible(
        timeout=RUN_TIMEOUT_MS)
    return int(selected.sum())


def test_a_dragged_box_or_lasso_selects_the_points_inside_it(browser, dashboard):  # noqa: F811
    app = open_tab(browser, f"{dashboard.url}/latent-map")
    page = app.page
    try:
        plot = page.locator(".vae-canvas.map canvas.map")
        plot.wait_for(timeout=RUN_TIMEOUT_MS)
        page.wait_for_function("() => globalThis.__vaeCanvas?.screenPoint(0) !== null", timeout=RUN_TIMEOUT_MS)
        points = np.array([p or [np.nan, np.nan] for p in page.evaluate(SCREEN_POINTS_JS, 10_000)], dtype=float)
        box = plot.bounding_box()
        at = lambda u, v: np.array([box["x"] + u * box["width"], box["y"] + v * box["height"]])  # noqa: E731

        corner_a, corner_b = at(0.35, 0.35), at(0.6, 0.55)
        rectangle = np.array([corner_a, [corner_b[0], corner_a[1]], corner_b, [corner_a[0], corner_b[1]]])
        page.locator(".vae-canvas.map .modes .mode", has_text="Box").click()  # a drag pans in the default Pan mode

        def drag_box():
            page.mouse.move(*corner_a)
            page.mouse.down()
            page.mouse.move(*corner_b, steps=8)
            page.mouse.up()

        in_box = select_and_check(app, rectangle, drag_box, points)

        page.locator(".vae-canvas.map .modes .mode", has_text="Lasso").click()
        expect(page.locator(".vae-canvas.map .modes .mode", has_text="Lasso")).to_have_attribute("aria-pressed", "true")
        triangle = np.array([at(0.3, 0.7), at(0.5, 0.25), at(0.75, 0.75)])

        def drag_lasso():
            page.mouse.move(*triangle[0])
            page.mouse.down()
            for corner in [*triangle[1:], triangle[0]]:
                page.mouse.move(*corner, steps=25)
            page.mouse.up()

        in_lasso = select_and_check(app, triangle, drag_lasso, points)
        assert in_lasso != in_box
        page.locator(".vae-canvas.map").screenshot(path=screenshot_dir(REPO) / "latent-map-lasso.png")
    finally:
        close(app)


def test_a_copied_address_opens_the_same_view_in_a_fresh_tab(browser, dashboard):  # noqa: F811
    first = open_tab(browser, f"{dashboard.url}/explorer?model=MNIST+%C2%B7+MLP%2C+z+%3D+10"
                              "&start=Random+prior+draw&seed=3&shown=4")
    page = first.page
    try:
        assert heading(page).endswith("MLP, z = 10")
        page.wait_for_function("() => (globalThis.__vaeLiveDecoder?.models.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        slider = page.locator(".vae-live input[type=range]").nth(1)
        box = slider.bounding_box()
        runs = first.finished
        page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)  # a release: reported
        first.wait_after(runs, RUN_TIMEOUT_MS)
        values = page.locator(".vae-live .slider-value").all_inner_texts()
        dim = slider.get_attribute("data-dim")
        page.wait_for_url(re.compile(rf"[?&]z=[^&]*{dim}%3A{re.escape(values[1])}"), timeout=RUN_TIMEOUT_MS)
        address = page.url
    finally:
        close(first)
    assert urlparse(address).path == "/explorer"

    second = open_tab(browser, address)
    page = second.page
    try:
        assert heading(page).endswith("MLP, z = 10")
        expect(page.locator(".vae-live .slider-value")).to_have_text(values, timeout=RUN_TIMEOUT_MS)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("radio", name="Random prior draw")).to_be_checked()
        assert main.get_by_role("spinbutton", name="Prior draw seed").input_value() == "3"
        assert parse_qs(urlparse(page.url).query) == parse_qs(urlparse(address).query)
        full_page_screenshot(page, screenshot_dir(REPO) / "shared-link.png")
    finally:
        close(second)
    # the link set the widgets' values on purpose: the server's terminal shows no warning with a stack trace
    log = dashboard.stdout_path.read_text(errors="replace") + dashboard.stderr_path.read_text(errors="replace")
    assert "was created with a default value" not in log
