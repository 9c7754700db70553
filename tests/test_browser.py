"""The dashboard in a real browser: `streamlit run` on a free port, driven by Debian's chromium.

Opens every page through the sidebar navigation, checks that none shows an exception,
saves a full-page screenshot of each (VAE_SCREENSHOT_DIR, default artifacts/screenshots/),
moves a latent slider to check that the decoded digit is redrawn, and picks a larger model
in the sidebar to check its KL-ordered sliders and that the choice carries to another page.
The shipped checkpoints are served; VAE_DATA_DIR is passed through unchanged.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from playwright.sync_api import Page, expect, sync_playwright

from dashboard.components import live_decoder
from tests.browser_support import (
    CHROMIUM,
    RunTracker,
    StreamlitServer,
    full_page_screenshot,
    launch_chromium,
    running_server,
    screenshot_dir,
)
from tests.conftest import missing_prerequisite
from vae_core import explore, store

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
EXPECTED_PAGES = ["Overview", "Training", "Generate", "Reconstruct", "Latent map", "Latent explorer",
                  "Compare models"]
# The live digit's grey levels, read back from its 28 x 28 canvas.
PIXELS_JS = "(c) => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0))"
# The page holds the weights of the explorer's model (the live view has drawn at least once).
WEIGHTS_HELD_JS = "() => (globalThis.__vaeLiveDecoder?.models.size ?? 0) > 0"
# [model name, points [N][D]] -> grey levels [N][784], each drawn on a canvas by the component's own code.
CANVAS_PIXELS_JS = """([name, points]) => {
  const live = globalThis.__vaeLiveDecoder, canvas = document.createElement('canvas');
  canvas.width = canvas.height = 28;
  return points.map((z) => {
    live.drawDigit(canvas, live.decode(name, z));
    return Array.from(canvas.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0));
  });
}"""
RUN_TIMEOUT_MS = 90_000  # first visits load torch and the models on 2 busy cores
VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def dashboard(shipped_root, tmp_path_factory) -> StreamlitServer:
    """`streamlit run dashboard/app.py` on the shipped checkpoints; VAE_DATA_DIR is passed through."""
    env = {**os.environ, "VAE_CHECKPOINT_DIR": str(shipped_root)}
    with running_server(REPO / "dashboard" / "app.py", tmp_path_factory.mktemp("streamlit"), env) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium; missing, the tests skip on a laptop and fail under CI=true."""
    if not CHROMIUM.exists():
        missing_prerequisite(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def app(browser, dashboard) -> RunTracker:
    """A fresh tab (a fresh Streamlit session) on the app's default page, its first run drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tracker = RunTracker(tab)
    tab.goto(dashboard.url)
    tracker.wait_after(0, RUN_TIMEOUT_MS)
    yield tracker
    context.close()


def nav_links(page: Page) -> dict[str, str]:
    """Sidebar navigation: page title -> absolute URL."""
    return page.get_by_test_id("stSidebarNav").get_by_test_id("stSidebarNavLink").evaluate_all(
        """links => Object.fromEntries(links.map((a) => {
             const label = a.cloneNode(true);
             label.querySelectorAll('[data-testid="stIconMaterial"]').forEach((icon) => icon.remove());
             return [label.textContent.trim(), a.href];
           }))""")


def assert_page_healthy(page: Page, title: str) -> None:
    """No exception box, and the page drew something besides the sidebar."""
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, f"page {title!r} shows an exception:\n" + "\n".join(exceptions.all_inner_texts())
    assert page.get_by_test_id("stMain").get_by_test_id("stElementContainer").count() > 0, f"page {title!r} is empty"


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def same_page(url: str, link: str) -> bool:
    """``url`` shows the page of ``link``, whatever view its query parameters hold (the shareable link)."""
    return url.split("?")[0].rstrip("/") == link.rstrip("/")


def open_page(app: RunTracker, links: dict[str, str], title: str) -> None:
    """Click the sidebar link and wait for that page's script run to finish and draw."""
    if same_page(app.page.url, links[title]):
        return
    runs = app.finished
    app.page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    app.page.wait_for_url(lambda url: same_page(url, links[title]))
    app.wait_after(runs, RUN_TIMEOUT_MS)


def test_every_page_opens_without_an_exception(app):
    links = nav_links(app.page)
    assert set(EXPECTED_PAGES) <= set(links), f"sidebar pages {sorted(links)} lack some of {EXPECTED_PAGES}"
    shots = screenshot_dir(REPO)
    for number, title in enumerate(links, start=1):
        open_page(app, links, title)
        assert_page_healthy(app.page, title)
        full_page_screenshot(app.page, shots / f"{number:02d}-{slug(title)}.png")


def main_image_sources(page: Page) -> list[str]:
    return page.get_by_test_id("stMain").locator("[data-testid='stImage'] img").evaluate_all(
        "images => images.map((i) => i.src)")


def latent_slider(page: Page):
    """The first server slider in the main area labelled with a latent coordinate, z[<dim>] ..."""
    return page.get_by_test_id("stMain").get_by_role("slider", name=re.compile(r"^z\[\d+\]")).first


def live_digit(page: Page):
    return page.locator(".vae-live.explorer canvas.digit")


def digit_pixels(page: Page) -> list[int]:
    """The live digit's 784 grey levels, read from its canvas."""
    return live_digit(page).evaluate(PIXELS_JS)


def reported_caption(page: Page) -> str:
    return page.get_by_test_id("stMain").get_by_text(re.compile(r"^Decoded digit at")).inner_text()


def test_dragging_a_latent_slider_redraws_the_digit_during_the_drag(app):
    page = app.page
    open_page(app, nav_links(page), "Latent explorer")
    assert_page_healthy(page, "Latent explorer")
    live_digit(page).wait_for()
    page.wait_for_function(WEIGHTS_HELD_JS, timeout=RUN_TIMEOUT_MS)
    assert len(app.weights_sent) == 1 and app.weights_sent[0] > 4 * 784 * 400  # the z = 2 decoder, as float32
    caption_before = reported_caption(page)
    slider = page.locator(".vae-live input[type=range]").first
    box = slider.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2  # the thumb starts at 0, mid-track
    frames = {tuple(digit_pixels(page))}
    runs = app.finished
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + step * box["width"] / 60, y)
        page.wait_for_timeout(20)
        frames.add(tuple(digit_pixels(page)))
        if step % 8 == 1:  # a few stills of the drag, for the README's sequence
            page.locator(".vae-live.explorer").screenshot(path=screenshot_dir(REPO) / f"live-drag-{step:02d}.png")
    page.mouse.up()
    assert len(frames) >= 12, f"only {len(frames)} distinct digits drawn during a 24-step drag"
    app.wait_after(runs, RUN_TIMEOUT_MS)  # the released value reaches Python: caption and reading follow
    page.wait_for_function("(before) => ![...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                           ".some((c) => c.innerText === before)", arg=caption_before, timeout=RUN_TIMEOUT_MS)
    assert reported_caption(page) != caption_before
    assert_page_healthy(page, "Latent explorer")

    before = digit_pixels(page)
    slider.focus()
    page.keyboard.press("ArrowLeft")
    for _ in range(40):  # up to 2 s; the page draws at its next animation frame
        if digit_pixels(page) != before:
            break
        page.wait_for_timeout(50)
    assert digit_pixels(page) != before, "an arrow key on a focused slider did not redraw the digit"
    assert len(app.weights_sent) == 1, "the weights were sent again on a rerun"
    full_page_screenshot(page, screenshot_dir(REPO) / "latent-explorer-after-drag.png")


def test_hovering_the_plane_decodes_under_the_cursor_and_a_click_pins_it(app):
    page = app.page
    open_page(app, nav_links(page), "Latent explorer")
    page.wait_for_function(WEIGHTS_HELD_JS, timeout=RUN_TIMEOUT_MS)
    plane = page.locator(".vae-live canvas.plane")
    box = plane.bounding_box()
    seen = set()
    for u, v in ((0.2, 0.2), (0.8, 0.3), (0.5, 0.8), (0.3, 0.6)):
        page.mouse.move(box["x"] + u * box["width"], box["y"] + v * box["height"])
        page.wait_for_timeout(60)
        seen.add(tuple(digit_pixels(page)))
    assert len(seen) == 4, "moving over the plane did not decode each point under the cursor"
    runs = app.finished
    page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.25 * box["height"])  # z = (2, 2)
    app.wait_after(runs, RUN_TIMEOUT_MS)
    values = page.locator(".vae-live .slider-value").all_inner_texts()
    assert values == ["2.00", "2.00"], values
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                           ".some((c) => c.innerText.startsWith('Decoded digit at z = (2.00, 2.00)'))",
                           timeout=RUN_TIMEOUT_MS)


