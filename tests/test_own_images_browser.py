"""Your own images, end to end in chromium: a folder of real scans (scikit-learn's load_digits, tinted into RGB) is
registered on the Train page, a conv VAE is trained on it there by a real worker, and the pages show it in colour:
Generate's grid, the Latent explorer's live digit and the Latent map's thumbnails.

Colour is read from outside the page: screenshots of the images and canvases, whose red and blue channels differ
where a tinted scan is drawn (grey pixels have all three equal).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import wait_for
from tests.test_user_data import write_folder
from vae_core.jobs import JobQueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
NAME = "scans"
TIMEOUT_MS = 120_000


def tinted_scans(folder: Path) -> Path:
    """load_digits' first 600 scans, the ink red and the background blue, as a folder of class folders."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    grey = np.rint(loaded.images[:600] * 255 / 16).astype(np.uint8)
    return write_folder(folder, np.stack([grey, grey // 2, 255 - grey], -1), loaded.target[:600])


def colourful(png: bytes) -> float:
    """The share of pixels whose red and blue differ by over 60: a tinted picture has many, a grey one none."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return float((np.abs(pixels[..., 0] - pixels[..., 2]) > 60).mean())


def field(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(600)


def test_register_train_and_explore_your_images_in_colour(tmp_path, browser_support):
    from playwright.sync_api import sync_playwright

    support = browser_support
    source = tinted_scans(tmp_path / "source")
    root = tmp_path / "checkpoints"
    env = dict(os.environ, VAE_DATA_DIR=str(tmp_path / "no-data"), VAE_CHECKPOINT_DIR=str(root),
               VAE_TRAIN_WORKERS="1")
    shots = support.screenshot_dir(REPO)
    server = support.StreamlitServer(REPO / "dashboard" / "app.py", tmp_path, env)
    try:
        server.wait_healthy(90)
        with sync_playwright() as playwright:
            browser = support.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(f"{server.url}/train")
            page.get_by_role("heading", name="Train new models").wait_for(timeout=TIMEOUT_MS)

            # Register the folder from its path, at 16 x 16.
            form = page.get_by_test_id("stForm")
            form.get_by_label("Name", exact=True).fill(NAME)
            form.get_by_label("Folder or .npz on this machine", exact=True).fill(str(source))
            form.get_by_label("Side (pixels)", exact=True).fill("16")
            form.get_by_role("button", name="Register").click()
            page.get_by_text(f"Registered {NAME}: 500 train and 100 test images").wait_for(timeout=TIMEOUT_MS)

            # Train a conv VAE on it from the form (a click outside the registration form first: the select opens
            # on the next click only once the form's button has let go of the focus).
            page.get_by_role("heading", name="Train new models").click()
            page.get_by_test_id("stSelectbox").filter(has_text="Data set").click()
            page.get_by_role("option", name=NAME).click()
            page.wait_for_timeout(800)
            page.get_by_test_id("stSelectbox").filter(has_text="Architecture").click()
            page.get_by_role("option", name="Conv").click()
            page.wait_for_timeout(800)
            field(page, "Latent sizes", "2")
            field(page, "Epochs", "4")
            field(page, "Batch size", "32")
            page.get_by_text("Compute the t-SNE and UMAP maps and the metrics after training").click()
            page.get_by_role("button", name="Train", exact=True).click()
            queue = JobQueue(root)
            wait_for(lambda: [job.status for job in queue.jobs()] == ["done"], 300, "the job to finish")
            [job] = queue.jobs()
            assert (job.model_config.channels, job.model_config.side) == (3, 16)
            support.full_page_screenshot(page, shots / "own-images-train.png")

            # Generate: the grid of samples is in colour.
            page.goto(f"{server.url}/generate")
            grid = page.get_by_test_id("stImage").first
            grid.wait_for(timeout=TIMEOUT_MS)
            assert colourful(grid.screenshot(path=shots / "own-images-generate.png")) > 0.2

            # The Latent explorer's live picture is in colour, drawn in the page.
            page.goto(f"{server.url}/explorer")
            live = page.locator(".vae-live.explorer canvas.digit")
            live.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(1500)
            assert colourful(live.screenshot(path=shots / "own-images-explorer.png")) > 0.2

            # The Latent map's thumbnail under the cursor is in colour.
            page.goto(f"{server.url}/latent-map")
            page.wait_for_function("() => (globalThis.__vaeCanvas?.sprites.size ?? 0) > 0", timeout=TIMEOUT_MS)
            page.wait_for_function("() => globalThis.__vaeCanvas.screenPoint(0) !== null", timeout=TIMEOUT_MS)
            page.mouse.move(*page.evaluate("() => globalThis.__vaeCanvas.screenPoint(0)"))
            thumb = page.locator(".vae-canvas.map .thumb canvas")
            thumb.wait_for(state="visible", timeout=10_000)
            assert colourful(thumb.screenshot(path=shots / "own-images-thumbnail.png")) > 0.2
            browser.close()
    finally:
        server.stop()
