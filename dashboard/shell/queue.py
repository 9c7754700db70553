"""The training queue as every page sees it: start its workers, read its jobs, say in one line why not."""

from __future__ import annotations

from pathlib import Path

from vae_core.jobs import Job, JobQueue, QueueError


def start_workers(root: Path) -> str | None:
    """Queue again the jobs of dead workers, start workers for waiting jobs; the problem in one line, or None."""
    from vae_core import worker

    try:
        worker.recover_dead_workers_jobs(root)
        worker.spawn_workers(root)
    except (ValueError, OSError, QueueError) as error:
        return str(error)
    return None


def jobs_or_problem(root: Path) -> tuple[list[Job], str | None]:
    """Every job of the queue, or no job and why the queue cannot be read (one line)."""
    try:
        return JobQueue(root).jobs(), None
    except QueueError as error:
        return [], str(error)
