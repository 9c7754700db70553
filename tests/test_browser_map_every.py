"""Every digit on the Latent map, in chromium, on the shipped z = 2 model: the switch beside the map adds the 60,000
training digits (drawn fainter) to the 10,000 test digits, with their thumbnails, neighbours and search, and the
address carries it (``points=all``) to a fresh tab.

What the map shows is read from outside the page: screenshots of its canvas and of the hovered thumbnail, the
address, and the root's data attributes; the page's ``screenPoint`` says where a digit is drawn.
"""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.test_browser import REPO, RUN_TIMEOUT_MS, browser, dashboard, settle  # noqa: F401
from tests.test_browser_canvas import EXPECTED_THUMB_JS, THUMB_JS
from tests.test_browser_map_zoom import MAP, SCREEN_POINT_JS, Z2, Z2_LABEL, canvas_pixels, open_tab
from vae_core import neighbours as knn
from vae_core.data import load_split

pytestmark = [pytest.mark.browser]

SWITCH = "Training digits too"
TESTS = 10_000


def every_mean() -> np.ndarray:
    """The test means then the training means of the z = 2 model [70,000, 2] (its map draws them as they are)."""
    folder = REPO / "checkpoints" / Z2
    with np.load(folder / "projections.npz") as test, np.load(folder / "train-points.npz") as train:
        return np.concatenate([test["mu"], train["mu"]])


def hoverable_training_row(page, mu: np.ndarray) -> int:
    """A training digit far from the crowd whose own thumbnail the cursor on it shows (no nearer point in reach)."""
    spread = np.linalg.norm(mu[TESTS:] - mu.mean(axis=0), axis=1)
    for row in TESTS + np.argsort(-spread)[:40]:
        at = page.evaluate(SCREEN_POINT_JS, int(row))
        if at and page.evaluate(EXPECTED_THUMB_JS, at) == str(row):
            return int(row)
    raise AssertionError("no training digit stands alone at the map's edge")


def thumbnail_grey(page) -> np.ndarray:
    """The hovered thumbnail as shown [28, 28] grey levels in [0, 1] (its 3 x 3 screen pixels per digit pixel)."""
    png = page.locator(f"{MAP} .thumb canvas").screenshot()
    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L").resize((28, 28), Image.BOX), dtype=float)
    return grey / 255


def test_the_switch_adds_the_training_digits_with_thumbnails_neighbours_search_and_link(
        browser, dashboard, mnist_dir):  # noqa: F811
    mu = every_mean()
    first = open_tab(browser, f"{dashboard.url}/latent-map?model={Z2_LABEL}")
    page = first.page
    try:
        root = page.locator(MAP)
        assert root.get_attribute("data-points") == str(TESTS)
        tests_only = canvas_pixels(page, "map-every-off.png")
        settle(first, lambda: page.get_by_test_id("stMain").get_by_text(SWITCH).click())
        expect(root).to_have_attribute("data-points", str(len(mu)), timeout=RUN_TIMEOUT_MS)
        page.wait_for_url(re.compile(r"[?&]points=all"), timeout=RUN_TIMEOUT_MS)
        page.wait_for_function("() => globalThis.__vaeCanvas.sprites.size >= 2", timeout=RUN_TIMEOUT_MS)
        first.wait_quiet(300, RUN_TIMEOUT_MS)
        every = canvas_pixels(page, "map-every-on.png")
        added = np.abs(every - tests_only).sum(axis=2) > 40
        assert added.mean() > 0.02  # faint dots between and around the test digits'

        # Hover a training digit: its own image, from the training set's sheet, named as a training digit.
        row = hoverable_training_row(page, mu)
        page.mouse.move(*page.evaluate(SCREEN_POINT_JS, row))
        page.wait_for_function(f"() => ({THUMB_JS})()[0] === '{row}'", timeout=5000)
        assert page.evaluate(THUMB_JS)[1]  # an image, not only a name
        expect(page.locator(f"{MAP} .thumb")).to_contain_text(f"train #{row - TESTS}")
        original = load_split("mnist", train=True, data_dir=mnist_dir, download=False).images[row - TESTS]
        shown = thumbnail_grey(page)
        assert np.corrcoef(shown.ravel(), original.numpy().ravel())[0, 1] > 0.95

        # Click it: its neighbours among all 70,000 means are ringed and listed.
        settle(first, lambda: page.mouse.click(*page.evaluate(SCREEN_POINT_JS, row)))
        expected, _ = knn.nearest(mu.astype(np.float32), mu[row].astype(np.float32), 8, leave_out=row)
        expect(root).to_have_attribute("data-neighbours", ",".join(map(str, expected)), timeout=RUN_TIMEOUT_MS)
        expect(page.get_by_test_id("stMain").get_by_text(f"Nearest neighbours of train #{row - TESTS}")).to_be_visible()
        page.wait_for_url(re.compile(rf"[?&]select=row%3A{row}"), timeout=RUN_TIMEOUT_MS)
        address = page.url
    finally:
        first.page.context.close()
    linked = parse_qs(urlparse(address).query)
    assert linked["points"] == ["all"] and "k" not in linked  # every digit, and the default neighbour count

    # The copied address in a fresh tab: every digit, the same selection and neighbours.
    second = open_tab(browser, address)
    page = second.page
    try:
        root = page.locator(MAP)
        assert root.get_attribute("data-points") == str(len(mu))
        expect(root).to_have_attribute("data-neighbours", ",".join(map(str, expected)), timeout=RUN_TIMEOUT_MS)
        expect(page.get_by_test_id("stMain").get_by_role("switch", name=SWITCH)).to_be_checked()

        # Search a training digit by "train N": the map selects it.
        box = page.get_by_test_id("stMain").get_by_role("textbox", name="Find a digit")
        box.fill("train 5")
        settle(second, lambda: box.press("Enter"))
        page.wait_for_url(re.compile(rf"[?&]select=row%3A{TESTS + 5}(&|$)"), timeout=RUN_TIMEOUT_MS)

        # Off again: the test digits alone, as a fresh load draws them.
        settle(second, lambda: page.get_by_test_id("stMain").get_by_text(SWITCH).click())
        expect(root).to_have_attribute("data-points", str(TESTS), timeout=RUN_TIMEOUT_MS)
        second.wait_quiet(300, RUN_TIMEOUT_MS)
        assert "points" not in parse_qs(urlparse(page.url).query)
    finally:
        second.page.context.close()
