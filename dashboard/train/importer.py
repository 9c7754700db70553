"""The Train page's import: a state_dict from the pytorch/examples VAE tutorial, uploaded and made a checkpoint.

The upload is checked at once, in this run (keys, shapes, finite values, a pickle that would run
code): a refusal is one line and nothing is kept. An accepted file is imported by a background
process (``vae_core.import_runs``), which saves the model with its PCA map in a few seconds and then
computes its test loss and its t-SNE and UMAP maps; the list below polls while one runs.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import streamlit as st

from dashboard.shell import links
from vae_core import import_runs
from vae_core.classes import display_name
from vae_core.config import DATASETS
from vae_core.importing import MAX_IMPORT_BYTES, ImportRefused, read_tutorial_vae

NAME, DATASET, ERROR = "train_import_name", "train_import_dataset", "train_import_error"
UPLOADS = "train_import_uploads"  # how many files were imported: part of the uploader's key, so it empties after each
LISTED = "train_import_listed"  # the imports whose model this session's pages list
POLL_SECONDS = 1.0
SHOWN = 5  # the newest imports listed
STALLED_SECONDS = 600  # a run with no status whose log has not moved for this long has died


def section(root: Path) -> None:
    """The upload form and the imports started from this dashboard."""
    st.subheader("Import a model you trained")
    st.markdown("A VAE trained with the [pytorch/examples tutorial](https://github.com/pytorch/examples/tree/main/vae)"
                ": save it with `torch.save(model.state_dict(), 'vae.pt')` and upload the file. It is read as "
                "tensors only (never as code), becomes a model here, and gets its maps and test loss.")
    st.file_uploader("State dict (.pt, .pth or .safetensors)", type=["pt", "pth", "safetensors"], key=_upload_key(),
                     max_upload_size=math.ceil(MAX_IMPORT_BYTES / (1 << 20)))  # the server's maxUploadSize
    name, dataset = st.columns(2)
    name.text_input("Name (optional)", key=NAME, max_chars=80,
                    help="The model's folder name; by default DATASET-zZ-hH-imported-HASH")
    dataset.selectbox("Trained on", DATASETS, format_func=display_name, key=DATASET)
    st.button("Import", key="train_import_submit", icon=":material/input:", on_click=_submit, args=(root,),
              disabled=st.session_state.get(_upload_key()) is None)
    if st.session_state.get(ERROR):
        st.error(st.session_state[ERROR], icon=":material/block:")
    started = import_runs.runs(root)[:SHOWN]
    polling = any(_running(run) for run in started)
    st.fragment(_runs, run_every=POLL_SECONDS if polling else None)(root, polling)


def _submit(root: Path) -> None:
    """The Import button: check the upload here, then start the import in the background (or say why not)."""
    from vae_core.cli.importing import check_name
    from vae_core.store import CheckpointError

    upload, dataset = st.session_state.get(_upload_key()), st.session_state.get(DATASET, DATASETS[0])
    st.session_state[ERROR] = None
    if upload is None:
        return
    staged = import_runs.stage(root, f"upload-{time.time_ns()}", upload.name, upload.getvalue())
    try:
        imported = read_tutorial_vae(staged)
        name = (st.session_state.get(NAME) or "").strip() or imported.derived_name(dataset)
        check_name(root, name, force=False)
    except (ImportRefused, CheckpointError) as error:
        st.session_state[ERROR] = str(error).replace(str(staged), upload.name)
        import_runs.discard(staged)
        return
    final = import_runs.rename(staged, name)  # written once: the checked file is the one imported
    import_runs.start(root, final, name, dataset)
    st.session_state[UPLOADS] = st.session_state.get(UPLOADS, 0) + 1


def _upload_key() -> str:
    return f"train_import_file_{st.session_state.get(UPLOADS, 0)}"


def _running(run: import_runs.ImportRun) -> bool:
    try:
        quiet = time.time() - (run.folder / "log.txt").stat().st_mtime
    except OSError:
        return False
    return run.status is None and quiet < STALLED_SECONDS


def _runs(root: Path, polling: bool) -> None:
    """One line per import: its last step while it runs, then its result; reruns the app when polling changes."""
    started = import_runs.runs(root)[:SHOWN]
    listed = {run.name for run in started if (root / run.name / "config.json").is_file()}  # saved: pages list it
    newly_listed, st.session_state[LISTED] = listed - st.session_state.get(LISTED, listed), listed
    if polling != any(_running(run) for run in started) or newly_listed:
        st.rerun(scope="app")  # a fragment cannot change its own polling; the sidebar lists the new model
    for run in started:
        lines = run.lines()
        last = (lines[-1] if lines else "starting").removeprefix(f"{run.name}: ")
        if _running(run):
            st.info(f"**{run.name}**: {last}", icon=":material/hourglass_top:")
        elif run.status == 0:
            st.success(f"**{run.name}**: {last}", icon=":material/check_circle:")
        else:
            st.error(f"**{run.name}**: {last}", icon=":material/error:")
        opened = run.name in listed and st.button("Open in the explorer", key=f"train_import_open_{run.name}",
                                                  icon=":material/tune:")
        if opened:
            links.open_model("explorer/page.py", run.name, _dataset_of(run))


def _dataset_of(run: import_runs.ImportRun) -> str:
    """The data set the import was started for (its command line), MNIST when unreadable."""
    try:
        args = json.loads((run.folder / "args.json").read_text(encoding="utf-8"))
        return args[args.index("--dataset") + 1]
    except (OSError, ValueError, IndexError):
        return DATASETS[0]
