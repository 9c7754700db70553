"""The Training page's replay view: which epoch is shown and whether it plays, one model at a time.

Both widget keys include the model, so another model's replay starts at its own last epoch, not
at an epoch number left over from the model shown before; they are kept in session state only
(not in the URL: an epoch of one model means nothing in another's link).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

PLAY_SECONDS = 0.7  # one epoch per tick while playing


@dataclass(frozen=True)
class ReplayView:
    """One model's replay on the page: ``last_epoch`` + 1 recorded epochs, 0 the initialisation."""

    model: str
    last_epoch: int

    @property
    def epoch_key(self) -> str:
        """The epoch slider's key (session state only)."""
        return f"training_replay_epoch_{self.model}"

    @property
    def play_key(self) -> str:
        """The Play toggle's key."""
        return f"training_replay_play_{self.model}"

    @property
    def tick_key(self) -> str:
        """When the shown epoch last advanced while playing (``time.monotonic``)."""
        return f"training_replay_tick_{self.model}"

    @property
    def epoch(self) -> int:
        """The epoch shown: the slider's, clipped to the recorded ones; the trained model at first."""
        value = st.session_state.get(self.epoch_key, self.last_epoch)
        return min(max(int(value), 0), self.last_epoch) if isinstance(value, (int, float)) else self.last_epoch

    @property
    def playing(self) -> bool:
        return bool(st.session_state.get(self.play_key, False))

    def prepare(self) -> None:
        """Before the widgets: a first visit shows the last epoch; a value outside this replay is clipped."""
        st.session_state[self.epoch_key] = self.epoch

    def started(self) -> None:
        """The Play toggle's callback: playing from the last epoch starts again at the initialisation."""
        if self.playing and self.epoch >= self.last_epoch:
            st.session_state[self.epoch_key] = 0
        st.session_state[self.tick_key] = time.monotonic()

    def advance(self, now: float | None = None) -> bool:
        """While playing, before the slider: show the next epoch once ``PLAY_SECONDS`` have passed.

        Returns False when the last epoch is reached: the caller stops playing.
        """
        now = time.monotonic() if now is None else now
        if now - st.session_state.get(self.tick_key, 0.0) >= PLAY_SECONDS * 0.9:
            st.session_state[self.epoch_key] = min(self.epoch + 1, self.last_epoch)
            st.session_state[self.tick_key] = now
        return self.epoch < self.last_epoch
