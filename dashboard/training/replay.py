"""The Training page's replay: the latent map, the sample grid and the loss curves at one epoch, played or scrubbed.

The replay was recorded during training (``vae_core.replay``): 2,000 fixed test digits and 64 fixed
prior draws after every epoch, the initialisation (epoch 0) included. The epoch slider and the map
live in a fragment that reruns on its own while Play is on, so playing redraws this section only.
"""

from __future__ import annotations

import streamlit as st

from dashboard.shell import cache, charts, images, replay_view, ui
from dashboard.shell import view as shell_view
from dashboard.training.state import PLAY_SECONDS, ReplayView


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


def loss_with_cursor(history: list[dict], epoch: int, last_epoch: int):
    """The train and test loss per epoch, a vertical line at ``epoch`` (0: before the first point)."""
    figure = charts.loss_curves(history, "")
    figure.add_vline(x=epoch, line={"color": "#d62728", "width": 2, "dash": "dash"},
                     annotation={"text": f"epoch {epoch}", "font": {"color": "#b01f1f"}})
    figure.update_xaxes(range=[-0.4, last_epoch + 0.4], dtick=max(1, last_epoch // 12))
    figure.update_layout(height=260, margin={"l": 60, "r": 10, "t": 20, "b": 40})
    return figure


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
    view = ReplayView(checkpoint.name, replay.last_epoch)
    view.prepare()
    row = st.container(horizontal=True)
    row.toggle("Play", key=view.play_key, on_change=view.started,
               help="Steps through the epochs, from the initialisation when the last one is shown")
    row.download_button("GIF", _gif(checkpoint), file_name=f"{checkpoint.name}-replay.gif", mime="image/gif",
                        key="training_replay_gif", on_click="ignore", icon=":material/animation:",
                        help="Every epoch as one frame: the map beside the samples. "
                             f"The same: `vae-explorer export replay --model {checkpoint.name}`")
    st.fragment(_frames, run_every=PLAY_SECONDS if view.playing else None)(checkpoint, view, view.playing, names)


def _gif(checkpoint):
    def build() -> bytes:  # on the click, on Streamlit's thread: no st call in here
        from vae_core.replay import replay_gif

        return replay_gif(loaded(checkpoint)["replay"], checkpoint.history)

    return build


def _frames(checkpoint, view: ReplayView, playing: bool, names: tuple[str, ...]) -> None:
    """The slider, the map and the grid at the view's epoch; a tick while ``playing`` moves on one epoch."""
    from vae_core.replay_figure import caption

    if playing and view.playing and not view.advance():  # the last epoch: Play goes off, and the timer with it
        st.session_state.setdefault(shell_view.PENDING_KEY, {})[view.play_key] = False  # before the app's widgets
        st.rerun(scope="app")
    found = loaded(checkpoint)
    replay = found["replay"]
    epoch = st.slider("Epoch", 0, view.last_epoch, key=view.epoch_key,
                      help="0 is the initialisation, before any training")
    st.markdown(f"**{caption(epoch, view.last_epoch, checkpoint.history)}**")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(replay_view.replay_map(found["coords"][epoch], replay.labels, found["ranges"], names,
                                               title=replay_view.map_title(replay.latent_dim),
                                               latent_axes=replay.latent_axes, height=520),
                        key="training_replay_map")
    with right:
        ui.image(images.grid_png(replay.grids[epoch] / 255.0, 8, factor=2),
                 caption="Decoded from 64 fixed draws of the prior, the same at every epoch",
                 alt=f"An 8 by 8 grid of images decoded at epoch {epoch} from 64 fixed draws of the prior")
        st.plotly_chart(loss_with_cursor(checkpoint.history, epoch, view.last_epoch), key="training_replay_loss")
