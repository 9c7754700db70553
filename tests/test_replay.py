"""Training replay: the recorder, its resume-point tensors, replay.npz read with bounds, Procrustes
alignment, the GIF, `vae-explorer export replay`, and the Training page with and without a replay."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import TINY_TRAIN, synthetic_split
from vae_core import store
from vae_core.cli import main
from vae_core.config import ModelConfig
from vae_core.replay import (
    GRID_COUNT,
    REPLAY_FILE,
    Replay,
    ReplayRecorder,
    aligned,
    load_replay,
    pca_coords,
    replay_gif,
    subset_rows,
)
from vae_core.train import history_as_dicts, new_training_state, train_vae

CPU = torch.device("cpu")


def train_with_replay(root: Path, latent_dim: int, train, test, epochs: int = 2):
    """A tiny model trained ``epochs`` epochs with its replay recorded, saved as a checkpoint with replay.npz."""
    model_config = ModelConfig(latent_dim=latent_dim, hidden_dim=16)
    train_config = dataclasses.replace(TINY_TRAIN, epochs=epochs)
    recorder = ReplayRecorder.for_run(model_config, train_config, test)
    state = new_training_state(model_config, train_config, CPU)
    recorder.record(state.model, 0)
    state = train_vae(model_config, train_config, train, test, device=CPU, state=state,
                      on_epoch=lambda s: recorder.record(s.model, s.epochs_done))
    checkpoint = store.save_checkpoint(root, state.model, train_config, history_as_dicts(state.history))
    recorder.save(checkpoint.path)
    return store.read_checkpoint(checkpoint.path), recorder, state


@pytest.fixture(scope="module")
def splits():
    return synthetic_split(256, seed=1), synthetic_split(200, seed=2)


@pytest.fixture(scope="module")
def replay_root(tmp_path_factory, splits):
    """z = 2 and z = 3 with replays, z = 5 without (trained before replays were recorded)."""
    from tests.conftest import write_tiny_checkpoint

    root = tmp_path_factory.mktemp("replays")
    for latent_dim in (2, 3):
        train_with_replay(root, latent_dim, *splits)
    write_tiny_checkpoint(root, *splits, latent_dim=5, with_projections=False)
    return root


def checkpoint_of(root: Path, latent_dim: int) -> store.Checkpoint:
    return next(c for c in store.scan(root)[0] if c.model_config.latent_dim == latent_dim)


def test_recorder_keeps_epoch_0_and_every_epoch_the_subset_and_grid_fixed(splits):
    train, test = splits
    model_config = ModelConfig(latent_dim=3, hidden_dim=16)
    recorder = ReplayRecorder.for_run(model_config, TINY_TRAIN, test)
    assert np.array_equal(recorder.index, subset_rows(200)) and len(set(recorder.index.tolist())) == 200
    assert np.array_equal(subset_rows(10_000)[:5], subset_rows(10_000)[:5]) and len(subset_rows(10_000)) == 2000
    state = new_training_state(model_config, TINY_TRAIN, CPU)
    with torch.no_grad():
        initial_mu = state.model.encode(test.images[torch.as_tensor(recorder.index)])[0].numpy()
    recorder.record(state.model, 0)
    assert state.model.training  # the model's mode is given back
    train_vae(model_config, TINY_TRAIN, train, test, device=CPU, state=state,
              on_epoch=lambda s: recorder.record(s.model, s.epochs_done))
    replay = recorder.replay()
    assert replay.coords.shape == (3, 200, 2) and replay.grids.shape == (3, GRID_COUNT, 28, 28)
    assert replay.grids.dtype == np.uint8 and list(replay.epochs) == [0, 1, 2]
    assert np.allclose(replay.coords[0], pca_coords(initial_mu), atol=2e-3)  # epoch 0: the untrained model
    assert not np.allclose(replay.coords[0], replay.coords[2], atol=1e-2)
    assert np.array_equal(replay.labels, test.labels[torch.as_tensor(recorder.index)].numpy())
    with pytest.raises(ValueError, match="epoch 5 cannot follow"):
        recorder.record(state.model, 5)
    recorder.record(state.model, 1)  # a run resumed from an older point: later epochs go
    assert recorder.epochs_recorded == 2


def test_z2_keeps_the_latent_coordinates_and_the_tensors_round_trip_through_safetensors(tmp_path, splits):
    from safetensors.torch import load_file, save_file

    checkpoint, recorder, state = train_with_replay(tmp_path, 2, *splits)
    with torch.no_grad():
        mu = state.model.encode(splits[1].images[torch.as_tensor(recorder.index)])[0].numpy()
    assert np.allclose(recorder.replay().coords[-1], mu, atol=1e-2)  # float16 of the means themselves
    save_file({"model.x": torch.zeros(2), **recorder.to_tensors()}, tmp_path / "state.safetensors")
    back = ReplayRecorder.from_tensors(load_file(tmp_path / "state.safetensors"), checkpoint.model_config,
                                       checkpoint.train_config, splits[1])
    for name, array in recorder.arrays().items():
        assert np.array_equal(back.arrays()[name], array), name
    with pytest.raises(ValueError, match="another test subset"):
        ReplayRecorder.from_tensors(recorder.to_tensors(), checkpoint.model_config, checkpoint.train_config,
                                    synthetic_split(150, seed=3))
    with pytest.raises(ValueError, match="no replay"):
        ReplayRecorder.from_tensors({}, checkpoint.model_config, checkpoint.train_config, splits[1])


def test_saved_replay_reads_back_and_is_small(replay_root):
    checkpoint = checkpoint_of(replay_root, 3)
    replay = load_replay(checkpoint)
    assert replay.coords.shape == (3, 200, 2) and replay.latent_dim == 3 and replay.last_epoch == 2
    assert (checkpoint.path / REPLAY_FILE).stat().st_size < 200_000
    assert load_replay(checkpoint_of(replay_root, 5)) is None  # trained before replays: absent, not an error
    assert load_replay(checkpoint.path, latent_dim=3).coords.shape == replay.coords.shape  # a job's growing file


def _npz(path: Path, **arrays) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _bomb(path: Path) -> None:
    """A replay.npz whose coords header declares 10**9 values (the data is never written)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f2", "fortran_order": False,
                                                  "shape": (10, 100_000_000, 1)})
    good = dict(np.load(path))
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in good.items():
            if name != "coords":
                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{name}.npy", buffer.getvalue())
        archive.writestr("coords.npy", header.getvalue())


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 100), "not a readable"),
    (lambda p: p.write_bytes(b"\x93NUMPY garbage"), "not a readable"),
    (lambda p: _npz(p, mu=np.zeros((3, 2)), labels=np.zeros(3)), "lacks"),
    (_bomb, "declares 1,000,000,000 values in coords"),
    (lambda p: _npz(p, **{**dict(np.load(p)), "coords": np.full((3, 200, 2), np.nan, np.float16)}), "NaN"),
    (lambda p: _npz(p, **{**dict(np.load(p)), "latent_dim": np.array(7, np.int16)}), "latent size 7"),
    (lambda p: _npz(p, **{**dict(np.load(p)), "grids": np.zeros((3, 64, 28, 28), np.float64)}), "holds grids as"),
    (lambda p: _npz(p, **{**dict(np.load(p)), "labels": np.full(200, 12, np.uint8)}), "labels outside"),
    (lambda p: _npz(p, **{k: np.concatenate([v] * 3) if k in ("coords", "grids") else v
                          for k, v in dict(np.load(p)).items()} | {"epochs": np.arange(9)}),
     "more than 2 epochs can hold"),
])
def test_a_damaged_or_foreign_replay_is_one_line_naming_the_fix(tmp_path, replay_root, damage, message):
    import shutil

    shutil.copytree(checkpoint_of(replay_root, 3).path, tmp_path / "ck")
    checkpoint = store.read_checkpoint(tmp_path / "ck")
    damage(checkpoint.path / REPLAY_FILE)
    with pytest.raises(store.CheckpointError) as caught:
        load_replay(checkpoint)
    text = str(caught.value)
    assert message in text and "--force" in text and "\n" not in text, text


