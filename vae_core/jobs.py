"""The dashboard's training queue: one SQLite file under the checkpoint root.

A job is one config (``store.run_name`` names it). The page submits jobs and reads their
progress; worker processes (``vae_core.worker``) claim them one at a time and write their
progress back. Everything a page shows lives in the database, so a closed tab, a new
session or a restarted server sees the same queue.

    queue = JobQueue(root)
    job, note = queue.submit(model_config, train_config, data_dir)
    queue.jobs()  # every job, for the page

Statuses: queued -> running -> done | failed | cancelled; a running job's ``phase`` says whether
it trains, computes its slow maps (its model is already saved and usable) or its metrics. An
interrupted worker (Ctrl-C, SIGTERM) puts its job back in the queue; a worker that vanished is
found by any worker that starts, or by the page (``worker.recover_dead_workers_jobs``), and its
job queued again to resume from its last completed epoch.
Torch-free: the page imports it on every run.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import translated_errors, write_problem
from .config import ModelConfig, TrainConfig, config_from_dict, to_dict
from .migrations import with_image_shape

QUEUE_DIR = ".jobs"  # a dot folder: the checkpoint scan skips it
DATABASE = "queue.sqlite3"
MAX_QUEUED = 20
ACTIVE = ("queued", "running")
FINISHED = ("done", "failed", "cancelled")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,              -- store.run_name of the config
    model_config TEXT NOT NULL,      -- JSON of ModelConfig
    train_config TEXT NOT NULL,      -- JSON of TrainConfig
    data_dir TEXT NOT NULL,          -- the torchvision root the job reads
    maps INTEGER NOT NULL DEFAULT 1, -- compute the latent maps after training (the CLI's default)
    status TEXT NOT NULL,
    queued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    worker_slot INTEGER,             -- which worker lock its worker holds (see vae_core.worker)
    epoch INTEGER NOT NULL DEFAULT 0,  -- the epoch in progress, 1-based; 0 before the first step
    step INTEGER NOT NULL DEFAULT 0,
    steps INTEGER NOT NULL DEFAULT 0,  -- steps per epoch
    running_loss REAL,               -- mean loss of the epoch so far, nats per image
    step_seconds REAL,               -- recent wall seconds per step, for the ETA
    history TEXT NOT NULL DEFAULT '[]',  -- completed epochs: history.json's rows
    message TEXT NOT NULL DEFAULT '',    -- the last log line
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
"""
# Columns added after the first queues were written: a queue file from before gains them on open.
_ADDED_COLUMNS = {
    "phase": "TEXT NOT NULL DEFAULT 'training'",  # training -> maps -> metrics (see PHASES)
    "phase_fraction": "REAL",  # how far the phase's current step is, in [0, 1]; NULL: unknown
    "recoveries": "INTEGER NOT NULL DEFAULT 0",  # times a starting worker resumed it after its worker died
}
PHASES = ("training", "maps", "metrics")
MAX_RECOVERIES = 2  # a job that keeps killing its worker (out of memory) fails instead of looping


class QueueFull(RuntimeError):
    """The queue already holds ``MAX_QUEUED`` waiting jobs."""


class QueueError(RuntimeError):
    """The queue's database cannot be used (unwritable, not a database, rows that do not parse)."""


