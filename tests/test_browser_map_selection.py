"""A selection of thousands on the Latent map, and Your digit's nearest test digits, in chromium on the shipped
z = 2 model (the AppTest halves: test_map_selection.py and test_your_digit_neighbours.py).

A box over the dense centre of the map selects thousands of test digits: the column beside the map says
how many, draws them 40 at a time and turns to the next 40 (other digits), and shows the selection's class
histogram (its bars: the counts of the selected rows' classes, computed here from the checkpoint) and its
mean digit. On Your digit, a 7 drawn with the mouse lists its nearest test digits: their distances locate
one point in the 2-D latent space, and the rows listed are the nearest test means to it.

What the page shows is read from outside: the address, the captions, the images' alt text and pixels,
and the plotly chart's drawn data.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import full_page_screenshot
from tests.test_browser import RUN_TIMEOUT_MS, browser, dashboard  # noqa: F401
from tests.test_browser_canvas import draw_a_seven
from tests.test_browser_map_zoom import (
    MAP,
    SCREEN_POINT_JS,
    SHOTS,
    Z2_LABEL,
    centre_row,
    means,
    open_tab,
    query,
    rows_in_box,
)

pytestmark = [pytest.mark.browser]

GRID_ALT = re.compile(r"^The selected test images decoded from their posterior means, ")
NEAREST = re.compile(r"^(\d+) nearest to your digit \(distance in the 2-D latent space\): ")


def grid_rows(page: Page) -> tuple[list[int], str]:
    """The rows of the decoded-means grid beside the map (from its alt text), and the image's address."""
    image = page.get_by_role("img", name=GRID_ALT)
    expect(image).to_be_visible(timeout=RUN_TIMEOUT_MS)
    alt = image.get_attribute("alt")
    return [int(r) for r in re.findall(r"#(\d+)", alt.split("4 per row: ", 1)[1])], image.get_attribute("src")


