"""RGB models and pictures of any side in chromium (issue 21, "your own images"): `streamlit run` on a checkpoint
root holding two registered tinted-RGB data sets (scikit-learn's digit scans at 32 and 16 pixels) with an RGB
32 x 32 conv VAE and an RGB MLP at side 16 (tests/rgb_support.py).

On the Latent explorer an arrow key on a slider redraws the picture in the page, in colour, equal to the model's
``decode_images`` at the point the page says it shows within 2/255 per channel, at the on-screen size of MNIST's
digit; a decoder the page cannot run (tests/plugin_arch's ``ResidualVAE``, registered through an entry point)
shows the server's picture in colour; on the Latent map the thumbnail under the cursor is that test image, in
colour, at MNIST's thumbnail size. Pixels are read from outside the page: the canvases' own pixels, through Playwright.
"""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest
import torch
from playwright.sync_api import Page, expect, sync_playwright

from dashboard.shell.tables import model_label
from tests import plugin_arch
from tests.rgb_support import SKIP, rgb_root, write_rgb_checkpoint
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, assert_page_healthy
from tests.test_browser_canvas import THUMB_JS
from tests.test_live_decoder import TOLERANCE
from vae_core import explore, store
from vae_core.data import load_split
from vae_core.shapes import pictures

pytestmark = pytest.mark.browser

# A canvas' own pixels: [width, height, RGBA values row by row].
CANVAS_JS = "(c) => [c.width, c.height, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]"
EXPLORER_DIGIT_PX = 280  # MNIST's live digit on screen: min(280px, 100%) of its column (live_decoder.css)
THUMB_PX = 84  # a full-size map's thumbnail (canvas.css)


@pytest.fixture(scope="module")
def skip_site(tmp_path_factory):
    """tests/plugin_arch's ``ResidualVAE`` registered through an entry point under ``rgb_support.SKIP``'s name, for
    this module."""
    from vae_core.models import registry

    folder = plugin_arch.install(tmp_path_factory.mktemp("site"), SKIP)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        registry.refresh()
        yield folder
    registry.refresh()


@pytest.fixture(scope="module")
def rgb_checkpoints(skip_site, tmp_path_factory) -> tuple:
    """(root, {kind: (checkpoint, model, its sidebar label)}): the conv VAE at 32, the MLP at 16 and the skip
    decoder at 16 (z = 2)."""
    root = tmp_path_factory.mktemp("rgb-checkpoints")
    checkpoints = rgb_root(root, tmp_path_factory.mktemp("rgb-folders"))
    checkpoints["skip"] = write_rgb_checkpoint(root, "tinted16", "skiprgb", 2, 16)
    everything = store.scan(root)[0]
    return root, {kind: (checkpoint, store.load_model(checkpoint), model_label(
        checkpoint, [c for c in everything if c.train_config.dataset == checkpoint.train_config.dataset]))
        for kind, checkpoint in checkpoints.items()}


@pytest.fixture(scope="module")
def served(rgb_checkpoints, skip_site, browser_support, tmp_path_factory):
    """(server URL, chromium) on the RGB root; no MNIST anywhere (VAE_DATA_DIR is an empty folder)."""
    root, _ = rgb_checkpoints
    env = {**plugin_arch.environment(skip_site), "VAE_CHECKPOINT_DIR": str(root),
           "VAE_DATA_DIR": str(tmp_path_factory.mktemp("no-data")), "VAE_OFFLINE": "1"}
    with browser_support.running_server(REPO / "dashboard" / "app.py", tmp_path_factory.mktemp("streamlit"),
                                        env) as server, sync_playwright() as playwright:
        browser = browser_support.launch_chromium(playwright)
        try:
            yield server.url, browser
        finally:
            browser.close()


