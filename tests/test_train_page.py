"""The Train page in AppTest: the form's checks, each combination's plan, the queue and its controls.

VAE_TRAIN_WORKERS=0 keeps the page from starting worker processes, so the queue stays as the
test leaves it (tests/test_jobs.py and tests/test_train_browser.py run real workers).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.train.form import seconds_per_epoch
from tests.conftest import TINY_TRAIN
from vae_core.config import ModelConfig, TrainConfig
from vae_core.jobs import MAX_QUEUED, JobQueue
from vae_core.map_progress import record_time

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
TIMEOUT = 120


@pytest.fixture
def root(tmp_path, tiny_checkpoint_root) -> Path:
    """A writable copy of the tiny checkpoints (z = 2 and 3, h16, 2 epochs, batch 32)."""
    return Path(shutil.copytree(tiny_checkpoint_root, tmp_path / "checkpoints"))


def open_train_page(monkeypatch, root: Path, data_dir: Path) -> AppTest:
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("VAE_TRAIN_WORKERS", "0")
    app = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    app.switch_page("train/page.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def fill(app: AppTest, latent: str = "2 4", hidden: int = 16, epochs: int = 2, batch: int = 32) -> AppTest:
    """The tiny checkpoints' config, with the given latent sizes."""
    app.text_input(key="train_latent_sizes").set_value(latent)
    app.number_input(key="train_hidden").set_value(hidden)
    app.number_input(key="train_epochs").set_value(epochs)
    app.number_input(key="train_batch").set_value(batch)
    app.checkbox(key="train_maps").set_value(False)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def plans(app: AppTest) -> dict[str, str]:
    return {m.value.split("**")[1]: m.value.split("**: ")[1] for m in app.markdown if m.value.startswith("- **z = ")}


def errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("train_latent_sizes", "2 x", "latent size must be a positive integer, got 'x': pass --latent-dims 1 or more"),
    ("train_latent_sizes", "0", "latent size must be a positive integer, got 0: pass --latent-dims 1 or more"),
    ("train_epochs", -1, "epochs must be a positive integer, got -1: pass --epochs 1 or more"),
    ("train_lr", 0.0, "learning rate must be a positive number, got 0.0: try --lr 0.001"),
    ("train_beta", -2.0, "KL weight beta must be a positive number, got -2.0: try --beta 1"),
    ("train_hidden", 0, "hidden width must be a positive integer, got 0: pass --hidden-dim 1 or more"),
    ("train_batch", 100_000, "batch size 100000 is larger than the 256 training images: pass a smaller --batch-size"),
])
def test_a_bad_field_shows_the_clis_message_and_nothing_can_be_queued(monkeypatch, root, fake_mnist_dir, key,
                                                                      value, message):
    app = fill(open_train_page(monkeypatch, root, fake_mnist_dir))
    widget = app.text_input(key=key) if key == "train_latent_sizes" else app.number_input(key=key)
    widget.set_value(value).run()
    assert errors(app) == [message]
    assert app.button(key="train_submit").disabled
    assert not JobQueue(root).exists()


def test_each_combination_says_cached_or_how_long_it_will_train(monkeypatch, root, fake_mnist_dir):
    app = fill(open_train_page(monkeypatch, root, fake_mnist_dir), latent="2 4")
    found = plans(app)
    assert found["z = 2"] == "cached, will be reused"
    assert found["z = 4"].startswith("will train: about ")
    # The estimate is the median epoch of the stored models nearest in width, batch and then latent size.
    assert "training (2 epochs at " in found["z = 4"]
    assert "the median epoch of 2 stored model(s): z = 3, z = 2" in found["z = 4"]
    assert found["z = 4"].endswith("explorable as soon as training ends")
    assert not app.button(key="train_submit").disabled


