"""Download buttons: a figure as PNG (and GIF when it moves), the encoded test set as CSV or a projector log.

Files that take a moment to build (GIF, CSV, the projector's zip) are passed as callables:
Streamlit builds them only when the button is clicked, on its own thread, so a rerun never
pays for them. Those callables close over arrays and models already loaded: no Streamlit call
runs inside them.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

WALK_STEPS = 10  # digits per model in Compare's walk as a file (the live walk itself is continuous)


def figure(name: str, png: bytes | Callable[[], bytes], gif: Callable[[], bytes] | None, key: str) -> None:
    """PNG (and GIF) download buttons for the figure above; ``name`` becomes the file name.

    ``png`` is the bytes of a figure the page shows anyway, or a callable for one it does not draw.
    """
    row = st.container(horizontal=True)
    row.download_button("PNG", png, file_name=f"{name}.png", mime="image/png", key=f"{key}_png",
                               on_click="ignore", icon=":material/download:", help="The figure as shown")
    if gif is not None:
        row.download_button("GIF", gif, file_name=f"{name}.gif", mime="image/gif", key=f"{key}_gif",
                                   on_click="ignore", icon=":material/animation:",
                                   help="The same digits as an animation that walks forward and back")


def line_gif(model, start, end, steps: int) -> Callable[[], bytes]:
    """A GIF of the digits decoded along the line from start [D] to end [D] (built when clicked)."""

    def build() -> bytes:
        from vae_core import exports
        from vae_core.explore import decode, interpolate

        return exports.strip_gif(decode(model, interpolate(start, end, steps)))

    return build


def walk(name: str, models: list, labels: list[str], lines: list, steps: int = WALK_STEPS) -> None:
    """Compare's walk as files: one row per model (PNG), or every model's digit moving at once (GIF).

    lines: (start [D], end [D]) per model, in that model's own latent space.
    """
    from vae_core import exports

    def rows():  # [models, steps, 28, 28], decoded on a click: each report of the live walk reruns this fragment
        import numpy as np

        from vae_core.explore import decode, interpolate

        return np.stack([decode(model, interpolate(start, end, steps)) for model, (start, end) in
                         zip(models, lines, strict=True)])

    figure(name, lambda: exports.rows_png(rows(), labels, None, factor=2),
           lambda: exports.rows_gif(rows(), columns=len(models)), "compare_walk")


def encoded_test_set(checkpoint, model, split, arrays, class_names: tuple[str, ...]) -> None:
    """The Latent map's exports: the encoded test set as CSV and as a TensorBoard projector log (zip)."""
    from vae_core import exports

    st.subheader("Export the encoded test set")
    if split is None:
        st.caption("Both exports need the test images (for log-variances and the projector's sprite): "
                   "set VAE_DATA_DIR, or use `vae-explorer export csv --data-dir DIR`.")
        return
    same = arrays is not None and len(arrays["mu"]) == len(split.labels)
    labels = split.labels.numpy()

    def csv() -> bytes:
        return exports.test_set_csv(*exports.encode_test_set(model, split.images), labels, arrays if same else None)

    def projector() -> bytes:
        mu, _ = exports.encode_test_set(model, split.images)
        return exports.projector_zip(mu, labels, split.images, class_names, folder=f"{checkpoint.name}-projector")

    row = st.container(horizontal=True)
    row.download_button("CSV", csv, file_name=f"{checkpoint.name}-test-set.csv", mime="text/csv",
                         key="export_csv", on_click="ignore", icon=":material/table:",
                         help="index, label, mu_*, logvar_* and the x / y of every cached map, one row per test digit")
    row.download_button("TensorBoard projector", projector, file_name=f"{checkpoint.name}-projector.zip",
                          mime="application/zip", key="export_projector", on_click="ignore",
                          icon=":material/view_in_ar:",
                          help="Unzip, then `tensorboard --logdir FOLDER` and open the Projector tab")
    st.caption(f"{len(labels):,} test digits. The same from the command line: "
                 f"`vae-explorer export csv --model {checkpoint.name}` (or `projector`).")