def settle(app: RunTracker, action) -> None:
    """Do ``action`` (a click) and wait for the rerun it causes to finish drawing."""
    runs = app.finished
    action()
    app.wait_after(runs, RUN_TIMEOUT_MS)


def wait_for_weights(page: Page, names: list[str]) -> None:
    page.wait_for_function("(names) => names.every((n) => globalThis.__vaeLiveDecoder?.models.has(n))", arg=names,
                           timeout=RUN_TIMEOUT_MS)


def choose(app: RunTracker, label: str, option: str) -> None:
    """Pick ``option`` in the main area's selectbox labelled ``label`` and wait for the rerun."""
    app.page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text=label).click()
    settle(app, lambda: app.page.get_by_role("option", name=option, exact=True).click())


def compare_along(app: RunTracker, axis: str) -> None:
    settle(app, lambda: app.page.get_by_test_id("stMain").get_by_test_id("stRadio").filter(
        has_text="Compare along").get_by_text(axis, exact=True).click())


def test_the_browser_decodes_every_shipped_model_as_the_server_does(app, shipped_root):
    """100 random latent points per shipped model, drawn on a canvas in the page: pixels within 2/255 of
    decode_images. Compare's walk loads them all: latent sizes, betas, architectures, Fashion-MNIST."""
    page = app.page
    open_page(app, nav_links(page), "Compare models")
    checkpoints = store.scan(shipped_root)[0]
    default = [c for c in checkpoints if c.train_config.dataset == "mnist" and c.train_config.beta == 1
               and c.model_config.architecture == "mlp"]
    wait_for_weights(page, [c.name for c in default])
    walk = page.locator(".vae-live.walk canvas.digit")
    assert walk.count() == len(default)  # one live digit per latent size on the walk
    full_page_screenshot(page, screenshot_dir(REPO) / "compare-walk.png")
    compare_along(app, "beta")  # held at z = 10, where the betas are
    compare_along(app, "architecture")  # held at z = 2: the conv z = 2
    choose(app, "Hold latent size at", "z = 20")  # and the conv z = 20
    assert walk.count() == 2
    full_page_screenshot(page, screenshot_dir(REPO) / "compare-architectures.png")
    compare_along(app, "latent size")
    choose(app, "Hold data set at", "Fashion-MNIST")
    wait_for_weights(page, [c.name for c in checkpoints])
    for seed, checkpoint in enumerate(checkpoints):
        model = store.load_model(checkpoint, device="cpu")
        z = np.random.default_rng(seed).normal(0.0, 1.5, size=(100, model.config.latent_dim)).astype(np.float32)
        drawn = np.asarray(page.evaluate(CANVAS_PIXELS_JS, [checkpoint.name, z.tolist()]), dtype=int)
        server = explore.to_uint8(model.decode_images(torch.from_numpy(z)).numpy()).reshape(100, -1).astype(int)
        assert np.abs(drawn - server).max() <= 2, (checkpoint.name, np.abs(drawn - server).max())
    # each model's weights arrived once, in one bundle per view that needed new ones: no repeats
    sizes = [len(live_decoder.weights_payload(store.load_model(c), c.name)) for c in checkpoints]
    assert len(checkpoints) == 12 and sum(app.weights_sent) == sum(sizes) + 4 * len(sizes) + 4 * len(app.weights_sent)