def test_the_plan_adds_the_maps_and_metrics_as_timed_on_this_machine(monkeypatch, root, fake_mnist_dir):
    app = fill(open_train_page(monkeypatch, root, fake_mnist_dir), latent="4")
    app.checkbox(key="train_maps").set_value(True).run()
    assert "then its maps and metrics (not yet timed on this machine)" in plans(app)["z = 4"]
    for step, seconds in (("t-SNE", 6.0), ("UMAP", 3.0), ("metrics", 5.0), ("t-SNE", 90.0), ("t-SNE", 7.0)):
        record_time(root, step, seconds)  # one slow t-SNE among three: the median (7 s) is what counts
    app.run()
    assert "training (2 epochs at " in plans(app)["z = 4"]
    # UMAP (3 s) runs beside t-SNE (7 s, the longer): 7 s of maps, then 5 s of metrics
    assert ", then about 12 s of maps and metrics; explorable as soon as training ends" in plans(app)["z = 4"]
    record_time(root, "training digits", 4.0)  # placed on the maps before the metrics
    app.run()
    assert ", then about 16 s of maps and metrics; explorable as soon as training ends" in plans(app)["z = 4"]


def test_one_slow_run_does_not_skew_the_epoch_estimate():
    def stored(latent: int, seconds: list[float]):
        history = [{"seconds": s} for s in seconds]
        return SimpleNamespace(model_config=ModelConfig(latent_dim=latent), train_config=TrainConfig(),
                               history=history)

    usual = [stored(2, [1.3, 1.4, 1.5]), stored(5, [1.4, 1.3, 1.6]), stored(10, [1.5, 1.4, 1.3])]
    slow = stored(3, [17.0, 16.0, 18.0])  # the nearest in latent size, trained on a busy machine
    per_epoch, source = seconds_per_epoch(usual + [slow], ModelConfig(latent_dim=3), TrainConfig())
    assert 1.3 <= per_epoch <= 1.6
    assert source.startswith("the median epoch of 4 stored model(s): z = 3")


def test_the_epoch_estimate_takes_this_machines_runs_before_the_shipped_ones():
    from vae_core.store import machine_id

    def stored(latent: int, seconds: list[float], info: dict):
        return SimpleNamespace(model_config=ModelConfig(latent_dim=latent), train_config=TrainConfig(),
                               history=[{"seconds": s} for s in seconds], info=info)

    shipped = [stored(2, [3.3, 3.4, 3.2], {"machine": "another", "created": "2026-12-06T04:37:01+00:00"}),
               stored(5, [3.4, 3.3, 3.5], {"created": "2026-12-05T04:37:01+00:00"})]
    mine = stored(10, [2.2, 2.3, 2.4], {"machine": machine_id(), "created": "2026-12-06T11:00:00+00:00"})
    per_epoch, source = seconds_per_epoch([*shipped, mine], ModelConfig(latent_dim=2), TrainConfig())
    assert per_epoch == pytest.approx(2.3) and source == "the median epoch of 1 stored model(s): z = 10"
    per_epoch, source = seconds_per_epoch(shipped, ModelConfig(latent_dim=2), TrainConfig())  # none from here
    assert per_epoch == pytest.approx(3.35) and source.endswith("z = 2, z = 5")


def test_train_queues_only_what_needs_training_and_a_second_press_adds_nothing(monkeypatch, root, fake_mnist_dir):
    app = fill(open_train_page(monkeypatch, root, fake_mnist_dir), latent="2 4 5")
    app.button(key="train_submit").click().run()
    jobs = JobQueue(root).jobs()
    assert [job.model_config.latent_dim for job in jobs] == [4, 5]
    assert all(job.train_config == TrainConfig(epochs=2, batch_size=32) for job in jobs)
    assert not jobs[0].maps  # the checkbox was cleared
    cards = [m.value for m in app.markdown if m.value.startswith("**mnist · z = ")]
    assert cards[0].endswith("waiting, place 1 in the queue") and cards[1].endswith("waiting, place 2 in the queue")
    assert plans(app)["z = 5"] == "in the queue, place 2"
    assert app.button(key="train_submit").disabled  # nothing left to train
    # A second tab with the same config: the same jobs, not new ones.
    other = fill(open_train_page(monkeypatch, root, fake_mnist_dir), latent="4 5")
    assert plans(other) == {"z = 4": "in the queue, place 1", "z = 5": "in the queue, place 2"}
    assert len(JobQueue(root).jobs()) == 2