def test_a_box_of_thousands_pages_through_them_and_a_drawing_lists_its_nearest(browser, dashboard):  # noqa: F811
    mu, labels = means()
    tracker = open_tab(browser, f"{dashboard.url}/latent-map?model={Z2_LABEL}")
    page = tracker.page
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # An 80 px box over the dense centre.
        centre = centre_row(mu)
        x, y = page.evaluate(SCREEN_POINT_JS, centre)
        page.locator(f"{MAP} .modes .mode", has_text="Box").click()
        page.mouse.move(x - 40, y - 40)
        page.mouse.down()
        page.mouse.move(x + 40, y + 40, steps=8)
        page.mouse.up()
        page.wait_for_url(re.compile(r"[?&]select=box"), timeout=RUN_TIMEOUT_MS)
        tracker.wait_quiet(500, RUN_TIMEOUT_MS)
        rows = rows_in_box([float(v) for v in query(page)["select"][0].removeprefix("box:").split(",")])
        count = len(rows)
        assert count > 1000, count  # thousands
        main = page.get_by_test_id("stMain")
        expect(main.get_by_text(re.compile(rf"^{count} selected: #{rows[0]} "))).to_be_visible(timeout=RUN_TIMEOUT_MS)
        expect(main.get_by_text(f"Showing digits 1-40 of {count:,}", exact=True)).to_be_visible()
        first, first_src = grid_rows(page)
        assert first == rows[:40]

        # The class histogram: its bars are the counts of the selected rows' classes.
        chart = main.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')
        expect(chart).to_be_visible()
        bars = chart.evaluate("(gd) => [Array.from(gd.data[0].x), Array.from(gd.data[0].y)]")
        assert bars == [[str(k) for k in range(10)], np.bincount(labels[rows], minlength=10).tolist()]
        expect(chart.locator(".gtitle")).to_have_text(f"Classes of the {count:,} selected")
        assert chart.locator(".bars path").count() == int((np.bincount(labels[rows], minlength=10) > 0).sum())
        # Its mean digit: the decoded mean beside the pixel mean (when the test images are here).
        decoded = main.get_by_role("img", name=f"The digit decoded from the mean of the {count:,} selected posterior "
                                                "means")
        expect(decoded).to_be_visible()
        assert decoded.evaluate("(img) => img.complete && img.naturalWidth > 0")
        pixel_mean = main.get_by_role("img", name=f"The pixel-by-pixel mean of the {count:,} selected test images")
        with_data = not main.get_by_text("The pixel mean needs the test images, which are not loaded.").count()
        expect(pixel_mean).to_have_count(1 if with_data else 0)
        full_page_screenshot(page, SHOTS / "map-selection.png")

        # The next page: the next 40 digits, other pictures.
        runs = tracker.finished
        main.get_by_role("button", name="Next").click()
        tracker.wait_after(runs, RUN_TIMEOUT_MS)
        tracker.wait_quiet(300, RUN_TIMEOUT_MS)
        expect(main.get_by_text(f"Showing digits 41-80 of {count:,}", exact=True)).to_be_visible(
            timeout=RUN_TIMEOUT_MS)
        second, second_src = grid_rows(page)
        assert second == rows[40:80] and not set(second) & set(first) and second_src != first_src
        expect(main.get_by_role("spinbutton", name=re.compile(r"^Page"))).to_have_value("2")
        full_page_screenshot(page, SHOTS / "map-selection-page-2.png")
    finally:
        page.context.close()

    # Your digit: a drawn 7 lists its nearest test digits, each with its thumbnail and a way into the explorer.
    tracker = open_tab(browser, f"{dashboard.url}/your-digit?model={Z2_LABEL}")
    page = tracker.page
    try:
        runs = tracker.finished
        draw_a_seven(page)
        tracker.wait_after(runs, RUN_TIMEOUT_MS)
        main = page.get_by_test_id("stMain")
        caption = main.get_by_text(NEAREST)
        expect(caption).to_be_visible(timeout=RUN_TIMEOUT_MS)
        listed = [(int(r), float(d)) for r, d in re.findall(r"#(\d+) \(\d\) (\d+\.\d+)", caption.inner_text())]
        assert len(listed) == int(NEAREST.match(caption.inner_text())[1]) == 8
        near, distance = np.array([r for r, _ in listed]), np.array([d for _, d in listed])
        assert (np.diff(distance) >= 0).all()
        # The map rings the digits listed under it (its component may draw them a frame after the caption shows).
        expect(page.locator(MAP)).to_have_attribute("data-neighbours", ",".join(str(r) for r, _ in listed),
                                                     timeout=RUN_TIMEOUT_MS)
        # The point the distances describe (least squares on |m_r - p|^2 = d_r^2): the rows listed are its nearest.
        ends = mu[near].astype(np.float64)
        system = 2 * (ends[1:] - ends[0])
        target = (ends[1:] ** 2).sum(axis=1) - (ends[0] ** 2).sum() - distance[1:] ** 2 + distance[0] ** 2
        point = np.linalg.lstsq(system, target, rcond=None)[0]
        assert np.abs(np.linalg.norm(ends - point, axis=1) - distance).max() < 0.01
        everything = np.sort(np.linalg.norm(mu - point, axis=1))
        assert np.linalg.norm(ends - point, axis=1).max() <= everything[8] + 0.005  # no other test mean is nearer
        for row, d in listed:
            thumbnail = main.get_by_role("img", name=re.compile(rf"^Test digit #{row}, \d, at distance {d:.3f}$"))
            expect(thumbnail).to_be_visible()
            assert thumbnail.evaluate("(img) => img.complete && img.naturalWidth > 0")
        full_page_screenshot(page, SHOTS / "your-digit-neighbours.png")

        runs = tracker.finished
        main.get_by_role("link", name=f"Open #{listed[0][0]}").click()
        page.wait_for_url(re.compile(r"/explorer\?"), timeout=RUN_TIMEOUT_MS)
        tracker.wait_after(runs, RUN_TIMEOUT_MS)
        assert query(page)["start"] == ["Test digit"] and query(page)["digit"] == [str(listed[0][0])]
        expect(main.get_by_label(re.compile(r"^Test digit \(0 to 9999\)"))).to_have_value(str(listed[0][0]),
                                                                                        timeout=RUN_TIMEOUT_MS)
    finally:
        page.context.close()
