"""Our two components in a real browser: `streamlit run`, Debian's chromium.

Both load their JS as files and import the shared base.js (no console error, both draw); a map's
root says which model, projection and points it draws, and a model switch draws what a fresh
load of that model draws; Compare's small maps (``canvas.map_tile``) fit eight to a row with
wrapped titles, ticks that do not overlap and hover thumbnails, on 2-D canvases (no WebGL); every
canvas has an aria-label and our components' text meets WCAG AA contrast.
Screenshots go to VAE_SCREENSHOT_DIR (default artifacts/screenshots/).
"""

from __future__ import annotations

import os
import re
from itertools import pairwise

import pytest
from playwright.sync_api import Page

from tests.browser_support import RunTracker, StreamlitServer, full_page_screenshot, running_server, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, browser, dashboard  # noqa: F401

pytestmark = pytest.mark.browser

# A test page: eight small maps as Compare draws them (?view=grid), or one map whose model a radio switches.
HARNESS = '''
import os
from pathlib import Path

import streamlit as st

from dashboard.components import canvas
from dashboard.shell import cache, captions, charts, payloads
from vae_core import store

st.set_page_config(layout="wide")
models = [c for c in store.scan(Path(os.environ["VAE_CHECKPOINT_DIR"]))[0] if c.train_config.dataset == "mnist"]
names = [c.name for c in models]
sprite, payload = payloads.sprite_for("mnist")
canvas.send_sprite("harness_sprite", sprite, payload)
label = lambda c: f"MNIST {c.model_config.architecture}, z = {c.model_config.latent_dim} ({c.name})"
if st.query_params.get("view") == "grid":
    for checkpoint, column in zip(models[:8], st.columns(8)):
        with column:
            canvas.map_tile(payloads.map_points_for(checkpoint, "PCA"), captions.class_names("mnist"),
                            charts.DIGIT_COLORS,
                            model=checkpoint.name, method="PCA", label=label(checkpoint), sprite=sprite, height=200,
                            title=f"PCA of the test-set means of {label(checkpoint)}")
else:
    wanted = st.query_params.get("model")
    name = st.radio("Model", names, index=names.index(wanted) if wanted in names else 0, key="model")
    checkpoint = models[names.index(name)]
    canvas.latent_map("harness_map", payloads.map_points_for(checkpoint, "PCA"), captions.class_names("mnist"),
                      charts.DIGIT_COLORS, sprite=sprite, height=420, model=name, method="PCA", label=label(checkpoint))
'''

# Our components' root elements, inside their shadow roots.
ROOTS_JS = """(selector) => [...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
  .flatMap((e) => [...e.shadowRoot.querySelectorAll(selector)])"""

# [{model, method, points, fingerprint, drawn, label (the canvas' aria-label), title, fits (title not cut)}].
MAPS_JS = f"""() => ({ROOTS_JS})('.vae-canvas.map').map((root) => ({{
  ...root.dataset, label: root.querySelector('canvas.map').getAttribute('aria-label'),
  title: root.querySelector('.map-title').textContent,
  fits: root.querySelector('.map-title').scrollWidth <= root.querySelector('.map-title').clientWidth,
  width: root.getBoundingClientRect().width, column: root.getRootNode().host.getBoundingClientRect().width,
}}))"""

# A fingerprint of the (first) map's pixels.
MAP_PIXELS_JS = f"""() => {{
  const data = ({ROOTS_JS})('.vae-canvas.map canvas.map')[0].toDataURL();
  let hash = 0;
  for (let i = 0; i < data.length; i++) hash = (hash * 31 + data.charCodeAt(i)) | 0;
  return String(hash);
}}"""

# Each text in our components with its colour's contrast against the background behind it (composited on white).
CONTRAST_JS = f"""() => {{
  const rgba = (text) => {{
    const n = text.match(/[\\d.]+/g).map(Number);
    const scale = text.startsWith('color(') ? 255 : 1;
    return [n[0] * scale, n[1] * scale, n[2] * scale, n.length > 3 ? n[3] : 1];
  }};
  const over = (top, [r, g, b]) => top.slice(0, 3).map((c, i) => c * top[3] + [r, g, b][i] * (1 - top[3]));
  const luminance = (rgb) => {{
    const [r, g, b] = rgb.map((c) => {{ c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; }});
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }};
  const background = (node) => {{
    const layers = [];
    for (let at = node; at; at = at.parentElement || at.getRootNode().host) {{
      const colour = rgba(getComputedStyle(at).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] === 1) break;
    }}
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
  }};
  const out = [];
  for (const root of ({ROOTS_JS})('.vae-canvas, .vae-live')) {{
    for (const node of [root, ...root.querySelectorAll('*')]) {{
      const own = [...node.childNodes].filter((c) => c.nodeType === 3).map((c) => c.textContent).join('').trim();
      if (!own || !node.getClientRects().length || node.closest('[hidden]')) continue;
      const back = background(node);
      const fore = over(rgba(getComputedStyle(node).color), back);
      const [a, b] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
      out.push([own.slice(0, 40), Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100]);
    }}
  }}
  return out;
}}"""


