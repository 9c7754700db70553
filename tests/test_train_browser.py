"""The Train page with real processes: `streamlit run`, its worker and chromium, on small fake MNIST.

One story, in the order a user lives it: queue two jobs from the form, watch the first one's
curve grow, cancel it, kill the server's whole process group while the second one trains (as a
closed terminal would), see the second job go on training with no server, start the server again,
and see the job finish and appear in the sidebar. Screenshots go to artifacts/screenshots (or $VAE_SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import wait_for, write_fake_mnist
from vae_core.jobs import JobQueue

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
EPOCHS = 30  # with batch size 16 on 3,000 fake images: long enough to act on a job while it trains
CURVE_POINTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .map((plot) => plot.data?.[0]?.x?.length ?? 0)"""


def job_of(queue: JobQueue, latent_dim: int):
    return next(job for job in queue.jobs() if job.model_config.latent_dim == latent_dim)


def open_train_page(page, url: str) -> None:
    page.goto(f"{url}/train")
    page.get_by_role("heading", name="Train new models").wait_for(timeout=90_000)


def fill_form(page) -> None:
    """Latent sizes 2 and 3, EPOCHS epochs, batch size 16, no maps; each change waits for the page to show it."""
    latent = page.get_by_role("textbox", name="Latent sizes")
    latent.fill("2 3")
    latent.press("Enter")
    page.get_by_text("z = 3", exact=True).wait_for(timeout=30_000)
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill(str(EPOCHS))
    epochs.press("Enter")
    page.get_by_text(f"will train, {EPOCHS} epochs").first.wait_for(timeout=30_000)
    batch = page.get_by_role("spinbutton", name="Batch size")
    batch.fill("16")
    batch.press("Enter")
    page.wait_for_timeout(1000)
    # the maps are tested elsewhere
    page.get_by_text("Compute the t-SNE and UMAP maps and the metrics after training").click()
    page.wait_for_function("() => !document.querySelector('input[type=checkbox]').checked")


def test_queue_watch_cancel_kill_the_server_restart_finish(tmp_path, browser_support):
    from playwright.sync_api import sync_playwright

    support = browser_support
    data = write_fake_mnist(tmp_path / "data", n_train=3000, n_test=300)
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
            open_train_page(page, server.url)
            fill_form(page)
            page.get_by_role("button", name="Train", exact=True).click()

            # The first job's curve grows while the page is left alone (the fragment polls).
            wait_for(lambda: max(page.evaluate(CURVE_POINTS_JS), default=0) >= 2, 120, "a curve of 2 epochs")
            assert job_of(queue, 2).train_config.batch_size == 16
            points_before = max(page.evaluate(CURVE_POINTS_JS))
            support.full_page_screenshot(page, shots / "train-curve-early.png")
            wait_for(lambda: max(page.evaluate(CURVE_POINTS_JS), default=0) >= points_before + 3, 120,
                     "the curve to grow by 3 epochs")
            support.full_page_screenshot(page, shots / "train-curve-later.png")
            progress = page.locator("[data-testid='stProgress']").first.inner_text()
            assert re.search(rf"epoch \d+ of {EPOCHS} · step \d+ of 188 · running loss [\d.]+ nats · "
                             r"about \d+ (s|min) left", progress), progress
            assert "waiting, place 1 in the queue" in page.inner_text("[data-testid='stMain']")

            # Cancel the running job: its epochs stay as a resume point; the next job starts.
            page.get_by_role("button", name="Cancel").first.click()
            wait_for(lambda: job_of(queue, 2).status == "cancelled", 60, "z = 2 to be cancelled")
            page.get_by_text(re.compile(r"cancelled; epochs 1-\d+ are kept as a resume point")).wait_for(
                timeout=30_000)
            wait_for(lambda: len(job_of(queue, 3).history) >= 2, 120, "z = 3 to train 2 epochs")
            browser.close()

        # SIGKILL to the server's process group: the worker has a session of its own and keeps training.
        trained_before = len(job_of(queue, 3).history)
        server.kill_group()
        wait_for(lambda: len(job_of(queue, 3).history) >= trained_before + 2, 120,
                 "z = 3 to go on training with no server")
        assert job_of(queue, 3).status == "running"

        server = support.StreamlitServer(REPO / "dashboard" / "app.py", tmp_path, env)
        server.wait_healthy(90)
        with sync_playwright() as playwright:
            browser = support.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            open_train_page(page, server.url)  # the running worker is left alone: no second one starts
            done = wait_for(lambda: (job := job_of(queue, 3)).status == "done" and job, 600, "z = 3 to finish")
            assert [row["epoch"] for row in done.history] == list(range(1, EPOCHS + 1))
            log = (root / ".jobs" / "worker.log").read_text()
            assert "resuming after epoch" not in log  # one worker, never interrupted
            # The finished model appears in the sidebar without a restart.
            sidebar = page.locator("[data-testid='stSidebar']")
            sidebar.get_by_text("1 checkpoint(s)").wait_for(timeout=30_000)
            page.get_by_text(re.compile(r"trained, test loss [\d.]+ nats")).wait_for(timeout=30_000)
            support.full_page_screenshot(page, shots / "train-finished.png")
            browser.close()
    finally:
        server.stop()
        print(server.logs())