def open_page(browser_support, browser, url: str) -> Page:
    tab = browser.new_context(viewport=VIEWPORT).new_page()
    tracker = browser_support.RunTracker(tab)
    tab.goto(url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    return tab


def canvas_picture(canvas) -> np.ndarray:
    """The canvas' pixels as [H, W, 3] (every alpha checked opaque)."""
    width, height, rgba = canvas.evaluate(CANVAS_JS)
    rgba = np.asarray(rgba, dtype=int).reshape(height, width, 4)
    assert (rgba[..., 3] == 255).all()
    return rgba[..., :3]


def decoded(model, point: list[float]) -> np.ndarray:
    """What the model decodes at ``point``: [S, S, 3] levels 0..255."""
    return explore.to_uint8(model.decode_images(torch.tensor([point], dtype=torch.float32)).numpy())[0].astype(int)


def shown_point(digit) -> list[float]:
    return [float(v) for v in digit.get_attribute("data-point").split(",")]


@pytest.mark.parametrize("kind", ["conv", "mlp"])
def test_an_arrow_key_redraws_the_rgb_picture_in_the_page_as_the_model_decodes_it(kind, rgb_checkpoints, served,
                                                                                   browser_support):
    _, models = rgb_checkpoints
    checkpoint, model, label = models[kind]
    url, browser = served
    tab, digit, before, point = open_explorer(browser_support, browser, url, checkpoint, model, label)
    try:

        slider = tab.locator(".vae-live input[type=range]").first  # the most informative dimension's
        dim = int(slider.get_attribute("data-dim"))
        slider.focus()
        shown = digit.get_attribute("data-point")
        tab.keyboard.press("ArrowRight")
        expect(digit).not_to_have_attribute("data-point", shown, timeout=5000)
        after, moved = canvas_picture(digit), shown_point(digit)
        assert moved == pytest.approx([v + 0.05 * (d == dim) for d, v in enumerate(point)])
        point = moved
        assert np.abs(after - decoded(model, point)).max() <= TOLERANCE  # within 2/255 per channel
        assert (after != before).any()
        assert np.abs(after[..., 0] - after[..., 2]).max() > 30  # in colour, not grey
        box = digit.bounding_box()
        assert box["width"] == box["height"] == EXPLORER_DIGIT_PX  # MNIST's digit's size, whatever the side
        expect(tab.locator(".vae-live.explorer .status")).to_have_text("Decoded in your browser as you drag.")
        tab.locator(".vae-live.explorer").screenshot(path=screenshot_path(f"rgb-live-{kind}.png"))
    finally:
        tab.context.close()


def open_explorer(browser_support, browser, url: str, checkpoint, model, label: str):
    """A tab on the explorer of ``model`` at z[d] = 0.5 - 0.25 d, its picture drawn and checked against the model's:
    (tab, the picture's canvas, its pixels [S, S, 3], the point it says it shows)."""
    side, latent_dim = model.config.side, model.config.latent_dim
    start = ",".join(f"{d}:{0.5 - 0.25 * d:.2f}" for d in range(latent_dim))
    tab = open_page(browser_support, browser, f"{url}/explorer?model={quote(label)}&z={quote(start)}")
    assert_page_healthy(tab, label)
    root = tab.locator(".vae-live.explorer")
    expect(root).to_have_attribute("data-drawn", checkpoint.name, timeout=RUN_TIMEOUT_MS)
    digit = tab.locator(".vae-live.explorer canvas.digit")
    picture, point = canvas_picture(digit), shown_point(digit)
    assert point == [0.5 - 0.25 * d for d in range(latent_dim)]
    assert picture.shape == (side, side, 3) and np.abs(picture - decoded(model, point)).max() <= TOLERANCE
    return tab, digit, picture, point


def test_a_decoder_the_page_cannot_run_shows_the_servers_rgb_picture(rgb_checkpoints, served, browser_support):
    _, models = rgb_checkpoints
    checkpoint, model, label = models["skip"]
    url, browser = served
    tab, digit, before, point = open_explorer(browser_support, browser, url, checkpoint, model, label)
    try:
        expect(tab.locator(".vae-live.explorer .status")).to_contain_text(
            "Decoded on the server at the point last reported")
        assert np.abs(before[..., 0] - before[..., 2]).max() > 30  # in colour
        slider = tab.locator(".vae-live input[type=range]").first
        dim = int(slider.get_attribute("data-dim"))
        slider.focus()
        shown = digit.get_attribute("data-point")
        tab.keyboard.press("ArrowRight")  # reported after a pause; the server's picture at the new point follows
        expect(digit).not_to_have_attribute("data-point", shown, timeout=RUN_TIMEOUT_MS)
        after, moved = canvas_picture(digit), shown_point(digit)
        assert moved == pytest.approx([v + 0.05 * (d == dim) for d, v in enumerate(point)])
        assert np.abs(after - decoded(model, moved)).max() <= TOLERANCE
        assert digit.bounding_box()["width"] == EXPLORER_DIGIT_PX
    finally:
        tab.context.close()


def screenshot_path(name: str):
    from tests.browser_support import screenshot_dir

    folder = screenshot_dir(REPO)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_the_maps_thumbnails_are_the_test_images_in_colour(rgb_checkpoints, served, browser_support):
    root, models = rgb_checkpoints
    checkpoint, model, label = models["conv"]
    test = load_split(checkpoint.train_config.dataset, train=False, checkpoint_dir=root)
    images = np.rint(pictures(test.images.numpy(), 3, model.config.side) * 255).astype(int)  # [N, 32, 32, 3]
    url, browser = served
    tab = open_page(browser_support, browser, f"{url}/latent-map?model={quote(label)}")
    try:
        assert_page_healthy(tab, "Latent map")
        tab.locator(".vae-canvas.map canvas.map").wait_for(timeout=RUN_TIMEOUT_MS)
        tab.wait_for_function("() => (globalThis.__vaeCanvas?.sprites.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        tab.wait_for_function("() => globalThis.__vaeCanvas?.screenPoint(0) !== null", timeout=RUN_TIMEOUT_MS)
        thumb = tab.locator(".vae-canvas.map .thumb canvas")
        shown = set()
        for row in (0, 7, len(images) - 1):
            x, y = tab.evaluate("(row) => globalThis.__vaeCanvas.screenPoint(row)", row)
            tab.mouse.move(x, y)
            tab.wait_for_function(f"() => ({THUMB_JS})()[0] !== '' && ({THUMB_JS})()[1]", timeout=5000)
            [shown_row, _] = tab.evaluate(THUMB_JS)  # this row, or a point drawn on top of it
            picture = canvas_picture(thumb)
            assert picture.shape == (32, 32, 3)
            assert np.array_equal(picture, images[int(shown_row)]), shown_row  # the PNG sheet, lossless
            assert np.abs(picture[..., 0] - picture[..., 2]).max() > 100  # tinted: in colour
            box = thumb.bounding_box()
            assert box["width"] == box["height"] == THUMB_PX
            shown.add(shown_row)
        assert len(shown) >= 2
        tab.locator(".vae-canvas.map").screenshot(path=screenshot_path("rgb-map-thumbnail.png"))
    finally:
        tab.context.close()
