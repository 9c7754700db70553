"""Colour by a value and density contours on the Latent map, in chromium, on the shipped z = 2 model.

Colour by reconstruction error: the points take viridis' colours (each test digit's cached negative ELBO,
the highest drawn last and yellow), a colour bar in nats shows, and the address (``color=nelbo``) draws the
same map in a fresh tab. Density contours per class draw lines under the points (``contours=class``); Off
takes them away again. The PNG export carries both.

What the map shows is read from outside the page: screenshots of its canvas and of its colour bar, the
address, and the root's data attributes; the page's ``screenPoint`` says where a test digit is drawn.
"""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from dashboard.components.map_colour import VIRIDIS
from dashboard.shell.charts import DIGIT_COLORS
from tests.browser_support import RunTracker, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, browser, dashboard, settle  # noqa: F401
from tests.test_browser_canvas import THUMB_JS
from tests.test_browser_map_zoom import (
    MAP,
    SCREEN_POINT_JS,
    SCREEN_POINTS_JS,
    Z2,
    Z2_LABEL,
    canvas_pixels,
    open_tab,
    pixel_box,
    settled,
)

pytestmark = [pytest.mark.browser]

SHOTS = screenshot_dir(REPO)
NELBO = "Reconstruction error"  # its name in the picker; the colour bar says "(negative ELBO), nats"


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)])


def ramp(stops) -> np.ndarray:
    """256 colours along the stops, as map_colour.js interpolates them."""
    colours = np.array([rgb(c) for c in stops], dtype=float)
    at = np.linspace(0, len(colours) - 1, 256)
    k = np.minimum(len(colours) - 2, np.floor(at).astype(int))
    return colours[k] + (at - k)[:, None] * (colours[k + 1] - colours[k])


def isolated_points(page: Page) -> tuple[np.ndarray, np.ndarray]:
    """(rows, [x, y] pixels of the map box) of the test digits drawn with no other within 6 CSS pixels: the pixel
    under such a point's centre is its dot alone over white."""
    spots = page.evaluate(SCREEN_POINTS_JS, list(range(len(stored("nelbo")))))
    box = pixel_box(page.locator(f"{MAP} .map-box"))  # the origin of canvas_pixels' pictures
    rows = np.array([r for r, at in enumerate(spots) if at is not None])
    at = np.array([spots[r] for r in rows]) - [box["x"], box["y"]]
    gaps = np.linalg.norm(at[:, None] - at[None], axis=2) + np.eye(len(at)) * 1e9
    alone = gaps.min(axis=1) > 6
    return rows[alone], np.floor(at[alone]).astype(int)


def drawn_colours(pixels: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The colour of each dot at ``at``: the darkest pixel around its centre (one its square covers whole, whatever
    the fraction of a pixel the screenshot's edge falls on)."""
    windows = np.stack([pixels[at[:, 1] + dy, at[:, 0] + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1)], axis=1)
    return windows[np.arange(len(at)), windows.sum(axis=2).argmin(axis=1)].astype(float)


def expected_shades(rows: np.ndarray) -> np.ndarray:
    """The viridis colour of each row's negative ELBO over the 1st-99th percentile, drawn at alpha 0.65 on white."""
    values = stored("nelbo")
    low, high = np.percentile(values, [1, 99])
    shade = np.round(np.clip((values[rows] - low) / (high - low), 0, 1) * 255).astype(int)
    return over_white(ramp(VIRIDIS)[shade])


def over_white(colours: np.ndarray) -> np.ndarray:
    return 255 + (colours - 255) * 0.65


def stored(name: str) -> np.ndarray:
    with np.load(REPO / "checkpoints" / Z2 / "projections.npz") as arrays:
        return np.asarray(arrays[name], dtype=np.float64)


def pick_colour(tracker: RunTracker, option: str) -> None:
    page = tracker.page
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="Colour by").click()
    settle(tracker, lambda: page.get_by_role("option", name=option, exact=True).click())


def pick_contours(tracker: RunTracker, option: str) -> None:
    radio = tracker.page.get_by_test_id("stMain").get_by_test_id("stRadio").filter(has_text="Density contours")
    settle(tracker, lambda: radio.get_by_text(option, exact=True).click())


def bar_pixels(page: Page, name: str) -> np.ndarray:
    bar = page.locator(f"{MAP} .colour-bar")
    png = bar.locator("canvas").screenshot(path=SHOTS / name)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def orange_pixels(pixels: np.ndarray) -> int:
    """Pixels of class 1's orange (#ff7f0e, its density lines' colour) over white at any alpha from 0.4 up: red well
    above green well above blue. No viridis colour and no other class colour is so."""
    r, g, b = (pixels[..., c].astype(int) for c in range(3))
    return int(((r > 200) & (r - g > 40) & (g - b > 35)).sum())


def grey_pixels(pixels: np.ndarray) -> int:
    """Dark neutral pixels inside the plot (away from the axes' labels): the all-points lines' grey (#495057)."""
    inner = pixels[30:-60, 80:-30].astype(int)
    return int(((inner.max(axis=2) - inner.min(axis=2) < 24) & (inner.max(axis=2) < 170)).sum())


def changed(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a - b).sum(axis=2) > 40).mean())