@dataclass(frozen=True)
class Job:
    """One row of the queue, as the page shows it."""

    id: int
    name: str
    model_config: ModelConfig
    train_config: TrainConfig
    data_dir: str
    status: str
    queued_at: float
    maps: bool = True
    started_at: float | None = None
    finished_at: float | None = None
    worker_slot: int | None = None
    epoch: int = 0
    step: int = 0
    steps: int = 0
    running_loss: float | None = None
    step_seconds: float | None = None
    history: list[dict] = field(default_factory=list, repr=False)
    message: str = ""
    cancel_requested: bool = False
    phase: str = "training"
    phase_fraction: float | None = None
    recoveries: int = 0

    @property
    def explorable(self) -> bool:
        """Whether its model is saved and usable: training is over, the slow maps may still follow."""
        return self.status == "done" or (self.status == "running" and self.phase != "training")

    @property
    def epochs(self) -> int:
        return self.train_config.epochs

    @property
    def fraction_done(self) -> float:
        """Completed steps over all steps of the run, in [0, 1]."""
        if self.status == "done":
            return 1.0
        done_steps = len(self.history) * self.steps + (self.step if self.epoch > len(self.history) else 0)
        return min(1.0, done_steps / (self.steps * self.epochs)) if self.steps else len(self.history) / self.epochs

    def eta_seconds(self) -> float | None:
        """Seconds left of a running job: the recent epochs' time (test pass included) per epoch left.

        Before its first epoch ends, the recent step time times the steps left.
        """
        if self.status != "running" or not self.steps:
            return None
        epochs_left = self.epochs * (1 - self.fraction_done)
        if self.history:
            recent = self.history[-3:]
            return epochs_left * sum(row["seconds"] for row in recent) / len(recent)
        return None if self.step_seconds is None else epochs_left * self.steps * self.step_seconds


def _row_to_job(row: sqlite3.Row) -> Job:
    data = dict(row)
    model = json.loads(data["model_config"])  # a row queued before images had a shape reads as 28 x 28 grey
    data["model_config"] = config_from_dict(ModelConfig, with_image_shape(model) if isinstance(model, dict) else model)
    data["train_config"] = config_from_dict(TrainConfig, json.loads(data["train_config"]))
    data["history"] = json.loads(data["history"])
    data["cancel_requested"] = bool(data["cancel_requested"])
    data["maps"] = bool(data["maps"])
    return Job(**data)


