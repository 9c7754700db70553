"""Neighbours, search and exports on the Latent map in chromium, on the shipped z = 2 model.

Zoom into the dense centre and click a point: its 8 nearest test digits in the latent space (brute force
here, over the checkpoint's means) are listed beside the map and ringed on it. A search for an index
selects that digit and centres the map on it; a bad index is one line. The PNG button saves the map as
drawn, at twice its CSS pixels; the selection's CSV holds every selected row. "Open in the Latent
explorer" starts the explorer at the clicked test digit. With MNIST (VAE_DATA_DIR) the thumbnails are
the test images; without it, the decoded means: the test holds either way.

What the page shows is read from outside: the address, the captions and images beside the map, the
map root's ``data-neighbours``, ``data-center`` and ``data-zoom``, the canvas's pixels, the files
downloaded. The page's ``screenPoint`` says where a test digit is drawn, as in the other map tests.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser_support import RunTracker, full_page_screenshot
from tests.test_browser import RUN_TIMEOUT_MS, browser, dashboard  # noqa: F401
from tests.test_browser_map_zoom import (
    MAP,
    SCREEN_POINT_JS,
    SHOTS,
    THUMB_JS,
    Z2,
    Z2_LABEL,
    centre_row,
    means,
    open_tab,
    query,
    rows_in_box,
    settled,
    shot,
    view_text,
)

pytestmark = [pytest.mark.browser]

K = 8  # the page's default
MAP_SELECTION_JS = "() => [...[...globalThis.__vaeCanvas.maps][0].selected].sort((a, b) => a - b)"
# Where the camera's centre is drawn: the middle of the whole map's plot area (the frame the camera is laid out on).
SCREEN_POINTS_JS = "(rows) => rows.map((row) => globalThis.__vaeCanvas.screenPoint(row))"
PLOT_CENTRE_JS = """() => {
  const map = [...globalThis.__vaeCanvas.maps][0], box = map.canvas.getBoundingClientRect(), a = map.view.frame;
  return [box.left + a.left + a.width / 2, box.top + a.top + a.height / 2];
}"""
NEIGHBOURS = re.compile(rf"^{K} nearest to #(\d+) \(distance in the 2-D latent space\): ")


def file_means() -> np.ndarray:
    """The z = 2 model's test means as stored (float16) [N, 2]."""
    from tests.test_browser import REPO

    return np.load(REPO / "checkpoints" / Z2 / "projections.npz")["mu"]


def brute_force(row: int, k: int = K) -> list[int]:
    """The k rows nearest ``row`` by Euclidean distance between the stored means (float64; ties by row)."""
    mu = np.asarray(file_means(), dtype=np.float64)
    distance = np.linalg.norm(mu - mu[row], axis=1)
    return [int(i) for i in sorted(range(len(mu)), key=lambda i: (distance[i], i)) if i != row][:k]


def quiet(tracker: RunTracker) -> None:
    tracker.wait_quiet(500, RUN_TIMEOUT_MS)


def listed(page: Page) -> tuple[int, list[int]]:
    """The neighbour caption beside the map: (the clicked row, the rows it lists, nearest first)."""
    caption = page.get_by_test_id("stMain").get_by_text(NEIGHBOURS)
    expect(caption).to_be_visible(timeout=RUN_TIMEOUT_MS)
    text = caption.inner_text()
    return int(NEIGHBOURS.match(text).group(1)), [int(r) for r in re.findall(r"#(\d+) \(", text.split(": ", 1)[1])]


def canvas_shot(page: Page, name: str) -> tuple[np.ndarray, dict]:
    """The map's canvas as on screen [H, W, 3] (no hover, no thumbnail), saved as ``name``; and its box."""
    page.mouse.move(5, 5)
    page.wait_for_function(f"() => ({THUMB_JS})()[0] === ''", timeout=5000)
    return shot(page, page.locator(f"{MAP} canvas.map"), name)


def dark_in_ring(pixels: np.ndarray, box: dict, at: list[float], inner: float, outer: float) -> float:
    """The share of pixels between ``inner`` and ``outer`` CSS pixels from ``at`` (page pixels) that are near
    black: a ring of #111 drawn there."""
    yy, xx = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
    r = np.hypot(xx + 0.5 - (at[0] - box["x"]), yy + 0.5 - (at[1] - box["y"]))
    band = (r >= inner) & (r <= outer)
    return float((pixels[band].max(axis=1) < 90).mean())


