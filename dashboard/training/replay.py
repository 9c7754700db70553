"""The Training page's replay: the latent map, the sample grid and the loss curves at one epoch, played or scrubbed.

The replay was recorded during training (``vae_core.replay``): 2,000 fixed test digits and 64 fixed
prior draws after every epoch, the initialisation (epoch 0) included. It plays in the browser
(``replay_player``): every epoch is a frame of one plotly figure.
"""

from __future__ import annotations

import streamlit as st

from dashboard.shell import cache, replay_view
from dashboard.training import replay_player


@cache.per_checkpoint(shared=True, max_entries=16)
def loaded(checkpoint) -> dict:
    """{"replay", "coords" [E+1, M, 2] aligned, "ranges"} of a checkpoint, {"replay": None} without one,
    {"error": line} when its replay.npz breaks a bound. Shared read-only."""
    from vae_core.replay import aligned, fixed_range, load_replay
    from vae_core.store import CheckpointError

    try:
        replay = load_replay(checkpoint)
    except CheckpointError as error:
        return {"error": str(error)}
    if replay is None:
        return {"replay": None}
    coords = aligned(replay)
    return {"replay": replay, "coords": coords, "ranges": fixed_range(coords)}


@cache.per_checkpoint(shared=True, max_entries=8)
def figure_for(checkpoint, names: tuple[str, ...]):
    """The replay's player (every epoch a frame), built once per checkpoint. Shared: do not mutate."""
    found = loaded(checkpoint)
    return replay_player.replay_figure(found["replay"], found["coords"], found["ranges"], checkpoint.history, names,
                                       replay_view.map_title(found["replay"].latent_dim))


def show(checkpoint, names: tuple[str, ...]) -> None:
    """The replay section of ``checkpoint``, or one line saying it has none."""
    from vae_core.replay import missing_note

    st.subheader("Replay: how the latent space formed")
    found = loaded(checkpoint)
    if "error" in found:
        st.warning(found["error"])
        return
    replay = found["replay"]
    if replay is None:
        st.caption(missing_note(checkpoint), help="A replay is recorded by every training run since replays exist.")
        return
    st.plotly_chart(figure_for(checkpoint, names), key="training_replay")
    st.download_button("GIF", _gif(checkpoint), file_name=f"{checkpoint.name}-replay.gif", mime="image/gif",
                       key="training_replay_gif", on_click="ignore", icon=":material/animation:",
                       help="Every epoch as one frame: the map beside the samples. "
                            f"The same: `vae-explorer export replay --model {checkpoint.name}`")


def _gif(checkpoint):
    def build() -> bytes:  # on the click, on Streamlit's thread: no st call in here
        from vae_core.replay import replay_gif

        return replay_gif(loaded(checkpoint)["replay"], checkpoint.history)

    return build

