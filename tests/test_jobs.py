"""The Train page's queue and worker on tiny fake MNIST: submission rules, progress, cancel, failures, resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import wait_for, write_fake_mnist
from vae_core import store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.jobs import MAX_QUEUED, MAX_RECOVERIES, JobQueue, QueueFull, place_in_queue
from vae_core.worker import (
    IDLE_SECONDS,
    live_slots,
    max_workers,
    recover_dead_workers_jobs,
    run_job,
    run_worker,
    spawn_workers,
    take_slot,
)

MODEL = ModelConfig(latent_dim=2, hidden_dim=16)
TRAIN = TrainConfig(epochs=3, batch_size=32)


@pytest.fixture
def queue(tmp_path) -> JobQueue:
    return JobQueue(tmp_path / "checkpoints")


def configs(latent_dim: int, **train) -> tuple[ModelConfig, TrainConfig]:
    return ModelConfig(latent_dim=latent_dim, hidden_dim=16), TrainConfig(**{"epochs": 3, "batch_size": 32, **train})


def test_submissions_keep_order_and_one_job_per_config(queue, fake_mnist_dir):
    first, note = queue.submit(*configs(2), str(fake_mnist_dir))
    assert note == "queued" and first.status == "queued"
    second, _ = queue.submit(*configs(3), str(fake_mnist_dir))
    again, note = queue.submit(*configs(2), str(fake_mnist_dir))  # a second tab, the same config
    assert (again.id, note) == (first.id, "already queued")
    jobs = queue.jobs()
    assert [job.id for job in jobs] == [first.id, second.id]
    assert [place_in_queue(jobs, job) for job in jobs] == [1, 2]


def test_the_21st_waiting_job_is_refused_and_nothing_queued_is_lost(queue, fake_mnist_dir):
    for latent_dim in range(1, MAX_QUEUED + 1):
        queue.submit(*configs(latent_dim), str(fake_mnist_dir))
    with pytest.raises(QueueFull, match="already holds 20 waiting jobs"):
        queue.submit(*configs(MAX_QUEUED + 1), str(fake_mnist_dir))
    assert queue.count("queued") == MAX_QUEUED
    assert sorted(job.model_config.latent_dim for job in queue.jobs()) == list(range(1, MAX_QUEUED + 1))


def test_reading_an_empty_queue_creates_nothing(tmp_path):
    assert JobQueue(tmp_path / "checkpoints").jobs() == []
    assert not (tmp_path / "checkpoints").exists()


def test_a_claimed_job_trains_through_runs_and_reports_its_history(queue, fake_mnist_dir):
    queue.submit(*configs(2), str(fake_mnist_dir), maps=False)
    job = queue.claim(slot=0)
    assert job.status == "running" and queue.claim(slot=0) is None
    assert run_job(queue, job) == "done"
    finished = queue.job(job.id)
    assert finished.status == "done" and finished.message.startswith("trained, test loss")
    assert [row["epoch"] for row in finished.history] == [1, 2, 3]
    assert finished.fraction_done == 1.0
    checkpoint = store.find(queue.root, *configs(2))
    assert checkpoint is not None and [row["test_loss"] for row in checkpoint.history] == [
        row["test_loss"] for row in finished.history]


def test_a_job_with_maps_places_the_training_digits_and_times_it(queue, fake_mnist_dir):
    from vae_core import train_points
    from vae_core.map_progress import typical_seconds
    from vae_core.projections import load_projections

    queue.submit(*configs(2), str(fake_mnist_dir))  # its maps and metrics follow the training
    assert run_job(queue, queue.claim(0)) == "done"
    [checkpoint] = store.scan(queue.root)[0]
    test = load_projections(checkpoint)
    placed = train_points.load(checkpoint, test)  # the 256 training digits, on the 200 test digits' maps
    assert placed is not None and train_points.complete(placed, test, confidence=False)
    assert placed["mu"].shape == (256, 2) and placed["tsne"].shape == placed["umap"].shape == (256, 2)
    assert typical_seconds(queue.root, train_points.STEP) > 0  # the Train page's plan counts it from now on


def test_a_cached_config_is_reused_not_retrained(queue, fake_mnist_dir):
    queue.submit(*configs(2), str(fake_mnist_dir), maps=False)
    run_job(queue, queue.claim(0))
    trained = store.find(queue.root, *configs(2)).path.stat().st_mtime_ns
    queue.submit(*configs(2), str(fake_mnist_dir), maps=False)  # done jobs do not block a new one
    job = queue.claim(0)
    assert run_job(queue, job) == "done" and queue.job(job.id).message == "cached, reused"
    assert store.find(queue.root, *configs(2)).path.stat().st_mtime_ns == trained


def test_cancel_keeps_completed_epochs_and_train_again_continues(queue, fake_mnist_dir, monkeypatch):
    model_config, train_config = configs(2, epochs=4)
    queue.submit(model_config, train_config, str(fake_mnist_dir), maps=False)
    job = queue.claim(0)
    name = store.run_name(model_config, train_config)

    def cancel_after_epoch_2(job_id, history, message):  # the page presses Cancel during epoch 3
        original(job_id, history, message)
        if len(history) == 2:
            queue.cancel(job_id)

    original = queue.report_history
    monkeypatch.setattr(queue, "report_history", cancel_after_epoch_2)
    assert run_job(queue, job) == "cancelled"
    cancelled = queue.job(job.id)
    assert cancelled.message == "cancelled; epochs 1-2 are kept as a resume point: press Train to continue"
    assert store.resume_epochs(queue.root, name) == 2 and store.find(queue.root, model_config, train_config) is None
    monkeypatch.undo()

    again, note = queue.submit(model_config, train_config, str(fake_mnist_dir), maps=False)
    assert (again.id, note) == (job.id, "queued again")
    assert run_job(queue, queue.claim(0)) == "done"
    assert [row["epoch"] for row in queue.job(job.id).history] == [1, 2, 3, 4]
    assert queue.job(job.id).message.startswith("trained")


def test_cancelling_a_waiting_job_takes_it_out_of_the_queue(queue, fake_mnist_dir):
    job, _ = queue.submit(*configs(2), str(fake_mnist_dir))
    queue.cancel(job.id)
    assert queue.job(job.id).status == "cancelled" and queue.claim(0) is None


def test_a_nan_loss_fails_the_job_with_the_clis_message_and_others_go_on(queue, fake_mnist_dir):
    queue.submit(*configs(2, lr=1e30), str(fake_mnist_dir), maps=False)  # diverges at once
    queue.submit(*configs(3), str(fake_mnist_dir), maps=False)
    root = queue.root
    assert run_worker(root, count=1) == 0
    failed, done = queue.jobs()
    assert failed.status == "failed"
    assert "loss became" in failed.message and "lower --lr or check the data" in failed.message
    assert done.status == "done"
    assert live_slots(root) == set()  # the worker let go of its slot when the queue was empty


def test_missing_data_fails_the_job_with_the_one_line_data_message(queue, empty_data):
    queue.submit(*configs(2), str(empty_data), maps=False)
    assert run_job(queue, queue.claim(0)) == "failed"
    assert "VAE_DATA_DIR" in queue.job(1).message and "\n" not in queue.job(1).message
    assert "downloads are off" in queue.job(1).message  # empty_data sets VAE_OFFLINE: no download was tried


def test_worker_slots_follow_the_setting(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    monkeypatch.delenv("VAE_TRAIN_WORKERS", raising=False)
    assert max_workers() == 1
    monkeypatch.setenv("VAE_TRAIN_WORKERS", "2")
    assert max_workers() == 2
    first, second = take_slot(root, 2), take_slot(root, 2)
    assert (first[0], second[0]) == (0, 1) and take_slot(root, 2) is None
    assert live_slots(root) == {0, 1}
    first[1].release(), second[1].release()
    monkeypatch.setenv("VAE_TRAIN_WORKERS", "many")
    with pytest.raises(ValueError, match="VAE_TRAIN_WORKERS must be a whole number"):
        max_workers()


def long_job_in_a_worker(queue: JobQueue, tmp_path: Path, epochs_done: int):
    """A 40-epoch job on 4,000 fake images in a real `vae-explorer worker`, once it has ``epochs_done`` epochs.

    Returns (job, worker process, data folder, model config, train config).
    """
    data = write_fake_mnist(tmp_path / "bigger", n_train=4000, n_test=200)
    model_config, train_config = ModelConfig(latent_dim=2, hidden_dim=64), TrainConfig(epochs=40, batch_size=16)
    job, _ = queue.submit(model_config, train_config, str(data), maps=False)
    worker = subprocess.Popen([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(queue.root)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: len(queue.job(job.id).history) >= epochs_done, 120, f"{epochs_done} epoch(s)")
    return job, worker, data, model_config, train_config


@pytest.mark.slow
def test_the_next_worker_resumes_the_job_of_a_killed_worker(queue, tmp_path):
    """Only CLI workers (VAE_TRAIN_WORKERS=0 on the server): no page marks the job, the next worker resumes it."""
    job, worker, data, model_config, train_config = long_job_in_a_worker(queue, tmp_path, epochs_done=2)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    last_line = queue.job(job.id).message
    assert queue.job(job.id).status == "running"  # nobody has looked yet
    kept = store.resume_epochs(queue.root, job.name)
    assert kept >= 2

    restarted = subprocess.run([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(queue.root)],
                               capture_output=True, text=True, timeout=300)
    assert restarted.returncode == 0, restarted.stderr
    assert f"job {job.id} {job.name} lost its worker; it resumes" in restarted.stdout
    assert f"{job.name}: resuming after epoch {kept}" in restarted.stdout
    finished = queue.job(job.id)
    assert finished.status == "done" and finished.recoveries == 1
    assert len(finished.history) == 40
    assert last_line  # what it said before it died was kept as the recovery's note until the resume


def test_a_job_whose_worker_keeps_dying_fails_instead_of_looping(queue, tmp_path):
    job, _ = queue.submit(ModelConfig(latent_dim=2, hidden_dim=16), TrainConfig(epochs=1), str(tmp_path))
    for attempt in range(MAX_RECOVERIES + 1):
        claimed = queue.claim(7)  # slot 7: no process holds it, so the worker counts as dead
        queue.log(claimed.id, f"epoch 1 of 1, attempt {attempt}")
        recovered = recover_dead_workers_jobs(queue.root)
        assert [j.id for j in recovered] == [job.id]
    failed = queue.job(job.id)
    assert failed.status == "failed"
    assert failed.message == (f"its worker died {MAX_RECOVERIES + 1} times; last log line: epoch 1 of 1, "
                              f"attempt {MAX_RECOVERIES}")


def test_a_worker_without_a_free_slot_says_so_in_one_line(queue, tmp_path, monkeypatch):
    held = take_slot(queue.root, 1)
    try:
        ended = subprocess.run([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(queue.root)],
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "VAE_TRAIN_WORKERS": "1"})
    finally:
        held[1].release()
    assert ended.returncode == 0
    lines = ended.stderr.strip().splitlines()
    assert len(lines) == 1 and "all 1 worker slot(s)" in lines[0] and "are busy" in lines[0]


def test_the_dashboards_worker_runs_in_a_session_of_its_own(queue, tmp_path, monkeypatch):
    """Killing the server's process group (or closing its terminal) must not kill the worker."""
    queue.submit(ModelConfig(latent_dim=2, hidden_dim=16), TrainConfig(epochs=1), str(tmp_path / "no-data"))
    started: list = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(real_popen(*a, **k)) or started[-1])
    assert spawn_workers(queue.root) == 1
    process = started[0]
    try:
        assert os.getpgid(process.pid) != os.getpgid(0)
        assert os.getsid(process.pid) == process.pid  # the leader of a new session: no controlling terminal
        assert process.args[-2:] == ["--idle", str(IDLE_SECONDS)]  # it waits for the next job, warm
    finally:
        process.kill()
        process.wait(timeout=30)