def _job_by_id(db: sqlite3.Connection, job_id: int) -> Job | None:
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _row_to_job(row)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Give a queue written by an older version (or just created from ``_SCHEMA``) the columns added since
    (``_ADDED_COLUMNS``). Under the write lock, looked at again there: two processes opening a new queue at once (the
    page and its worker) would otherwise both add a column, and the second would fail on a duplicate."""
    def missing() -> list[str]:
        present = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        return [name for name in _ADDED_COLUMNS if name not in present]

    if not missing():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for name in missing():
            db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {_ADDED_COLUMNS[name]}")
    except sqlite3.Error:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def queue_dir(root: Path) -> Path:
    return Path(root) / QUEUE_DIR


def check_queue_dir(root: Path) -> None:
    """Raise ``QueueError`` when ``.jobs`` exists but is not a folder: said at once, not as "File exists" at Train."""
    folder = queue_dir(root)
    if folder.exists() and not folder.is_dir():
        raise QueueError(f"the training queue's folder {folder} is a file, not a folder: move or delete that file "
                         "to use the Train page (checkpoints stay)")


def _disk_full(folder: Path) -> bool:
    """Nearly no free space left: SQLite then fails with a bare 'disk I/O error' as often as with SQLITE_FULL."""
    import shutil

    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


class JobQueue:
    """The queue of one checkpoint root. Each call opens its own short transaction."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.path = queue_dir(self.root) / DATABASE

    def exists(self) -> bool:
        """Whether there is a queue here to read; a ``.jobs`` that is a file counts, so reading it says why not."""
        folder = self.path.parent
        return self.path.is_file() or (folder.exists() and not folder.is_dir())

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in WAL mode (readers never wait for the worker's writes), committed on exit."""
        check_queue_dir(self.root)
        with translated_errors(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as error:
            raise self._unusable(error) from error
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            _add_missing_columns(connection)
            yield connection
        except (sqlite3.Error, ValueError, TypeError, KeyError) as error:  # ValueError: ConfigError, bad JSON
            raise self._unusable(error) from error
        finally:
            connection.close()

    def _unusable(self, error: Exception) -> QueueError:
        """The one line for a failed queue operation; a full disk or a read-only folder is named as such."""
        folder = self.path.parent
        problem = write_problem(folder)
        if problem is None and _disk_full(folder):
            problem = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        reason = problem.strerror if problem is not None else str(error)[:80]
        fix = (f"make the checkpoint folder writable, or delete {folder} to start an empty queue (checkpoints stay)"
               if problem is None or problem.errno != errno.ENOSPC else "free some space and run again")
        return QueueError(f"the training queue {self.path} cannot be used ({reason}): {fix}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: one writer at a time, so claims and submissions never interleave."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    # ------------------------------------------------------------------ the page's side

    def submit(self, model_config: ModelConfig, train_config: TrainConfig, data_dir: str,
               maps: bool = True) -> tuple[Job, str]:
        """Queue a config; (its job, what happened). The same config already waiting or running is that job.

        A cancelled or failed job of the config goes back into the queue (it resumes from its
        resume point). Raises ``QueueFull`` when ``MAX_QUEUED`` jobs already wait.
        """
        from .store import run_name

        model_config = self._fitted(model_config, train_config.dataset)
        name = run_name(model_config, train_config)
        with self._transaction() as db:
            latest = db.execute("SELECT * FROM jobs WHERE name = ? ORDER BY id DESC LIMIT 1", (name,)).fetchone()
            if latest is not None and latest["status"] in ACTIVE:
                return _row_to_job(latest), f"already {latest['status']}"
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued'").fetchone()[0]
            if waiting >= MAX_QUEUED:
                raise QueueFull(f"the queue already holds {MAX_QUEUED} waiting jobs: wait for some to finish "
                                "or cancel one, then press Train again")
            now = time.time()
            if latest is not None and latest["status"] in ("failed", "cancelled"):
                db.execute("UPDATE jobs SET status = 'queued', queued_at = ?, started_at = NULL, "
                           "finished_at = NULL, cancel_requested = 0, data_dir = ?, maps = ?, recoveries = 0, "
                           "message = 'queued again' WHERE id = ?", (now, str(data_dir), maps, latest["id"]))
                job_id, note = latest["id"], "queued again"
            else:
                job_id = db.execute(
                    "INSERT INTO jobs (name, model_config, train_config, data_dir, maps, status, queued_at, message) "
                    "VALUES (?, ?, ?, ?, ?, 'queued', ?, 'queued')",
                    (name, json.dumps(to_dict(model_config), sort_keys=True),
                     json.dumps(to_dict(train_config), sort_keys=True), str(data_dir), maps, now)).lastrowid
                note = "queued"
            return _job_by_id(db, job_id), note

    def _fitted(self, model_config: ModelConfig, dataset: str) -> ModelConfig:
        """``model_config`` for the images of ``dataset`` as registered under this root (``data.fit_to_images``), so
        the queued row, its name and the worker's model all have the set's shape, whoever built the config. A set that
        cannot be read, or images the architecture cannot take, keep the config as given: the worker then fails the
        job with the one line that says why."""
        from .config import ConfigError
        from .data import DataUnavailableError, fit_to_images

        try:
            return fit_to_images(model_config, dataset, self.root)
        except (ConfigError, DataUnavailableError):
            return model_config

    def jobs(self) -> list[Job]:
        """Every job, oldest first; an empty list when nothing was ever queued (nothing is created)."""
        if not self.exists():
            return []
        with self._connect() as db:
            return [_row_to_job(row) for row in db.execute("SELECT * FROM jobs ORDER BY id")]

    def job(self, job_id: int) -> Job | None:
        with self._connect() as db:
            return _job_by_id(db, job_id)

    def count(self, status: str) -> int:
        if not self.exists():
            return 0
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)).fetchone()[0]

    def cancel(self, job_id: int) -> None:
        """A waiting job is cancelled at once; a running one when its worker next reports (within a second)."""
        with self._transaction() as db:
            db.execute("UPDATE jobs SET status = 'cancelled', finished_at = ?, message = 'cancelled before it "
                       "started' WHERE id = ? AND status = 'queued'", (time.time(), job_id))
            db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", (job_id,))

    def forget_finished(self) -> None:
        """Clear the finished jobs from the list (their checkpoints stay)."""
        with self._transaction() as db:
            db.execute(f"DELETE FROM jobs WHERE status IN {FINISHED}")

    # ------------------------------------------------------------------ the worker's side

    def claim(self, slot: int) -> Job | None:
        """The oldest waiting job, now running in worker ``slot``; None when none waits."""
        with self._transaction() as db:
            row = db.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY queued_at, id LIMIT 1").fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET status = 'running', worker_slot = ?, started_at = ?, finished_at = NULL, "
                       "cancel_requested = 0, step_seconds = NULL, phase = 'training', phase_fraction = NULL, "
                       "message = 'starting' WHERE id = ?",
                       (slot, time.time(), row["id"]))
            return _job_by_id(db, row["id"])

    def report_step(self, job_id: int, epoch: int, step: int, steps: int, running_loss: float,
                    step_seconds: float | None) -> bool:
        """Store a running job's position; returns whether the page asked to cancel it."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET epoch = ?, step = ?, steps = ?, running_loss = ?, step_seconds = ? "
                       "WHERE id = ?", (epoch, step, steps, running_loss, step_seconds, job_id))
            row = db.execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row["cancel_requested"])

    def report_history(self, job_id: int, history: list[dict], message: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE jobs SET history = ?, message = ? WHERE id = ?",
                       (json.dumps(history), message, job_id))

    def report_phase(self, job_id: int, phase: str, message: str, fraction: float | None = None) -> None:
        """A running job's phase after training (``PHASES``), its step in words and how far that step is."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET phase = ?, phase_fraction = ?, message = ? WHERE id = ?",
                       (phase, fraction, message, job_id))

    def log(self, job_id: int, message: str) -> None:
        """The job's last log line (shown on the page, and kept when its worker dies)."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET message = ? WHERE id = ?", (message, job_id))

    def finish(self, job_id: int, status: str, message: str) -> None:
        """End a running job: done, failed or cancelled, or ``queued`` to give it back to the queue."""
        finished = None if status == "queued" else time.time()
        with self._connect() as db:
            db.execute("UPDATE jobs SET status = ?, message = ?, finished_at = ?, cancel_requested = 0, "
                       "worker_slot = NULL WHERE id = ?", (status, message, finished, job_id))

    def recover_orphans(self, live_slots: set[int], checked_at: float) -> list[Job]:
        """Running jobs whose worker slot was not held at ``checked_at``: their worker died. Returns them.

        Each goes back to the head of the queue, to resume from its last completed epoch, unless
        it has already been recovered ``MAX_RECOVERIES`` times: then it fails with its last log line.
        Jobs claimed after ``checked_at`` are left alone: their worker took its slot after the check.
        """
        now = time.time()
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM jobs WHERE status = 'running' AND started_at < ?",
                              (checked_at,)).fetchall()
            orphans = [row for row in rows if row["worker_slot"] not in live_slots]
            for row in orphans:
                last = row["message"] or "no log line"
                if row["recoveries"] >= MAX_RECOVERIES:
                    db.execute("UPDATE jobs SET status = 'failed', finished_at = ?, worker_slot = NULL, message = ? "
                               "WHERE id = ?", (now, f"its worker died {row['recoveries'] + 1} times; last log line: "
                                                     f"{last}", row["id"]))
                else:
                    db.execute("UPDATE jobs SET status = 'queued', queued_at = ?, started_at = NULL, "
                               "worker_slot = NULL, recoveries = recoveries + 1, message = ? WHERE id = ?",
                               (row["queued_at"], f"its worker died; it resumes from its last completed epoch "
                                                  f"(last log line: {last})", row["id"]))
        return [_row_to_job(row) for row in orphans]


def place_in_queue(jobs: list[Job], job: Job) -> int | None:
    """1 for the next job to start, 2 for the one after, ...; None when ``job`` is not waiting."""
    waiting = sorted((j for j in jobs if j.status == "queued"), key=lambda j: (j.queued_at, j.id))
    return next((place for place, j in enumerate(waiting, 1) if j.id == job.id), None)
