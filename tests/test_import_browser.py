"""Import from the Train page, in chromium with real processes and real MNIST.

A hostile upload (a pickle whose code would create a file) is one line and leaves nothing; a state_dict of
the pytorch/examples tutorial's VAE is uploaded, imported in the background, opened in the explorer (which
decodes it live), ends with its test loss and every map cached, and stands beside our MLP of the same
latent size on Compare.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import torch

from tests import pytorch_examples_vae as tutorial
from tests.conftest import wait_for
from tests.test_import import RunsCodeOnLoad
from tests.test_train_browser import open_train_page
from tests.test_train_to_explore_browser import MAPS_JS
from vae_core import store
from vae_core.classifier import classifier_name

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent


def import_file(page):
    """The import's file input (the page's other uploader, in the "Your own images" form, takes data sets)."""
    return page.get_by_role("region", name=re.compile("^State dict")).locator("input[type=file]")


def upload(page, path: Path, name: str | None = None) -> None:
    import_file(page).set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for(timeout=30_000)  # the uploader lists the file
    if name is not None:
        box = page.get_by_role("textbox", name="Name (optional)")
        box.fill(name)
        box.press("Enter")
    page.get_by_role("button", name="Import").click()


def test_an_upload_is_refused_in_one_line_or_imported_and_explored(tmp_path, browser_support, mnist_dir,
                                                                     shipped_root):
    from playwright.sync_api import sync_playwright

    support = browser_support
    root = tmp_path / "checkpoints"
    root.mkdir()
    shutil.copytree(shipped_root / classifier_name("mnist"), root / classifier_name("mnist"))  # for the test loss
    ours = "mnist-z2-h400-e12-b128-lr0.001-s0"  # our MLP of the same latent size and width
    shutil.copytree(shipped_root / ours, root / ours)
    marker, evil = tmp_path / "marker", tmp_path / "evil.pt"
    torch.save({"fc1.weight": RunsCodeOnLoad(marker)}, evil)
    torch.manual_seed(0)
    good = tmp_path / "vae.pt"
    torch.save(tutorial.VAE(hidden=400, latent=2).state_dict(), good)  # 2.5 MB: over the pictures' cap
    env = dict(os.environ, VAE_DATA_DIR=str(mnist_dir), VAE_CHECKPOINT_DIR=str(root))
    shots = support.screenshot_dir(REPO)
    with support.running_server(REPO / "dashboard" / "app.py", tmp_path, env) as server, \
            sync_playwright() as playwright:
        browser = support.launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        open_train_page(page, server.url)

        upload(page, evil)
        alert = page.get_by_text(re.compile(r"evil\.pt holds a Python object .* so it was not loaded"))
        alert.wait_for(timeout=60_000)
        assert not marker.exists() and sorted(p.name for p in root.iterdir()) == [".imports",
                                                                                 classifier_name("mnist"), ours]
        assert not list((root / ".imports").iterdir())  # nothing kept of a refused file
        support.full_page_screenshot(page, shots / "train-import-refused.png")

        upload(page, good, name="my-tutorial-vae")
        opener = page.get_by_role("button", name="Open in the explorer")
        opener.wait_for(timeout=120_000)
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text(re.compile(r"^2 checkpoint\(s\) in")).wait_for(timeout=30_000)  # listed, no reload
        assert not import_file(page).input_value()  # the uploader is empty again
        support.full_page_screenshot(page, shots / "train-import-running.png")
        opener.click()
        page.wait_for_url(re.compile(r"/explorer"), timeout=30_000)
        wait_for(lambda: any(m["model"] == "my-tutorial-vae" for m in page.evaluate(MAPS_JS)), 120,
                 "the explorer to decode the imported model")
        assert "(imported)" in page.locator("h1").first.inner_text()

        page.goto(f"{server.url}/train")
        page.get_by_text(re.compile(r"my-tutorial-vae: imported in \d")).wait_for(timeout=400_000)
        support.full_page_screenshot(page, shots / "train-import-done.png")

        page.goto(f"{server.url}/compare?axis=source&map=UMAP")  # the import beside our z = 2 MLP
        wait_for(lambda: {"my-tutorial-vae", ours} <= {m["model"] for m in page.evaluate(MAPS_JS)}, 120,
                 "Compare to draw the import's column and ours")
        for title in ("trained here", "imported: my-tutorial-vae"):
            page.get_by_role("heading", name=title).wait_for(timeout=30_000)
        support.full_page_screenshot(page, shots / "compare-import-beside-ours.png")
        browser.close()
    checkpoint = store.read_checkpoint(root / "my-tutorial-vae")
    assert checkpoint.imported and checkpoint.source["file"] == "vae.pt"
    assert store.final_test_losses(checkpoint)["test_loss"] > 0
    arrays = store.read_projections(checkpoint)
    assert {"pca", "tsne", "umap"} <= set(arrays) and len(arrays["labels"]) == 10_000