def test_colour_by_reconstruction_error_and_its_link_then_contours(browser, dashboard):  # noqa: F811
    first = open_tab(browser, f"{dashboard.url}/latent-map?model={Z2_LABEL}")
    page = first.page
    try:
        root = page.locator(MAP)
        assert root.get_attribute("data-colour") == "class" and root.get_attribute("data-contours") == "0"
        expect(page.locator(f"{MAP} .colour-bar")).to_be_hidden()
        by_class = canvas_pixels(page, "map-colour-class.png")
        rows, at = isolated_points(page)
        assert len(rows) > 100
        labels = np.load(REPO / "checkpoints" / Z2 / "projections.npz")["labels"][rows]
        classes = over_white(np.array([rgb(DIGIT_COLORS[k]) for k in labels], dtype=float))
        assert np.median(np.abs(drawn_colours(by_class, at) - classes).max(axis=1)) < 8  # each in its class colour

        pick_colour(first, NELBO)
        expect(page.locator(MAP)).to_have_attribute("data-colour", "nelbo", timeout=RUN_TIMEOUT_MS)
        first.wait_quiet(300, RUN_TIMEOUT_MS)
        by_error = canvas_pixels(page, "map-colour-nelbo.png")
        error = np.abs(drawn_colours(by_error, at) - expected_shades(rows)).max(axis=1)
        assert np.median(error) < 8 and np.mean(error < 16) > 0.9, np.percentile(error, [50, 90])  # its value's shade
        assert np.median(np.abs(drawn_colours(by_error, at) - classes).max(axis=1)) > 30  # no longer the class's
        assert changed(by_class, by_error) > 0.02
        # The worst-reconstructed digit is drawn last, in the ramp's yellow end (over white at the dots' alpha).
        worst = int(np.argmax(stored("nelbo")))
        x, y = page.evaluate(SCREEN_POINT_JS, worst)
        box = pixel_box(page.locator(f"{MAP} .map-box"))
        centre = by_error[int(round(y - box["y"])), int(round(x - box["x"]))]
        table = over_white(ramp(VIRIDIS))
        assert np.linalg.norm(centre - table[-1]) < np.linalg.norm(centre - table[0]), centre
        # The colour bar: the ramp from dark purple to yellow, titled in nats.
        bar = page.locator(f"{MAP} .colour-bar")
        expect(bar).to_be_visible()
        page.screenshot(path=SHOTS / "map-colour-page.png", full_page=True)
        assert "nats" in bar.inner_text() and "negative ELBO" in bar.inner_text()
        low, high = np.percentile(stored("nelbo"), [1, 99])  # the map shows every test digit: the range is theirs
        assert f"{float(f'{low:.4g}'):g}" in bar.inner_text() and f"{float(f'{high:.4g}'):g}" in bar.inner_text()
        ramp_pixels = bar_pixels(page, "map-colour-bar.png")
        middle = ramp_pixels[ramp_pixels.shape[0] // 2]
        assert np.linalg.norm(middle[3] - rgb(VIRIDIS[0])) < 40 and np.linalg.norm(middle[-4] - rgb(VIRIDIS[-1])) < 40
        page.wait_for_url(re.compile(r"[?&]color=nelbo"), timeout=RUN_TIMEOUT_MS)
        address = page.url
    finally:
        first.page.context.close()
    assert parse_qs(urlparse(address).query)["color"] == ["nelbo"]

    second = open_tab(browser, address)
    page = second.page
    try:
        root = page.locator(MAP)
        assert root.get_attribute("data-colour") == "nelbo"
        expect(page.locator(f"{MAP} .colour-bar")).to_be_visible()
        expect(page.get_by_test_id("stMain").get_by_role("combobox", name="Colour by")).to_have_value(NELBO)
        again = canvas_pixels(page, "map-colour-nelbo-link.png")
        assert changed(again, by_error) < 0.002  # the same picture

        pick_contours(second, "Per class")
        expect(page.locator(MAP)).to_have_attribute("data-contours", re.compile(r"^[1-9][0-9]*$"),
                                                    timeout=RUN_TIMEOUT_MS)
        second.wait_quiet(300, RUN_TIMEOUT_MS)
        with_lines = canvas_pixels(page, "map-colour-nelbo-contours.png")
        assert changed(again, with_lines) > 0.01  # lines under and between the points
        assert orange_pixels(again) < 20 < 200 < orange_pixels(with_lines)
        page.wait_for_url(re.compile(r"[?&]contours=class"), timeout=RUN_TIMEOUT_MS)
        assert parse_qs(urlparse(page.url).query)["color"] == ["nelbo"]

        # The PNG export is what is on screen: the viridis points, the lines, and the colour bar in a band below.
        with page.expect_download(timeout=RUN_TIMEOUT_MS) as download:
            page.locator(f"{MAP} .tools").get_by_role("button", name="Download the map as PNG").click()
        image = Image.open(download.value.path()).convert("RGB")
        image.save(SHOTS / "map-colour-export.png")
        exported = np.asarray(image).astype(float)
        map_box = page.locator(f"{MAP} .map-box").bounding_box()
        assert abs(exported.shape[0] - 2 * (map_box["height"] + 34)) <= 1, (exported.shape, map_box)
        band = exported[-2 * 34:]
        assert (np.linalg.norm(band.reshape(-1, 3) - rgb(VIRIDIS[-1]), axis=1) < 30).sum() > 50  # the ramp's yellow
        assert orange_pixels(exported) > 4 * 200  # class 1's lines (orange: no viridis colour is near it)

        pick_contours(second, "Off")
        expect(page.locator(MAP)).to_have_attribute("data-contours", "0", timeout=RUN_TIMEOUT_MS)
        second.wait_quiet(300, RUN_TIMEOUT_MS)
        assert changed(canvas_pixels(page, "map-colour-nelbo-off.png"), again) < 0.002
        assert "contours" not in parse_qs(urlparse(page.url).query)

        # Hover still shows a digit, now with its value; the lines follow the wheel's zoom.
        worst = int(np.argmax(stored("nelbo")))
        page.mouse.move(*page.evaluate(SCREEN_POINT_JS, worst))
        page.wait_for_function(f"() => ({THUMB_JS})()[0] === '{worst}'", timeout=5000)
        highest = stored("nelbo")[worst]
        value = f"{float(f'{highest:.4g}'):g} nats"
        assert page.locator(f"{MAP} .thumb-text").inner_text().endswith(value)
        pick_contours(second, "All points")
        expect(page.locator(MAP)).to_have_attribute("data-contours", "3", timeout=RUN_TIMEOUT_MS)
        whole = canvas_pixels(page, "map-colour-nelbo-all.png")
        box = page.locator(f"{MAP} .map-box").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(6):
            page.mouse.wheel(0, -120)
            page.wait_for_timeout(16)
        settled(second, "whole")
        second.wait_quiet(300, RUN_TIMEOUT_MS)  # the zoom's report has had its rerun
        zoomed = canvas_pixels(page, "map-colour-nelbo-all-zoomed.png")
        assert grey_pixels(whole) > 300 and grey_pixels(zoomed) > 300  # the lines, at both zooms
        assert changed(whole, zoomed) > 0.05
    finally:
        second.page.context.close()
