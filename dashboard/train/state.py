"""The Train view's state between reruns: one object in session state, under one key it owns.

The form's widgets keep their own values under ``train_*`` keys (see ``form.py``); this holds what
the job list remembers about the queue for this session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import streamlit as st

from vae_core.jobs import ACTIVE, Job


@dataclass
class JobListState:
    """What this session's job list remembers: a refused submission and the finished jobs it has shown."""

    KEY: ClassVar[str] = "train_job_list"

    error: str | None = None  # a refused submission (full queue, unusable queue), shown once above the list
    # (id, finished_at) of the finished jobs at the last look; None before the first. Train again and Retry
    # reuse a job's id, so the finish time tells a second finish of one job from the first.
    finished_seen: frozenset[tuple[int, float | str | None]] | None = None

    @classmethod
    def get(cls) -> JobListState:
        """This session's state, created with the defaults on first use."""
        if not isinstance(st.session_state.get(cls.KEY), cls):
            st.session_state[cls.KEY] = cls()
        return st.session_state[cls.KEY]

    def take_error(self) -> str | None:
        """The refused submission's message, once."""
        error, self.error = self.error, None
        return error

    def newly_finished(self, jobs: list[Job]) -> bool:
        """Whether a job finished, or its model became explorable, since the last look (not on the first look).

        Both change the models every page lists; remembers this look.
        """
        finished = frozenset((job.id, job.finished_at) for job in jobs if job.status not in ACTIVE)
        finished |= {(job.id, "explorable") for job in jobs if job.status == "running" and job.explorable}
        seen, self.finished_seen = self.finished_seen, finished
        return seen is not None and bool(finished - seen)