def card_state(page, latent_dim: int) -> str:
    """What the job card of ``latent_dim`` says it is doing: the text after its description's last ' · '."""
    heading = page.locator("[data-testid='stMain'] strong", has_text=re.compile(rf"· z = {latent_dim} ·")).first
    line = heading.locator("xpath=ancestor::p[1]").inner_text()
    return line.rsplit(" · ", 1)[-1].strip()


def test_train_again_reaches_done_and_the_sidebar_without_a_reload(tmp_path, browser_support):
    """Train a tiny job, cancel it, press Train again: the card follows the queue to "done" by itself,
    and the sidebar counts the new checkpoint, without a reload (the fragment polls again)."""
    from playwright.sync_api import sync_playwright

    support = browser_support
    data = write_fake_mnist(tmp_path / "data", n_train=1000, n_test=200)
    root = tmp_path / "checkpoints"
    env = dict(os.environ, VAE_DATA_DIR=str(data), VAE_CHECKPOINT_DIR=str(root), VAE_TRAIN_WORKERS="1")
    queue = JobQueue(root)
    server = support.StreamlitServer(REPO / "dashboard" / "app.py", tmp_path, env)
    try:
        server.wait_healthy(90)
        with sync_playwright() as playwright:
            browser = support.launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            open_train_page(page, server.url)
            sidebar = page.locator("[data-testid='stSidebar']")
            sidebar.get_by_text("No checkpoints in").wait_for(timeout=30_000)
            latent = page.get_by_role("textbox", name="Latent sizes")
            latent.fill("2")
            latent.press("Enter")
            epochs = page.get_by_role("spinbutton", name="Epochs")
            epochs.fill("4")
            epochs.press("Enter")
            page.get_by_text("will train, 4 epochs").first.wait_for(timeout=30_000)
            page.get_by_text("Compute the t-SNE and UMAP maps and the metrics after training").click()
            page.wait_for_function("() => !document.querySelector('input[type=checkbox]').checked")
            page.get_by_role("button", name="Train", exact=True).click()

            # Cancel it, waiting or running: either way it ends cancelled, with a Train again button.
            page.get_by_role("button", name="Cancel").first.click()
            wait_for(lambda: job_of(queue, 2).status == "cancelled", 60, "z = 2 to be cancelled")
            again = page.get_by_role("button", name="Train again")
            again.wait_for(timeout=30_000)
            again.click()

            # The queue finishes the job; the card and the sidebar follow within a few polls.
            wait_for(lambda: job_of(queue, 2).status == "done", 300, "the worker to finish z = 2")
            try:
                wait_for(lambda: card_state(page, 2) == "done", 20, "the card to say done")
                sidebar.get_by_text("1 checkpoint(s)").wait_for(timeout=20_000)
            except Exception as error:  # a wait that timed out: say what the page shows instead
                support.full_page_screenshot(page, support.screenshot_dir(REPO) / "train-again-stale.png")
                raise AssertionError(f"the queue says done, the card says {card_state(page, 2)!r}, "
                                     f"the sidebar says {sidebar.inner_text()!r}") from error
            page.get_by_text(re.compile(r"trained, test loss [\d.]+ nats")).wait_for(timeout=10_000)
            support.full_page_screenshot(page, support.screenshot_dir(REPO) / "train-again-done.png")
            browser.close()
    finally:
        server.stop()
        print(server.logs())
