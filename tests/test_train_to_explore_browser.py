"""From Train to explorable, in chromium with real processes, on fake MNIST large enough for a slow t-SNE.

One story: a job is queued from the Train page; its card shows the latent space forming epoch by
epoch; the server's whole process group is killed with SIGKILL and the job goes on; a new server
shows the model explorable within 2 s of its last epoch (its quick maps saved); a Latent map
tab opened on t-SNE says "t-SNE: computing" and then draws the map without a reload; "Open in
the explorer" opens the model in the explorer; and the replay of a shipped model plays.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import wait_for, write_fake_mnist
from tests.test_train_browser import open_train_page
from vae_core import store
from vae_core.jobs import JobQueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
EPOCHS = 40  # with batch size 16 on 3,000 fake images: long enough to watch and to kill the server mid-run
# The replay maps on the page: the title of each plotly figure that shows one ("epoch 3"; the theme bolds it).
REPLAY_TITLES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map((plot) => (plot.layout?.title?.text ?? '').replace(/<[^>]+>/g, ''))
  .filter((title) => /^epoch \\d+$/.test(title))"""
# The latent map canvases: the model and the projection each draws, once drawn.
MAPS_JS = """() => [...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
  .flatMap((host) => [...host.shadowRoot.querySelectorAll('[data-view][data-model]')])
  .filter((root) => root.dataset.drawn)
  .map((root) => ({model: root.dataset.model, method: root.dataset.method ?? ''}))"""


@pytest.fixture
def support(browser_support):
    return browser_support


def replay_epoch(page) -> int:
    titles = page.evaluate(REPLAY_TITLES_JS)
    return max((int(title.split()[1]) for title in titles), default=-1)


def queue_a_job(page, url: str) -> None:
    """z = 2, EPOCHS epochs, batch 16, maps on (the default)."""
    open_train_page(page, url)
    latent = page.get_by_role("textbox", name="Latent sizes")
    latent.fill("2")
    latent.press("Enter")
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill(str(EPOCHS))
    epochs.press("Enter")
    page.get_by_text(f"will train, {EPOCHS} epochs").first.wait_for(timeout=30_000)
    batch = page.get_by_role("spinbutton", name="Batch size")
    batch.fill("16")
    batch.press("Enter")
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Train", exact=True).click()