HEADER_DAMAGES = [  # what the zip directory and the .npy headers show, without inflating anything
    (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 100), "not a readable"),
    (lambda p: _npz(p, mu=np.zeros((3, 2)), labels=np.zeros(3)), "lacks"),
    (_bomb, "declares 1,000,000,000 values in coords"),
    (lambda p: _npz(p, **{**dict(np.load(p)), "grids": np.zeros((3, 64, 28, 28), np.float64)}), "holds grids as"),
]


@pytest.mark.parametrize("damage, message", HEADER_DAMAGES)
def test_list_reports_a_damaged_replay_from_its_headers_and_keeps_the_model(tmp_path, replay_root, damage, message):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(checkpoint_of(replay_root, 3).path, root / "ck")
    damage(root / "ck" / REPLAY_FILE)
    checkpoints, problems = store.scan(root)
    assert [c.name for c in checkpoints] == ["ck"]  # the model stays usable
    [problem] = problems
    assert REPLAY_FILE in problem.message and message in problem.message and "--force" in problem.message


def test_procrustes_removes_a_known_rotation_reflection_scale_and_shift():
    rng = np.random.default_rng(0)
    last = rng.standard_normal((300, 2)).astype(np.float32) * [3, 1]
    angle = 1.1
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mirrored = last @ rotation @ np.diag([1, -1]) * 0.25 + [5, -2]
    coords = np.stack([mirrored, last * 2 + 1, last]).astype(np.float32)
    replay = Replay(np.arange(3), np.arange(300), np.arange(300) % 10, coords, np.zeros((3, 64, 28, 28), np.uint8), 6)
    out = aligned(replay)
    assert np.allclose(out[0], last, atol=1e-4) and np.allclose(out[1], last, atol=1e-4)
    assert np.allclose(out[2], last)
    z2 = dataclasses.replace(replay, latent_dim=2)
    assert np.array_equal(aligned(z2), coords)  # z = 2: the latent coordinates themselves


