"""A registered architecture decoded live in chromium: `streamlit run` finds tests/plugin_arch through PYTHONPATH, as
an installed package, and the explorer decodes the leaky plugin's checkpoint in the page with the layer list it
was sent, equal to torch's decode within 2/255; the residual plugin's digit comes from the server, and the page
says so."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests import plugin_arch
from tests.conftest import write_tiny_checkpoint
from tests.test_browser import CANVAS_PIXELS_JS, PIXELS_JS, REPO, RUN_TIMEOUT_MS, VIEWPORT, assert_page_healthy
from tests.test_live_decoder import TOLERANCE, random_points, server_pixels
from vae_core import store

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def plugin_root(plugin_site, tmp_path_factory, tiny_data):
    """The leaky plugin (a chain: decoded in the page) and the residual plugin (the server), each z = 2."""
    root = tmp_path_factory.mktemp("plugin-checkpoints")
    for architecture in ("leaky", "residual"):
        write_tiny_checkpoint(root, *tiny_data, architecture=architecture)
    return root


def open_explorer(support, tab: Page, url: str, label: str, z: str) -> tuple[object, list[float]]:
    """Open the explorer of the model labelled ``label`` at the sliders' values ``z`` ('0:1.50,1:-0.75'); wait
    until its digit is drawn. Returns (the digit's canvas, the point it says it shows)."""
    tracker = support.RunTracker(tab)
    tab.goto(f"{url}/explorer?model={quote(label)}&z={quote(z)}")
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    assert_page_healthy(tab, label)
    root = tab.locator(".vae-live.explorer")
    expect(root).to_have_attribute("data-drawn", root.get_attribute("data-model"), timeout=RUN_TIMEOUT_MS)
    digit = tab.locator(".vae-live.explorer canvas.digit")
    return digit, [float(v) for v in digit.get_attribute("data-point").split(",")]


def test_the_explorer_decodes_a_plugin_architecture_in_the_page_as_torch_does(plugin_site, plugin_root,
                                                                                browser_support, tmp_path):
    models = {c.model_config.architecture: (c, store.load_model(c)) for c in store.scan(plugin_root)[0]}
    env = {**plugin_arch.environment(plugin_site), "VAE_CHECKPOINT_DIR": str(plugin_root),
           "VAE_DATA_DIR": str(tmp_path / "no-data"), "VAE_OFFLINE": "1"}
    with browser_support.running_server(REPO / "dashboard" / "app.py", tmp_path, env) as server, \
            sync_playwright() as playwright:
        browser = browser_support.launch_chromium(playwright)
        try:
            tab = browser.new_page(viewport=VIEWPORT)
            checkpoint, model = models["leaky"]
            digit, point = open_explorer(browser_support, tab, server.url, "MNIST · leaky, z = 2", "0:1.50,1:-0.75")
            assert point == [1.5, -0.75]
            drawn = np.asarray(digit.evaluate(PIXELS_JS), dtype=int)
            expected = server_pixels(model, np.asarray([point], dtype=np.float32))[0].astype(int)
            assert np.abs(drawn - expected).max() <= TOLERANCE  # the live digit, as the page drew it
            z = random_points(2, 11)
            many = np.asarray(tab.evaluate(CANVAS_PIXELS_JS, [checkpoint.name, z.tolist()]), dtype=int)
            assert np.abs(many - server_pixels(model, z).astype(int)).max() <= TOLERANCE  # 100 more points
            expect(tab.locator(".vae-live.explorer .status")).to_have_text("Decoded in your browser as you drag.")

            checkpoint, model = models["residual"]
            digit, point = open_explorer(browser_support, tab, server.url, "MNIST · residual, z = 2", "0:-1.00,1:2.00")
            assert point == [-1.0, 2.0]
            expect(tab.locator(".vae-live.explorer .status")).to_contain_text(
                "Decoded on the server at the point last reported")
            drawn = np.asarray(digit.evaluate(PIXELS_JS), dtype=int)
            expected = server_pixels(model, np.asarray([point], dtype=np.float32))[0].astype(int)
            assert np.abs(drawn - expected).max() <= TOLERANCE  # the server's digit, drawn by the page
        finally:
            browser.close()