def test_a_full_queue_refuses_more_and_keeps_what_it_holds(monkeypatch, root, fake_mnist_dir):
    queue = JobQueue(root)
    for latent_dim in range(10, 10 + MAX_QUEUED):
        queue.submit(ModelConfig(latent_dim=latent_dim, hidden_dim=16), TINY_TRAIN, str(fake_mnist_dir))
    app = fill(open_train_page(monkeypatch, root, fake_mnist_dir), latent="4")
    app.button(key="train_submit").click().run()
    assert any(e.startswith("the queue already holds 20 waiting jobs") for e in errors(app))
    assert queue.count("queued") == MAX_QUEUED
    assert 4 not in {job.model_config.latent_dim for job in queue.jobs()}


def test_without_the_data_set_the_page_says_where_to_put_it_and_queues_nothing(monkeypatch, root, empty_data):
    app = fill(open_train_page(monkeypatch, root, empty_data), latent="4")
    warning = " ".join(w.value for w in app.warning)
    assert "MNIST is not in" in warning and "VAE_DATA_DIR" in warning
    assert app.button(key="train_submit").disabled
    assert not JobQueue(root).exists()


def running_job(root: Path, data_dir: Path) -> int:
    """A job as a worker leaves it mid-run: epoch 2 of 3 in progress, one epoch of history."""
    queue = JobQueue(root)
    job, _ = queue.submit(ModelConfig(latent_dim=4, hidden_dim=16), TrainConfig(epochs=3), str(data_dir))
    queue.claim(slot=0)
    queue.report_history(job.id, [{"epoch": 1, "train_loss": 300.0, "train_recon": 290.0, "train_kl": 10.0,
                                   "test_loss": 290.0, "test_recon": 281.0, "test_kl": 9.0, "seconds": 4.0}],
                         "epoch 1 of 3: train loss 300.00, test loss 290.00 nats")
    queue.report_step(job.id, epoch=2, step=5, steps=10, running_loss=250.5, step_seconds=0.2)
    return job.id


def test_a_running_job_shows_progress_loss_eta_and_its_curve_and_can_be_cancelled(monkeypatch, root,
                                                                                 fake_mnist_dir):
    from vae_core import worker

    monkeypatch.setattr(worker, "live_slots", lambda root: {0})  # its worker is alive
    job_id = running_job(root, fake_mnist_dir)
    app = open_train_page(monkeypatch, root, fake_mnist_dir)
    (bar,) = app.get("progress")
    assert bar.value == 50  # 1.5 of 3 epochs
    assert bar.text == "epoch 2 of 3 · step 5 of 10 · running loss 250.50 nats · about 6 s left"
    assert len(app.get("plotly_chart")) == 1
    app.button(key=f"train_cancel_{job_id}").click().run()
    assert JobQueue(root).job(job_id).cancel_requested
    assert "Cancelling at the next step…" in [c.value for c in app.caption]


def test_a_job_whose_worker_died_waits_again_to_resume_with_its_last_line(monkeypatch, root, fake_mnist_dir):
    job_id = running_job(root, fake_mnist_dir)  # no worker holds slot 0
    app = open_train_page(monkeypatch, root, fake_mnist_dir)
    job = JobQueue(root).job(job_id)
    assert job.status == "queued" and job.recoveries == 1
    assert ("its worker died; it resumes from its last completed epoch (last log line: epoch 1 of 3: train loss "
            "300.00, test loss 290.00 nats)") in [c.value for c in app.caption]
    cards = [m.value for m in app.markdown if m.value.startswith("**mnist · z = 4")]
    assert cards == [cards[0]] and cards[0].endswith("waiting, place 1 in the queue"), cards


