"""The process that trains the dashboard's queued jobs, one after another, through ``runs.open_run``.

The Train page starts it (``spawn_workers``) as ``vae-explorer worker``, in a session of its
own: it belongs to no terminal and no process group of the server's, so a server killed with
its group, or a closed terminal, leaves it training. It holds one worker slot (a lock file under
``.jobs``) for its whole life, so any process can tell a live worker from a dead one, and exits
when the queue is empty. Training is the CLI's: the same lock, resume point, atomic save and
latent maps, so a job runs at the CLI's speed.

A job goes through three phases: training; then its quick maps are saved (the model is usable
on every page) and t-SNE and UMAP follow; then its metrics (``evaluate``'s core set) when the
data set's classifier is stored. A worker that starts first queues again any job whose worker
died (its slot is free, yet it is marked running): it resumes from its last completed epoch.

SIGTERM or Ctrl-C gives the job back to the queue; its completed epochs are its resume point,
and the next worker continues from there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

from .atomic import translated_errors
from .jobs import Job, JobQueue, check_queue_dir, queue_dir

WORKERS_ENV = "VAE_TRAIN_WORKERS"
DEFAULT_WORKERS = 1  # one training at a time: two on a 2-core machine each run at half speed
IDLE_SECONDS = 600  # how long the dashboard's worker waits for the next job: it stays warm for a Train session
IDLE_POLL = 1.0  # seconds between looks at an empty queue
REPORT_EVERY = 0.5  # seconds between progress writes: cheap for the worker, often enough for the page
_started: list[subprocess.Popen] = []  # this process's workers, polled so finished ones are reaped


class JobCancelled(Exception):
    """The page asked to cancel the running job."""


def max_workers() -> int:
    """$VAE_TRAIN_WORKERS (0: the dashboard starts none, e.g. when workers run elsewhere), else 1."""
    text = os.environ.get(WORKERS_ENV, "").strip()
    if not text:
        return DEFAULT_WORKERS
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"{WORKERS_ENV} must be a whole number of workers, got {text!r}: "
                         f"set it to 1 (the default) or more") from None
    if count < 0:
        raise ValueError(f"{WORKERS_ENV} must be 0 or more, got {count}: set it to 1 (the default)")
    return count


def _slot_lock(root: Path, slot: int):
    from filelock import FileLock

    return FileLock(queue_dir(root) / f"worker-{slot}.lock")


def live_slots(root: Path) -> set[int]:
    """The worker slots held by a live process (the OS drops a dead process's lock)."""
    from filelock import Timeout

    live = set()
    for path in queue_dir(root).glob("worker-*.lock"):
        number = path.stem.removeprefix("worker-")
        if not number.isdecimal():  # a stray file (worker-x.lock) is no slot of ours: never a page-wide error
            continue
        slot = int(number)
        lock = _slot_lock(root, slot)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            live.add(slot)
        else:
            lock.release()
    return live


def take_slot(root: Path, count: int):
    """(slot, held lock) of the first free slot below ``count``; None when all are busy."""
    from filelock import Timeout

    check_queue_dir(root)
    with translated_errors(queue_dir(root) / "worker.lock"):  # a read-only root: one line, not a traceback
        queue_dir(root).mkdir(parents=True, exist_ok=True)
        for slot in range(count):
            lock = _slot_lock(root, slot)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            return slot, lock
    return None


def recover_dead_workers_jobs(root: Path, own_slot: int | None = None) -> list[Job]:
    """Running jobs whose worker is gone (killed, out of memory) go back to the queue, to resume.

    ``own_slot``: the slot the calling worker holds, so any job still marked with it lost its worker.
    """
    queue = JobQueue(root)
    if not queue.exists():
        return []
    checked_at = time.time()
    return queue.recover_orphans(live_slots(root) - {own_slot}, checked_at)


def spawn_workers(root: Path) -> int:
    """Start workers for waiting jobs, up to ``max_workers()`` alive at once; returns how many started."""
    global _started
    _started = [process for process in _started if process.poll() is None]
    queue = JobQueue(root)
    waiting = queue.count("queued")
    free = max_workers() - len(live_slots(root)) if waiting else 0
    started = 0
    for _ in range(min(waiting, free)):
        with open(queue_dir(root) / "worker.log", "ab") as log:
            _started.append(subprocess.Popen(
                [sys.executable, "-m", "vae_core", "worker", "--checkpoint-dir", str(root), "--idle",
                 str(IDLE_SECONDS)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True,
                start_new_session=True))  # not in the server's process group: killing that leaves it running
        started += 1
    return started


def partial_replay_path(root: Path, job_id: int) -> Path:
    """Where a running job's replay so far is written after each epoch, for its card on the Train page."""
    return queue_dir(root) / f"replay-{job_id}.npz"


class _Progress:
    """The training loop's callbacks: a throttled position report (which also hears a cancel) and each epoch."""

    def __init__(self, queue: JobQueue, job: Job):
        self.queue, self.job = queue, job
        self.last_report = 0.0
        self.mark: tuple[float, int] | None = None  # (time, global step) of the last report

    def on_step(self, epoch: int, step: int, steps: int, running_loss: float) -> None:
        now = time.perf_counter()
        if now - self.last_report < REPORT_EVERY and step != 1:
            return
        global_step = (epoch - 1) * steps + step
        step_seconds = None
        if self.mark is not None and global_step > self.mark[1]:
            step_seconds = (now - self.mark[0]) / (global_step - self.mark[1])
        self.mark, self.last_report = (now, global_step), now
        if self.queue.report_step(self.job.id, epoch, step, steps, running_loss, step_seconds):
            raise JobCancelled

    def on_epoch(self, state) -> None:
        from .train import history_as_dicts

        row = state.history[-1]
        self.queue.report_history(self.job.id, history_as_dicts(state.history),
                                  f"epoch {row.epoch} of {self.job.epochs}: train loss {row.train_loss:.2f}, "
                                  f"test loss {row.test_loss:.2f} nats")


def _train(queue: JobQueue, job: Job, device: str | None) -> str:
    """Train (or reuse) the job's config, then cache its maps and metrics; returns the closing log line."""
    from .runs import DataCache, ensure_projections, open_run
    from .train import pick_device

    def report(line: str) -> None:  # the page shows the last line; worker.log keeps them all
        print(line, flush=True)
        queue.log(job.id, line)

    data = DataCache(job.train_config.dataset, job.data_dir, queue.root)
    with open_run(queue.root, job.model_config, job.train_config, report=report) as run:  # fitted when queued
        if run.cached is not None:
            checkpoint, closing = run.cached, "cached, reused"
        else:
            progress = _Progress(queue, job)
            checkpoint = run.train(data.split(True), data.split(False), pick_device(device),
                                   on_step=progress.on_step, on_epoch=progress.on_epoch,
                                   partial_replay=partial_replay_path(queue.root, job.id))
            partial_replay_path(queue.root, job.id).unlink(missing_ok=True)  # the model's own replay.npz now
            closing = (f"trained, test loss {checkpoint.final['test_loss']:.2f} nats "
                       f"({checkpoint.train_seconds:.1f} s)")
    queue.report_phase(job.id, "maps", f"{job.name}: saved; computing its latent maps")
    ensure_projections(checkpoint, data, device=device, report=report, slow=job.maps,  # PCA first, always
                       training_digits=True)
    metrics_note = _metrics(queue, job, checkpoint, data, device) if job.maps else ""
    return closing + (f"; {metrics_note}" if metrics_note else "")


def _metrics(queue: JobQueue, job: Job, checkpoint, data, device: str | None) -> str:
    """Compute ``evaluate``'s metrics of a new model, so Compare's charts include it; a note for the log."""
    import time as clock

    from . import store
    from .classifier import NoClassifier, classifier_name, load_classifier
    from .data import images_stamp
    from .evaluate import build_reference, evaluate_checkpoint, load_metrics
    from .map_progress import record_time

    if load_metrics(checkpoint) is not None:
        return ""
    try:
        classifier, _ = load_classifier(queue.root, job.train_config.dataset)
    except NoClassifier:  # a registered set: every metric but the classifier's (metrics.json says so)
        classifier = None
    except store.CheckpointError:
        return f"no metrics: no {classifier_name(job.train_config.dataset)} here (`vae-explorer train-classifier`)"
    queue.report_phase(job.id, "metrics", f"{job.name}: computing its metrics")
    started = clock.perf_counter()
    key = (job.train_config.dataset, job.data_dir, images_stamp(job.train_config.dataset, queue.root))
    if key not in _REFERENCES:  # the classifier's view of the data set: the same for every model of it
        _REFERENCES.clear()
        _REFERENCES[key] = build_reference(data.split(True), data.split(False), classifier,
                                           None if classifier is None else classifier_name(job.train_config.dataset))
        record_time(queue.root, "metrics start", clock.perf_counter() - started)  # once per worker and data set
    evaluated = clock.perf_counter()
    evaluate_checkpoint(checkpoint, _REFERENCES[key], device=device or "cpu")
    record_time(queue.root, "metrics", clock.perf_counter() - evaluated)
    seconds = clock.perf_counter() - started
    return f"metrics in {seconds:.0f} s"


_REFERENCES: dict = {}  # one data set's evaluation reference, kept while this worker runs its jobs


def run_job(queue: JobQueue, job: Job, device: str | None = None) -> str:
    """Run one claimed job to its end and record how it ended; returns its final status.

    A KeyboardInterrupt gives the job back to the queue and is raised again.
    """
    from .errors import expected_errors
    from .runs import kept_epochs

    try:
        closing = _train(queue, job, device)
    except JobCancelled:
        queue.finish(job.id, "cancelled", f"cancelled; {kept_epochs(queue.root, job.name)}: press Train to continue")
        return "cancelled"
    except KeyboardInterrupt:
        queue.finish(job.id, "queued", f"interrupted; {kept_epochs(queue.root, job.name)}: "
                                       "it continues when a worker starts (open the app)")
        raise
    except expected_errors() as error:
        queue.finish(job.id, "failed", str(error))
        return "failed"
    except Exception as error:  # a bug: its traceback goes to worker.log, its last line to the page
        traceback.print_exc()
        queue.finish(job.id, "failed", f"{type(error).__name__}: {error}")
        return "failed"
    queue.finish(job.id, "done", closing)
    return "done"


def _next_job(queue: JobQueue, slot: int, idle_seconds: float) -> Job | None:
    """The next waiting job, waiting up to ``idle_seconds`` for one to be queued; None when none came."""
    deadline = time.monotonic() + idle_seconds
    while (job := queue.claim(slot)) is None and time.monotonic() < deadline:
        time.sleep(IDLE_POLL)
    return job


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_worker(root: Path, count: int | None = None, device: str | None = None, idle_seconds: float = 0.0) -> int:
    """Hold a free worker slot, resume dead workers' jobs, run waiting jobs until none is left.

    0 when all slots are busy too (it says so in one line: the busy workers run the queue).
    """
    slots = max_workers() if count is None else count
    slot = take_slot(root, slots)
    if slot is None:
        print(f"vae-explorer worker: all {slots} worker slot(s) of {queue_dir(root)} are busy, so the running "
              f"worker(s) take the queue; set {WORKERS_ENV} to run more at once", file=sys.stderr, flush=True)
        return 0
    number, lock = slot
    signal.signal(signal.SIGTERM, _interrupt)  # a stopped server's worker leaves its job resumable
    queue = JobQueue(root)
    for job in recover_dead_workers_jobs(root, own_slot=number):
        print(f"worker {number}: job {job.id} {job.name} lost its worker; it resumes", flush=True)
    try:
        while (job := _next_job(queue, number, idle_seconds)) is not None:
            print(f"worker {number} (pid {os.getpid()}): job {job.id} {job.name}", flush=True)
            run_job(queue, job, device)
    finally:
        lock.release()
    return 0