def test_click_neighbours_search_export_and_open_in_the_explorer(browser, dashboard):  # noqa: F811
    mu, _ = means()
    tracker = open_tab(browser, f"{dashboard.url}/latent-map?model={Z2_LABEL}")
    page = tracker.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with_data = not page.get_by_test_id("stMain").get_by_text(re.compile("^Thumbnails .* are hidden")).count()
        # Zoom into the dense centre with the wheel, then click the point there.
        centre = centre_row(mu)
        page.mouse.move(*np.round(page.evaluate(SCREEN_POINT_JS, centre)))
        for _ in range(12):
            page.mouse.wheel(0, -120)
            page.wait_for_timeout(16)
        zoomed = settled(tracker, view_text(page))
        assert zoomed[2] > 8, zoomed
        runs = tracker.finished
        page.mouse.click(*page.evaluate(SCREEN_POINT_JS, centre))
        tracker.wait_after(runs, RUN_TIMEOUT_MS)
        page.wait_for_url(re.compile(r"[?&]select=row%3A\d+|[?&]select=row:\d+"), timeout=RUN_TIMEOUT_MS)
        clicked = int(query(page)["select"][0].removeprefix("row:"))
        assert np.linalg.norm(mu[clicked] - mu[centre]) < 0.05  # the point under the cursor (or one on top)

        # Its k nearest neighbours in the latent space: listed beside the map and ringed on it.
        expected = brute_force(clicked)
        quiet(tracker)
        assert listed(page) == (clicked, expected)
        root = page.locator(MAP)
        expect(root).to_have_attribute("data-neighbours", ",".join(map(str, expected)), timeout=RUN_TIMEOUT_MS)
        assert page.evaluate(MAP_SELECTION_JS) == [clicked]  # the clicked point stays the selection
        sheet = page.get_by_role("img", name=re.compile(rf"^The {K} nearest test digits to #{clicked},"))
        expect(sheet).to_be_visible()
        assert sheet.evaluate("(img) => img.complete && img.naturalWidth > 0")
        decoded = page.get_by_text("Decoded posterior means (the test images are not loaded)")
        assert decoded.count() == (0 if with_data else 1)
        pixels, box = canvas_shot(page, "map-neighbours.png")
        at = {row: page.evaluate(SCREEN_POINT_JS, row) for row in expected}
        visible = [row for row, point in at.items() if point is not None]
        assert len(visible) >= K // 2, at  # zoomed about the click: most neighbours are in sight
        ringed = [dark_in_ring(pixels, box, at[row], 5.5, 7.5) for row in visible]
        assert min(ringed) > 0.1 and np.mean(ringed) > 0.25, ringed  # a dashed dark ring round each neighbour
        marked = np.array([at[row] for row in visible] + [page.evaluate(SCREEN_POINT_JS, clicked)])
        others = [point for point in page.evaluate(SCREEN_POINTS_JS, list(range(0, len(mu), 7))) if point is not None
                  and np.linalg.norm(marked - point, axis=1).min() > 20 and point[0] < box["x"] + box["width"] - 300]
        assert len(others) > 10 and max(dark_in_ring(pixels, box, point, 5.5, 7.5) for point in others[:40]) < 0.05
        assert dark_in_ring(pixels, box, page.evaluate(SCREEN_POINT_JS, clicked), 3.2, 4.8) > 0.5  # the click's
        full_page_screenshot(page, SHOTS / "map-neighbours-page.png")

        # A search selects the digit and centres the map on it; a bad index is one line.
        search = page.get_by_role("textbox", name="Find a test digit")
        target = int(np.argmin(np.linalg.norm(mu - (np.median(mu, axis=0) + [0.6, -0.4]), axis=1)))
        assert target != clicked
        before = view_text(page)
        search.fill(str(target))
        search.press("Enter")
        page.wait_for_url(re.compile(rf"[?&]select=row(%3A|:){target}(&|$)"), timeout=RUN_TIMEOUT_MS)
        found = settled(tracker, before)
        quiet(tracker)
        assert page.evaluate(MAP_SELECTION_JS) == [target]
        assert found[2] >= 8 and np.abs(np.array(found[:2]) - mu[target]).max() < 2e-3, (found, mu[target])
        assert np.abs(np.array(page.evaluate(SCREEN_POINT_JS, target)) - page.evaluate(PLOT_CENTRE_JS)).max() < 1.5
        assert listed(page) == (target, brute_force(target))
        assert search.input_value() == ""
        search.fill("99999")
        search.press("Enter")
        expect(page.get_by_text("There is no test digit #99,999: the test set runs from 0 to 9,999.")).to_be_visible(
            timeout=RUN_TIMEOUT_MS)
        quiet(tracker)
        assert page.evaluate(MAP_SELECTION_JS) == [target] and not page.get_by_test_id("stException").count()
        page.get_by_test_id("stMain").screenshot(path=SHOTS / "map-search.png")

        # The PNG button: the map as drawn (zoom, rings), at twice its CSS pixels, saved by the browser.
        on_screen, box = canvas_shot(page, "map-export-screen.png")
        with page.expect_download(timeout=RUN_TIMEOUT_MS) as download:
            page.locator(f"{MAP} .tools").get_by_role("button", name="Download the map as PNG").click()
        assert download.value.suggested_filename == f"{Z2}-latent-coordinates-map.png"
        image = Image.open(download.value.path()).convert("RGB")
        image.save(SHOTS / "map-export.png")
        assert abs(image.width - 2 * box["width"]) <= 1 and abs(image.height - 2 * box["height"]) <= 1, (image.size,
                                                                                                        box)
        exported = np.asarray(image).astype(int)
        coloured = (exported.max(axis=2) - exported.min(axis=2) > 8).sum()  # dots, faded or not
        dark = (exported.max(axis=2) < 90).sum()  # tick labels, axis titles, rings
        assert len(np.unique(exported.reshape(-1, 3), axis=0)) > 50, "a blank picture"
        assert coloured > 2000 and dark > 2000, (coloured, dark)
        small = np.asarray(image.resize((on_screen.shape[1], on_screen.shape[0]), Image.Resampling.BOX)).astype(int)
        same = np.abs(small - on_screen).sum(axis=2) < 90
        same[-200:, -260:] = True  # the overview is on screen only
        assert same.mean() > 0.97, same.mean()  # what is on screen

        # A box selects rows and lists no neighbours; its CSV holds every selected row with its mean.
        page.locator(f"{MAP} .modes .mode", has_text="Box").click()
        a = (box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
        b = (box["x"] + 0.6 * box["width"], box["y"] + 0.6 * box["height"])
        page.mouse.move(*a)
        page.mouse.down()
        page.mouse.move(*b, steps=8)
        page.mouse.up()
        page.wait_for_url(re.compile(r"[?&]select=box"), timeout=RUN_TIMEOUT_MS)
        quiet(tracker)
        rows = rows_in_box([float(v) for v in query(page)["select"][0].removeprefix("box:").split(",")])
        assert 40 < len(rows) < 5000 and page.evaluate(MAP_SELECTION_JS) == rows
        expect(root).not_to_have_attribute("data-neighbours", re.compile(".*"))
        assert not page.get_by_test_id("stMain").get_by_text(NEIGHBOURS).count()
        with page.expect_download(timeout=RUN_TIMEOUT_MS) as download:
            page.get_by_role("button", name="Selection as CSV").click()
        assert download.value.suggested_filename == f"{Z2}-latent-coordinates-selection.csv"
        table = list(csv.reader(io.StringIO(download.value.path().read_text())))
        assert table[0] == ["split", "index", "class", "class_name", "x", "y", "mu_0", "mu_1"]
        assert sorted(int(line[1]) for line in table[1:]) == rows  # all of them, not only the 40 drawn
        stored = file_means()
        for line in table[1:]:
            row = int(line[1])
            assert np.float16(float(line[6])) == stored[row, 0] and np.float16(float(line[7])) == stored[row, 1]
            assert np.array(line[4:6], dtype=np.float32).tolist() == stored[row].astype(np.float32).tolist()  # x, y: mu

        # Click a point again, and open it in the Latent explorer: it starts at that test digit.
        page.locator(f"{MAP} .modes .mode", has_text="Pan").click()
        runs = tracker.finished
        page.mouse.click(*page.evaluate(SCREEN_POINT_JS, rows[0]))
        tracker.wait_after(runs, RUN_TIMEOUT_MS)
        page.wait_for_url(re.compile(r"[?&]select=row"), timeout=RUN_TIMEOUT_MS)
        quiet(tracker)
        chosen, _ = listed(page)
        assert query(page)["select"] == [f"row:{chosen}"]
        map_address, steps = page.url, page.evaluate("history.length")
        page.get_by_role("link", name="Open in the Latent explorer").click()
        page.wait_for_url(re.compile(r"/explorer\?"), timeout=RUN_TIMEOUT_MS)
        quiet(tracker)
        assert query(page)["start"] == ["Test digit"] and query(page)["digit"] == [str(chosen)]
        expect(page.get_by_role("radio", name="Test digit")).to_be_checked()
        expect(page.get_by_label(re.compile(r"^Test digit \(0 to 9999\)"))).to_have_value(str(chosen))
        expect(page.get_by_text(re.compile(rf"^Test image #{chosen} is an? "))).to_be_visible()
        page.get_by_test_id("stMain").screenshot(path=SHOTS / "map-open-in-explorer.png")
        assert page.evaluate("history.length") == steps + 1  # one step, as a link in the sidebar is

        # Back: the map as it was left, its digit still selected with its neighbours.
        page.go_back()
        page.wait_for_url(re.compile(r"/latent-map\?"), timeout=RUN_TIMEOUT_MS)
        quiet(tracker)
        assert page.url == map_address
        assert listed(page)[0] == chosen
        expect(page.locator(MAP)).to_have_attribute("data-selected", "1", timeout=RUN_TIMEOUT_MS)
    finally:
        page.context.close()
