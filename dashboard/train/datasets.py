"""Train page: register your own images as a data set (``vae_core.user_data``), as `vae-explorer data add` does.

The source is a folder on this machine (one subfolder of images per class, torchvision's ImageFolder layout) or an
``.npz`` of images and labels, given by its path, or uploaded: an ``.npz``, or a ``.zip`` of such a folder. A zip is
checked from its directory before anything is extracted (member count, total size, no path leaving the folder). A
source that cannot be used is one line naming the file, and nothing is registered.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import streamlit as st

from vae_core.config import DEFAULT_SIDE, DEFAULT_TEST_FRACTION, MAX_SIDE, MIN_SIDE, ConfigError
from vae_core.data import DataUnavailableError

MAX_UPLOAD_MB = 200  # the uploader's limit, and a zip's total size once extracted
MAX_ZIP_MEMBERS = 200_000
COLOURS = {"auto": "Auto (RGB when any image has colour)", "grey": "Grey", "rgb": "RGB"}


def section(root: Path) -> None:
    """The registered data sets, and the form that registers one."""
    from vae_core import user_data

    st.subheader("Your own images")
    infos, problems = user_data.list_datasets(root)
    if infos:
        st.markdown("Registered: " + "; ".join(
            f"**{i.name}** ({i.train_count:,} + {i.test_count:,} images, {i.side} x {i.side} "
            f"{'RGB' if i.channels == 3 else 'grey'}, {len(i.class_names)} classes)" for i in infos)
            + ". Pick one as the data set above to train on it.")
    for name, why in problems:
        st.caption(f":material/error: {name}: {why}")
    with st.form("register_dataset"):
        st.markdown("Register an image folder (one subfolder per class: the subfolders' names become the class "
                    "names) or an `.npz` of `images` and `labels`, from a path on this machine or uploaded.")
        name, path = st.columns(2)
        name.text_input("Name", key="dataset_name", placeholder="e.g. my-sketches",
                        help="Lower-case letters, digits and dashes; it names the data set everywhere.")
        path.text_input("Folder or .npz on this machine", key="dataset_path")
        st.file_uploader("…or upload an .npz, or a .zip of the folder", type=["npz", "zip"], key="dataset_upload",
                         max_upload_size=MAX_UPLOAD_MB)
        size, colour, fraction, seed = st.columns(4)
        size.number_input("Side (pixels)", MIN_SIDE, MAX_SIDE, DEFAULT_SIDE, key="dataset_size",
                          help="Every image is resized to a square of this side.")
        colour.selectbox("Colour", list(COLOURS), format_func=COLOURS.get, key="dataset_colour")
        fraction.number_input("Test share", 0.01, 0.5, round(DEFAULT_TEST_FRACTION, 4), key="dataset_fraction",
                              help="Held out per class (stratified) as the test images the maps show.")
        seed.number_input("Split seed", 0, 2**31 - 1, 0, key="dataset_seed")
        st.form_submit_button("Register", on_click=register, args=(root,))
    note = st.session_state.pop("dataset_note", None)
    if note:
        (st.success if note[0] else st.error)(note[1])


def register(root: Path) -> None:
    """The form's callback: register the source, keep one line saying what happened for the next run."""
    from vae_core import user_data

    state = st.session_state
    name, upload, typed = str(state.get("dataset_name") or "").strip(), state.get("dataset_upload"), \
        str(state.get("dataset_path") or "").strip()
    try:
        if not upload and not typed:
            raise ConfigError("give a folder or .npz path on this machine, or upload one")
        with tempfile.TemporaryDirectory(prefix="vae-upload-") as work:
            source = unpacked(upload, Path(work)) if upload else Path(typed).expanduser()
            info, seconds = user_data.register(root, name, source, side=int(state["dataset_size"]),
                                               colour=state["dataset_colour"],
                                               test_fraction=float(state["dataset_fraction"]),
                                               seed=int(state["dataset_seed"]))
    except (ConfigError, DataUnavailableError, OSError) as error:
        state["dataset_note"] = (False, f"Not registered: {error}")
        return
    state["dataset_note"] = (True, f"Registered {info.name}: {info.train_count:,} train and {info.test_count:,} test "
                                   f"images in {sum(seconds.values()):.1f} s. Pick it as the data set above.")


def unpacked(upload, work: Path) -> Path:
    """An uploaded .npz as a file in ``work``, or a .zip's folder extracted there after its directory is checked."""
    target = work / Path(upload.name).name
    target.write_bytes(upload.getvalue())
    if target.suffix.lower() != ".zip":
        return target
    try:
        with zipfile.ZipFile(target) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if len(members) > MAX_ZIP_MEMBERS or total > MAX_UPLOAD_MB << 20:
                raise ConfigError(f"{upload.name} holds {len(members):,} files, {total / 2**20:,.0f} MB once "
                                  f"extracted: at most {MAX_ZIP_MEMBERS:,} files and {MAX_UPLOAD_MB} MB")
            for member in members:
                if member.filename.startswith(("/", "\\")) or ".." in Path(member.filename).parts:
                    raise ConfigError(f"{upload.name} holds {member.filename!r}, a path outside its folder")
            archive.extractall(work / "folder")
    except zipfile.BadZipFile as error:
        raise ConfigError(f"{upload.name} is not a readable zip ({error})") from error
    folder = work / "folder"
    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    # A zip of the folder itself holds one folder of class folders: register that one.
    return entries[0] if len(entries) == 1 and entries[0].is_dir() and any(entries[0].iterdir()) \
        and all(p.is_dir() for p in entries[0].iterdir() if not p.name.startswith(".")) else folder