class Console:
    """The tab's console errors and warnings, uncaught errors, and the component files it fetched."""

    def __init__(self, page: Page):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.fetched: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        self.fetched.append(response.url)
        # Opened at a page's address, Streamlit's frontend first asks whether that path is the server's base path.
        probe = response.status == 404 and re.search(r"/[^/]+/_stcore/(health|host-config)$", response.url)
        if response.status >= 400 and not probe:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def _on_console(self, message) -> None:
        if message.text.startswith("Failed to load resource"):
            return  # an HTTP error: _on_response records it with its URL
        if message.type == "error":
            self.errors.append(message.text)
        elif message.type == "warning":
            self.warnings.append(message.text)

    def component_files(self, component: str) -> set[str]:
        prefix = f"/_stcore/bidi-components/{component}/"
        return {url.split(prefix)[1] for url in self.fetched if prefix in url}


def open_tab(browser, url: str) -> tuple[RunTracker, Console]:  # noqa: F811
    page = browser.new_context(viewport=VIEWPORT).new_page()
    tracker, console = RunTracker(page), Console(page)
    page.goto(url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    return tracker, console


def assert_readable(page: Page, where: str) -> None:
    """Every text in our components: contrast at least 4.5:1 (WCAG AA for normal text)."""
    texts = page.evaluate(CONTRAST_JS)
    assert texts, f"{where}: no text found in our components"
    low = [(text, ratio) for text, ratio in texts if ratio < 4.5]
    assert not low, f"{where}: text below 4.5:1: {low}"


def test_both_components_load_their_files_and_the_base_module_and_draw(browser, dashboard):  # noqa: F811
    tab, console = open_tab(browser, f"{dashboard.url}/latent-map")
    page = tab.page
    try:
        page.wait_for_function(f"() => ({MAPS_JS})().some((m) => m.drawn)", timeout=RUN_TIMEOUT_MS)
        [shown] = page.evaluate(MAPS_JS)
        assert shown["drawn"] == f"{shown['fingerprint']},{shown['points']}" and int(shown["points"]) > 1000
        assert shown["model"] and shown["method"] and shown["label"].startswith("Latent map of ")
        assert {"canvas.js", "canvas.css", "base.js"} <= console.component_files("vae_canvas")
        assert_readable(page, "Latent map")

        runs = tab.finished
        page.goto(f"{dashboard.url}/explorer")
        tab.wait_after(runs, RUN_TIMEOUT_MS)
        live = page.locator(".vae-live.explorer")
        live.wait_for(timeout=RUN_TIMEOUT_MS)
        page.wait_for_function(f"() => ({ROOTS_JS})('.vae-live.explorer').some((r) => r.dataset.drawn"
                               " && r.dataset.drawn === r.dataset.model)", timeout=RUN_TIMEOUT_MS)
        assert {"live_decoder.js", "live_decoder.css", "base.js"} <= console.component_files("vae_live_decoder")
        labels = live.locator("canvas").evaluate_all("(all) => all.map((c) => c.getAttribute('aria-label'))")
        assert labels and all(labels), labels
        assert live.locator("input[type=range]").count() == live.locator("label.slider input[type=range]").count() > 0
        assert_readable(page, "Latent explorer")
        page.locator(".vae-live.explorer").screenshot(path=screenshot_dir(REPO) / "explorer-live.png")
        assert not console.errors, console.errors
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def harness(shipped_root, tmp_path_factory) -> StreamlitServer:
    """`streamlit run` of HARNESS on the shipped checkpoints (VAE_DATA_DIR passed through, for the thumbnails)."""
    folder = tmp_path_factory.mktemp("harness")
    (folder / "pages").mkdir()
    script = folder / "pages" / "harness.py"
    script.write_text(HARNESS)
    with running_server(script, folder, {**os.environ, "VAE_CHECKPOINT_DIR": str(shipped_root)}) as server:
        yield server


def test_a_switched_map_draws_what_a_fresh_load_of_that_model_draws(browser, harness):  # noqa: F811
    first, console = open_tab(browser, f"{harness.url}/?model=mnist-z10-h400-e12-b128-lr0.001-s0")
    page = first.page
    try:
        page.wait_for_function(f"() => ({MAPS_JS})()[0]?.drawn", timeout=RUN_TIMEOUT_MS)
        [before] = page.evaluate(MAPS_JS)
        runs = first.finished
        page.get_by_test_id("stRadio").get_by_text("mnist-z5-h400-e12-b128-lr0.001-s0", exact=True).click()
        first.wait_after(runs, RUN_TIMEOUT_MS)
        page.wait_for_function(f"() => ({MAPS_JS})()[0].drawn === ({MAPS_JS})()[0].fingerprint + ',' "
                               f"+ ({MAPS_JS})()[0].points && ({MAPS_JS})()[0].model.includes('z5')",
                               timeout=RUN_TIMEOUT_MS)
        page.mouse.move(1, 1)
        [switched] = page.evaluate(MAPS_JS)
        switched_pixels = page.evaluate(MAP_PIXELS_JS)
        assert switched["fingerprint"] != before["fingerprint"] and switched["label"] != before["label"]
        assert not console.errors, console.errors
    finally:
        page.context.close()

    fresh, _ = open_tab(browser, f"{harness.url}/?model=mnist-z5-h400-e12-b128-lr0.001-s0")
    page = fresh.page
    try:
        page.wait_for_function(f"() => ({MAPS_JS})()[0]?.drawn", timeout=RUN_TIMEOUT_MS)
        page.mouse.move(1, 1)
        [loaded] = page.evaluate(MAPS_JS)
        assert {k: loaded[k] for k in ("model", "method", "points", "fingerprint", "drawn", "label")} == {
            k: switched[k] for k in ("model", "method", "points", "fingerprint", "drawn", "label")}
        assert page.evaluate(MAP_PIXELS_JS) == switched_pixels  # the same picture, pixel for pixel
    finally:
        page.context.close()


def test_eight_small_maps_fit_a_row_with_whole_titles_fitted_ticks_and_thumbnails(browser, harness):  # noqa: F811
    tab, console = open_tab(browser, f"{harness.url}/?view=grid")
    page = tab.page
    try:
        page.wait_for_function(f"() => ({MAPS_JS})().length === 8 && ({MAPS_JS})().every((m) => m.drawn)",
                               timeout=RUN_TIMEOUT_MS)
        page.wait_for_function("() => (globalThis.__vaeCanvas?.sprites.size ?? 0) > 0", timeout=RUN_TIMEOUT_MS)
        maps = page.evaluate(MAPS_JS)
        assert len({m["model"] for m in maps}) == 8 and {m["method"] for m in maps} == {"PCA"}
        for shown in maps:
            assert shown["fits"] and shown["title"].endswith(f"({shown['model']})"), shown  # wrapped, not cut
            assert shown["width"] <= shown["column"] + 0.5, shown  # inside its column: nothing clipped
            assert shown["label"].startswith("Latent map of MNIST") and "10,000 points" in shown["label"]
        boxes = page.evaluate("() => [...globalThis.__vaeCanvas.maps].map((m) => m.tickBoxes)")
        for axes in boxes:
            for spans in (axes["x"], axes["y"]):
                assert len(spans) >= 2 and all(a[1] + 2 <= b[0] for a, b in pairwise(sorted(spans))), spans
        assert page.locator(".vae-canvas.map .modes").first.is_hidden()  # no selection in a grid
        assert page.locator(".vae-canvas.map .legend").first.is_hidden()  # the page shows one legend for all

        tile = page.locator(".vae-canvas.map canvas.map").nth(3)
        box = tile.bounding_box()
        # the fourth tile on the page, whatever order the maps registered in
        x, y = tile.evaluate("(canvas) => [...globalThis.__vaeCanvas.maps].find((m) => m.canvas === canvas)"
                             ".screenPoint(0)")
        page.mouse.move(x, y)
        thumb = page.locator(".vae-canvas.map .thumb").nth(3)
        thumb.wait_for(state="visible", timeout=5000)
        inside = thumb.bounding_box()
        assert box["x"] - 1 <= inside["x"] and inside["x"] + inside["width"] <= box["x"] + box["width"] + 1
        assert thumb.locator("canvas").is_visible()  # drawn from the sprite sheet
        page.locator(".vae-canvas.map").nth(3).screenshot(path=screenshot_dir(REPO) / "compare-map-tile-hover.png")
        full_page_screenshot(page, screenshot_dir(REPO) / "compare-map-tiles.png")
        assert not console.errors, console.errors
        assert not [w for w in console.warnings if re.search("webgl", w, re.IGNORECASE)], console.warnings
    finally:
        page.context.close()