def test_an_idle_worker_takes_a_job_queued_after_it_started(queue, tmp_path):
    data = write_fake_mnist(tmp_path / "data")
    worker = subprocess.Popen([sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(queue.root),
                               "--idle", "60"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: live_slots(queue.root) == {0}, 60, "the worker to take its slot")
        job, _ = queue.submit(MODEL, TRAIN, str(data), maps=False)
        finished = wait_for(lambda: (j := queue.job(job.id)).status == "done" and j, 120, "the job to be done")
        assert len(finished.history) == TRAIN.epochs
        assert worker.poll() is None  # still waiting for the next one
    finally:
        worker.kill()
        worker.wait(timeout=30)


@pytest.mark.slow
def test_sigterm_gives_the_job_back_to_the_queue_and_the_next_worker_resumes(queue, tmp_path):
    job, worker, *_ = long_job_in_a_worker(queue, tmp_path, epochs_done=1)
    worker.send_signal(signal.SIGTERM)
    output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 130, output
    interrupted = queue.job(job.id)
    assert interrupted.status == "queued"
    assert "interrupted;" in interrupted.message and "kept as a resume point" in interrupted.message
    kept = store.resume_epochs(queue.root, job.name)
    assert kept >= 1 and not os.path.exists(queue.root / job.name)

    assert run_worker(queue.root, count=1) == 0  # the next worker (a restarted app starts one)
    finished = queue.job(job.id)
    assert finished.status == "done" and len(finished.history) == 40
    assert [row["epoch"] for row in finished.history] == list(range(1, 41))



def test_two_processes_adding_the_new_columns_at_once_both_succeed(tmp_path):
    """The page and its worker open a new queue at the same moment: one adds the columns while the other has already
    seen them missing. The second waits for the write lock, looks again, and adds nothing."""
    import sqlite3
    import threading
    import time

    from vae_core import jobs

    path = tmp_path / "queue.sqlite3"
    first, second = (sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
                     for _ in range(2))
    first.execute("PRAGMA journal_mode=WAL")
    first.executescript(jobs._SCHEMA)
    first.execute("BEGIN IMMEDIATE")  # the first process is adding them
    errors = []

    def other_process() -> None:
        try:
            jobs._add_missing_columns(second)  # sees them missing (nothing committed yet), then waits to write
        except sqlite3.Error as error:
            errors.append(str(error))

    thread = threading.Thread(target=other_process)
    thread.start()
    time.sleep(0.5)
    for name, declaration in jobs._ADDED_COLUMNS.items():
        first.execute(f"ALTER TABLE jobs ADD COLUMN {name} {declaration}")
    first.execute("COMMIT")
    thread.join(timeout=30)
    assert errors == []  # not "duplicate column name"
    columns = [row[1] for row in second.execute("PRAGMA table_info(jobs)")]
    assert len(columns) == len(set(columns)) and set(jobs._ADDED_COLUMNS) <= set(columns)
