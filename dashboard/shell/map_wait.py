"""A map that is not cached yet: say so, and while a process computes it, follow it and show it when it lands.

A new model is saved with its quick maps; t-SNE and UMAP follow in the background
(``vae_core.map_progress``). A page that shows one of those waits in a small fragment that
polls the progress file once a second and reruns the page when the checkpoint's folder changes
(the map was saved) or when nobody computes it any more: no reload needed.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard.shell import captions, tables

POLL_SECONDS = 1.0


def missing_map(checkpoint, method: str, dataset: str) -> None:
    """Say why ``method``'s map of ``checkpoint`` is not drawn; while it is computed, its progress."""
    from vae_core.map_progress import map_status, typical_seconds

    root = checkpoint.path.parent
    if map_status(root, checkpoint.name) is None:
        st.info(captions.missing_map_sentence(method, dataset))
        return
    stamp = tables.weights_stamp(checkpoint)

    @st.fragment(run_every=POLL_SECONDS)
    def progress() -> None:
        status = map_status(root, checkpoint.name)
        if status is None or tables.weights_stamp(checkpoint) != stamp:  # saved (or given up): draw the page anew
            st.rerun(scope="app")
        seconds = time.time() - status.started
        typical = typical_seconds(root, status.step)  # t-SNE reports no progress: the usual time here stands in
        share = status.fraction or (min(0.95, seconds / typical) if typical else 0.0)
        usual = f", usually about {typical:.0f} s here" if typical else ""
        st.progress(share, text=f"{status.words()} ({seconds:.0f} s so far{usual}): the {method} map appears here "
                                "when it is done")

    progress()