def choose_model(app: RunTracker, label: str) -> None:
    """Pick a model in the sidebar's selectbox and wait for the page to redraw."""
    runs = app.finished
    app.page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(
        has_text="Model").click()
    app.page.get_by_role("option", name=label, exact=True).click()
    app.wait_after(runs, RUN_TIMEOUT_MS)
    # the run above may be another one (the live view reporting its weights): wait for the model's page too
    expect(app.page.get_by_test_id("stMain").locator("h1").first).to_have_text(
        re.compile(re.escape(label) + "$"), timeout=RUN_TIMEOUT_MS)
    app.wait_quiet(1000, RUN_TIMEOUT_MS)


def heading(page: Page) -> str:
    return page.get_by_test_id("stMain").locator("h1").first.inner_text()


def test_a_larger_model_gets_kl_ordered_sliders_and_the_choice_carries_over(app):
    page = app.page
    links = nav_links(page)
    open_page(app, links, "Latent explorer")
    choose_model(app, "MNIST · MLP, z = 10")
    assert_page_healthy(page, "Latent explorer")
    assert heading(page).endswith("MLP, z = 10"), heading(page)

    slider_labels = page.locator(".vae-live .slider-label")
    expect(slider_labels).to_have_count(8, timeout=RUN_TIMEOUT_MS)  # the page redraws its sliders after the run
    labels = slider_labels.all_inner_texts()
    latent = [re.fullmatch(r"z\[(\d+)\] \(KL (\d+\.\d+) nats\)", label) for label in labels]
    latent = [match for match in latent if match]
    dims = [int(match.group(1)) for match in latent]
    assert 2 <= len(dims) == len(set(dims)) <= 10, f"expected sliders for distinct latent dimensions: {labels}"
    kl = [float(match.group(2)) for match in latent]
    assert kl == sorted(kl, reverse=True), f"sliders are not ordered by KL, most informative first: {labels}"
    full_page_screenshot(page, screenshot_dir(REPO) / "latent-explorer-z10.png")

    open_page(app, links, "Generate")
    assert_page_healthy(page, "Generate")
    assert "z = 10" in heading(page), f"the model chosen on one page did not carry over: {heading(page)!r}"