def test_a_job_whose_worker_keeps_dying_fails_with_its_last_line_and_retry_queues_it_again(monkeypatch, root,
                                                                                         fake_mnist_dir):
    from vae_core.jobs import MAX_RECOVERIES

    job_id = running_job(root, fake_mnist_dir)  # no worker holds slot 0
    queue = JobQueue(root)
    with queue._transaction() as db:  # it has been resumed as often as the queue allows
        db.execute("UPDATE jobs SET recoveries = ? WHERE id = ?", (MAX_RECOVERIES, job_id))
    app = open_train_page(monkeypatch, root, fake_mnist_dir)
    assert (f"its worker died {MAX_RECOVERIES + 1} times; last log line: epoch 1 of 3: train loss 300.00, "
            "test loss 290.00 nats") in errors(app)
    fill(app, latent="4", epochs=3, batch=128)
    app.button(key=f"train_retry_{job_id}").click().run()
    assert JobQueue(root).job(job_id).status == "queued"
    # The card and the form above it (outside the job list's fragment) both show the job waiting again.
    cards = [m.value for m in app.markdown if m.value.startswith("**mnist · z = 4")]
    assert cards == [cards[0]] and cards[0].endswith("waiting, place 1 in the queue"), cards
    assert plans(app) == {"z = 4": "in the queue, place 1"}


def test_a_queue_file_that_is_not_a_database_is_one_line_on_the_page_not_a_crash(monkeypatch, root,
                                                                                   fake_mnist_dir):
    queue = JobQueue(root)
    queue.path.parent.mkdir(parents=True)
    queue.path.write_bytes(b"this is not an SQLite database" * 10)
    app = open_train_page(monkeypatch, root, fake_mnist_dir)
    problems = [e for e in errors(app) if e.startswith(f"the training queue {queue.path} cannot be used")]
    assert problems and all("delete" in p and "\n" not in p for p in problems)
    fill(app, latent="4")
    app.button(key="train_submit").click().run()
    assert not app.exception
    app.switch_page("overview/page.py").run()  # every other page still works
    assert not app.exception and app.sidebar.error[0].value.startswith("the training queue")


def test_the_job_lists_state_sees_a_second_finish_of_a_job_that_was_trained_again():
    from types import SimpleNamespace

    from dashboard.train.state import JobListState

    def job(status: str, finished_at: float | None):
        return SimpleNamespace(id=7, status=status, finished_at=finished_at)

    state = JobListState()
    assert not state.newly_finished([job("cancelled", 100.0)])  # the first look shows, it does not announce
    assert not state.newly_finished([job("cancelled", 100.0)])
    assert not state.newly_finished([job("queued", None)])  # Train again keeps the job's id
    assert state.newly_finished([job("done", 200.0)])
    state.error = "the queue already holds 20 waiting jobs"
    assert state.take_error() == "the queue already holds 20 waiting jobs" and state.take_error() is None


def test_a_job_past_training_shows_its_maps_as_their_own_step_and_opens_in_the_explorer(monkeypatch, root,
                                                                                       fake_mnist_dir):
    from vae_core import worker
    from vae_core.map_progress import MapWork

    monkeypatch.setattr(worker, "live_slots", lambda root: {0})  # its worker is alive
    job_id = running_job(root, fake_mnist_dir)
    queue = JobQueue(root)
    name = queue.job(job_id).name
    queue.report_history(job_id, [{"epoch": e, "train_loss": 300.0, "test_loss": 290.0, "seconds": 1.0}
                                  for e in (1, 2, 3)], "epoch 3 of 3")
    queue.report_phase(job_id, "maps", f"{name}: saved; computing its latent maps")
    with MapWork(root, name) as work:  # what the worker holds while it computes the slow maps
        work.step("t-SNE", 0.5)
        app = open_train_page(monkeypatch, root, fake_mnist_dir)
    (bar,) = app.get("progress")
    assert bar.value == 50  # half of t-SNE, which spans both slow maps (UMAP runs beside it)
    assert bar.text == "Maps: t-SNE: computing, 50% (PCA ready; UMAP beside it, then metrics)"
    assert any(m.value.startswith(":material/check: Trained: 3 epochs, test loss 290.00 nats. It can be explored")
               for m in app.markdown)
    assert not [b for b in app.button if b.key == f"train_cancel_{job_id}"]  # the model is saved: nothing to cancel
    assert app.button(key=f"train_open_{job_id}").label == "Open in the explorer"