def test_a_job_becomes_explorable_at_once_and_its_maps_follow_without_a_reload(tmp_path, support):
    from playwright.sync_api import sync_playwright

    data = write_fake_mnist(tmp_path / "data", n_train=3000, n_test=5000)
    root = tmp_path / "checkpoints"
    env = dict(os.environ, VAE_DATA_DIR=str(data), VAE_CHECKPOINT_DIR=str(root), VAE_TRAIN_WORKERS="1")
    shots = support.screenshot_dir(REPO)
    queue = JobQueue(root)
    server = support.StreamlitServer(REPO / "dashboard" / "app.py", tmp_path, env)
    try:
        server.wait_healthy(90)
        with sync_playwright() as playwright:
            browser = support.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            queue_a_job(page, server.url)
            # The card's replay map grows: epoch 0 (the initialisation) is not the end of it.
            wait_for(lambda: replay_epoch(page) >= 1, 180, "the card's replay map at epoch 1")
            first = replay_epoch(page)
            wait_for(lambda: replay_epoch(page) >= first + 1, 120, "the replay map to grow by an epoch")
            support.full_page_screenshot(page, shots / "train-replay-growing.png")
            browser.close()

        # A closed terminal: SIGKILL to the server's process group. The worker has a session of its own.
        (job,) = queue.jobs()
        trained = len(queue.job(job.id).history)
        server.kill_group()
        wait_for(lambda: len(queue.job(job.id).history) > trained, 120, "the job to go on training with no server")

        server = support.StreamlitServer(REPO / "dashboard" / "app.py", tmp_path, env)
        server.wait_healthy(90)
        with sync_playwright() as playwright:
            browser = support.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.goto(f"{server.url}/train")
            opener = page.get_by_role("button", name="Open in the explorer")
            opener.wait_for(timeout=300_000)
            folder = root / job.name
            saved = (folder / "model.safetensors").stat().st_mtime
            explorable = (folder / store.PROJECTIONS_FILE).stat().st_mtime
            assert explorable - saved <= 2.0, f"the quick maps came {explorable - saved:.1f} s after the weights"

            # A second tab asks for the t-SNE map while it is being computed; it appears there without a reload.
            maps_tab = browser.new_page(viewport={"width": 1300, "height": 900})
            maps_tab.goto(f"{server.url}/latent-map?model={job.name}&map=t-SNE")
            maps_tab.get_by_text(re.compile(r"t-SNE: computing")).wait_for(timeout=60_000)
            support.full_page_screenshot(maps_tab, shots / "latent-map-tsne-computing.png")
            wait_for(lambda: {"model": job.name, "method": "t-SNE"} in maps_tab.evaluate(MAPS_JS), 300,
                     "the t-SNE map to be drawn without a reload")
            assert "t-SNE: computing" not in maps_tab.inner_text("[data-testid='stMain']")
            support.full_page_screenshot(maps_tab, shots / "latent-map-tsne-arrived.png")

            opener.click()
            page.wait_for_url(re.compile(r"/explorer(\?|$)"), timeout=30_000)  # its only model: no model= needed
            try:  # the worker computes UMAP meanwhile: on a busy 2-core host the first run can take a while
                wait_for(lambda: any(m["model"] == job.name for m in page.evaluate(MAPS_JS)), 120,
                         "the explorer to draw the new model")
            except AssertionError as error:
                raise AssertionError(f"{error}; the page says: {page.inner_text('body')[:1500]!r}") from None
            finally:
                support.full_page_screenshot(page, shots / "train-opened-in-explorer.png")
            assert "z = 2" in page.locator("h1").first.inner_text()  # the page is titled by the new model
            wait_for(lambda: queue.job(job.id).status == "done", 300, "the job to end")
            assert queue.job(job.id).message.startswith("trained, test loss")
            browser.close()
    finally:
        server.stop()
        print(server.logs())


# The replay player's epoch (its slider's active step, which plotly moves as it animates) and the opacity of its
# element container (Streamlit greys out what a rerun in flight may replace).
PLAYER_JS = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find((p) => p.layout?.sliders?.length);
  if (!plot) return null;
  const container = plot.closest('[data-testid=stElementContainer]');
  return {epoch: plot.layout.sliders[0].active, opacity: Number(getComputedStyle(container).opacity)};
}"""


def test_the_replay_of_a_shipped_model_plays_in_the_page(support):
    from playwright.sync_api import sync_playwright

    env = dict(os.environ, VAE_CHECKPOINT_DIR=str(REPO / "checkpoints"))
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    with support.running_server(REPO / "dashboard" / "app.py", logs, env) as server, sync_playwright() as playwright:
        browser = support.launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(f"{server.url}/training?model=mnist-z2-h400-e12-b128-lr0.001-s0")
        page.get_by_text("▶ Play").wait_for(timeout=90_000)
        assert page.evaluate(PLAYER_JS)["epoch"] == 12  # it opens on the trained model
        page.get_by_text("▶ Play").click()
        seen = []

        def played() -> bool:
            seen.append(page.evaluate(PLAYER_JS))
            return seen[-1]["epoch"] >= 4

        wait_for(played, 30, "the replay to play from the initialisation")
        epochs = [state["epoch"] for state in seen]
        assert 0 in epochs[:3] and sorted(set(epochs)) == sorted(set(epochs), key=epochs.index)  # 0, 1, 2, ... on
        assert min(state["opacity"] for state in seen) == 1  # played in the page: nothing greyed out
        support.full_page_screenshot(page, support.screenshot_dir(REPO) / "training-replay-playing.png")
        browser.close()