def test_gif_has_one_frame_per_epoch_epoch_0_included(replay_root):
    checkpoint = checkpoint_of(replay_root, 2)
    gif = Image.open(io.BytesIO(replay_gif(load_replay(checkpoint), checkpoint.history)))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size[0] > 2 * gif.size[1] * 0.8


def test_cli_export_replay_writes_the_gif_and_a_model_without_one_names_the_retrain(replay_root, tmp_path,
                                                                                   capsys):
    name = checkpoint_of(replay_root, 3).name
    out = tmp_path / "r.gif"
    assert main(["export", "replay", "--model", name, "--checkpoint-dir", str(replay_root),
                 "--out", str(out)]) == 0, capsys.readouterr().err
    assert f"{name}: replay written to {out}" in capsys.readouterr().err
    assert Image.open(out).n_frames == 3
    old = checkpoint_of(replay_root, 5).name
    code = main(["export", "replay", "--model", old, "--checkpoint-dir", str(replay_root),
                 "--output", str(tmp_path / "o.gif")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "trained before replays were recorded" in err and "vae-explorer train --latent-dims 5 --hidden-dim 16 " \
        "--epochs 2 --batch-size 32 --force" in err
    assert not (tmp_path / "o.gif").exists()
    assert main(["export", "replay", "--model", name, "--checkpoint-dir", str(replay_root),
                 "--output", str(tmp_path / "r.png")]) == 2
    assert "replay writes .gif files" in capsys.readouterr().err


def values(array) -> np.ndarray:
    """A plotly spec's array: a list, or plotly's typed array ({"dtype", "bdata": base64})."""
    import base64

    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def test_training_page_plays_the_replay_and_says_when_there_is_none(monkeypatch, replay_root, empty_data):
    from tests.streamlit_internals import chart_spec
    from tests.test_dashboard import choose_model, open_app

    app = choose_model(open_app(monkeypatch, replay_root, empty_data, "training"), 3)
    assert not app.exception, [e.value for e in app.exception]
    spec = {chart.key: chart_spec(chart) for chart in app.get("plotly_chart")}["training_replay"]
    frames, layout = spec["frames"], spec["layout"]
    assert [frame["name"] for frame in frames] == ["0", "1", "2"]  # the initialisation and every epoch
    assert layout["sliders"][0]["active"] == 2 and "epoch 2 of 2" in layout["title"]["text"]  # the trained model
    assert [b["label"] for b in layout["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    for frame in frames:  # every frame moves the ten classes' 200 points, the grid and the loss marker
        points = frame["data"][:10]
        assert sum(len(values(trace["x"])) for trace in points) == 200
        assert frame["data"][10]["source"].startswith("data:image/png;base64,")
    assert frames[0]["data"][10]["source"] != frames[2]["data"][10]["source"]  # the samples change with training
    assert values(frames[0]["data"][0]["x"]).tolist() != values(frames[2]["data"][0]["x"]).tolist()
    assert "epoch 0 of 2" in frames[0]["layout"]["title"]["text"]
    (x0, x1), (y0, y1) = layout["xaxis"]["range"], layout["yaxis"]["range"]  # one pair of axes for every epoch
    for frame in frames:
        xs = np.concatenate([values(trace["x"]) for trace in frame["data"][:10]])
        ys = np.concatenate([values(trace["y"]) for trace in frame["data"][:10]])
        assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1
    assert any(button.label == "GIF" for button in app.get("download_button"))
    assert not app.slider and not app.toggle  # nothing to play on the server

    app = choose_model(app, 5)
    assert any("trained before replays were recorded" in c.value for c in app.caption)
    assert "training_replay" not in {chart.key for chart in app.get("plotly_chart")}


def test_a_job_cards_map_grows_with_the_replay_file_and_a_bad_file_shows_none(tmp_path, splits):
    from dashboard.shell.replay_view import job_replay_map

    train, test = splits
    model_config = ModelConfig(latent_dim=4, hidden_dim=16)
    recorder = ReplayRecorder.for_run(model_config, TINY_TRAIN, test)
    state = new_training_state(model_config, TINY_TRAIN, CPU)
    growing = tmp_path / ".replay-job.npz"
    assert job_replay_map(growing, 4) is None  # nothing recorded yet
    recorder.record(state.model, 0)
    recorder.save(growing)
    assert job_replay_map(growing, 4).layout.title.text == "epoch 0"
    train_vae(model_config, dataclasses.replace(TINY_TRAIN, epochs=1), train, test, device=CPU, state=state)
    recorder.record(state.model, 1)
    recorder.save(growing)
    figure = job_replay_map(growing, 4)
    assert figure.layout.title.text == "epoch 1" and len(figure.data) == 10
    assert sum(len(trace.x) for trace in figure.data) == 200
    assert job_replay_map(growing, 3) is None  # another model's file: no map, no error
    growing.write_bytes(b"not a zip")
    assert job_replay_map(growing, 4) is None
