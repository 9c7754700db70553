"""From training to an explorable model: quick maps first, slow maps followed by pages, the replay of every run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vae_core import store
from vae_core.config import ModelConfig, TrainConfig
from vae_core.map_progress import FOLDER, TIMINGS, MapWork, map_status, record_time, typical_seconds
from vae_core.projections import has_tsne, has_umap, load_projections
from vae_core.replay import load_replay
from vae_core.runs import DataCache, ensure_projections, open_run

MODEL = ModelConfig(latent_dim=3, hidden_dim=16)
TRAIN = TrainConfig(epochs=3, batch_size=32)


class Splits(DataCache):
    """A DataCache over in-memory splits: no files."""

    def __init__(self, train, test):
        super().__init__("mnist", None)
        self.splits = {True: train, False: test}

    def split(self, train: bool):
        return self.splits[train]


def trained(root: Path, tiny_data, on_epoch=None):
    with open_run(root, MODEL, TRAIN) as run:
        return run.train(*tiny_data, torch.device("cpu"), on_epoch=on_epoch)


def test_the_quick_maps_come_first_and_alone_when_the_slow_ones_wait(tmp_path, tiny_data):
    checkpoint = trained(tmp_path, tiny_data)
    lines = []
    ensure_projections(checkpoint, Splits(*tiny_data), slow=False, report=lines.append)
    arrays = load_projections(checkpoint)
    assert set(arrays) == {"mu", "labels", "pca", "pca_explained"}
    assert lines == [f"{checkpoint.name}: PCA of 200 test means saved: the model is explorable"]
    ensure_projections(checkpoint, Splits(*tiny_data), report=lines.append)  # later: t-SNE and UMAP from the means
    arrays_after = load_projections(checkpoint)
    assert has_tsne(arrays_after) and has_umap(arrays_after)
    assert {"nelbo", "kl"} <= set(arrays_after) and "confidence" not in arrays_after  # no classifier beside it
    assert any("per-digit nelbo, kl of 200 test digits: " in line for line in lines)  # after the maps
    assert typical_seconds(tmp_path, "per-digit values") is not None
    np.testing.assert_array_equal(arrays_after["pca"], arrays["pca"])  # the quick maps were not computed again
    assert map_status(tmp_path, checkpoint.name) is None  # nobody at work any more
    assert typical_seconds(tmp_path, "t-SNE") is not None and typical_seconds(tmp_path, "UMAP") is not None


def test_a_page_sees_who_computes_the_slow_maps_and_how_far(tmp_path):
    assert map_status(tmp_path, "model") is None
    with MapWork(tmp_path, "model") as work:
        assert not work.busy
        work.step("t-SNE", 0.4)
        status = map_status(tmp_path, "model")
        assert (status.step, status.fraction, status.words()) == ("t-SNE", 0.4, "t-SNE: computing, 40%")
        with MapWork(tmp_path, "model") as second:  # a second process asking for the same maps leaves them
            assert second.busy
        work.step("UMAP")
        assert map_status(tmp_path, "model").words() == "UMAP: computing"
    assert map_status(tmp_path, "model") is None
    assert not (tmp_path / FOLDER / "model.json").exists()


def test_a_killed_map_process_leaves_no_page_waiting(tmp_path):
    """The OS drops a dead process's lock: its progress file alone does not count."""
    script = ("import os, sys; from vae_core.map_progress import MapWork\n"
              "w = MapWork(sys.argv[1], 'model').__enter__(); w.step('t-SNE', 0.5); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=60)
    assert (tmp_path / FOLDER / "model.json").exists()
    assert map_status(tmp_path, "model") is None


def test_the_typical_time_is_a_median_of_recent_runs_and_the_file_stays_small(tmp_path):
    assert typical_seconds(tmp_path, "UMAP") is None
    for seconds in (4.0, 5.0, 80.0, 6.0):
        record_time(tmp_path, "UMAP", seconds)
    record_time(tmp_path, "t-SNE", 9.0)
    assert typical_seconds(tmp_path, "UMAP") == 5.5
    assert typical_seconds(tmp_path, "t-SNE") == 9.0
    for _ in range(200):
        record_time(tmp_path, "metrics", 3.0)
    lines = (tmp_path / FOLDER / TIMINGS).read_text().splitlines()
    assert len(lines) == 60 and all(json.loads(line)["step"] == "metrics" for line in lines)
    (tmp_path / FOLDER / TIMINGS).write_text("not json\n" + json.dumps({"step": "UMAP", "seconds": "x"}) + "\n")
    assert typical_seconds(tmp_path, "UMAP") is None  # a foreign line is skipped, never an error


def test_a_workers_first_maps_are_told_from_its_warm_ones(tmp_path):
    """A new worker loads UMAP's kernels first ('UMAP start') and its t-SNE beside that runs slower: the estimate
    for a warm worker takes the warm runs (the cold ones while there are none), a new one adds the start."""
    from dashboard.train.form import maps_seconds

    record_time(tmp_path, "UMAP start", 10.0)
    record_time(tmp_path, "UMAP", 6.0)
    record_time(tmp_path, "t-SNE", 20.0, cold=True)
    record_time(tmp_path, "metrics", 15.0)
    assert typical_seconds(tmp_path, "t-SNE", cold=False) == 20.0  # no warm run yet: the cold one
    assert maps_seconds(tmp_path, worker_warm=True) == (20.0 + 15.0, True)
    assert maps_seconds(tmp_path, worker_warm=False) == (max(20.0, 10.0 + 6.0) + 15.0, True)
    record_time(tmp_path, "t-SNE", 13.0)
    assert typical_seconds(tmp_path, "t-SNE", cold=False) == 13.0
    assert typical_seconds(tmp_path, "t-SNE", cold=True) == 20.0
    assert typical_seconds(tmp_path, "t-SNE") == 16.5
    assert maps_seconds(tmp_path, worker_warm=True) == (13.0 + 15.0, True)
    assert maps_seconds(tmp_path, worker_warm=False) == (20.0 + 15.0, True)
    record_time(tmp_path, "per-digit values", 2.0)  # after the maps, before the metrics
    assert maps_seconds(tmp_path, worker_warm=True) == (13.0 + 2.0 + 15.0, True)


def test_every_run_records_its_replay_from_the_initialisation(tmp_path, tiny_data):
    checkpoint = trained(tmp_path, tiny_data)
    replay = load_replay(checkpoint)
    assert list(replay.epochs) == [0, 1, 2, 3]
    assert replay.coords.shape[:2] == (4, len(tiny_data[1].labels))
    assert not np.allclose(replay.coords[0], replay.coords[-1])  # the map moved while it learned


def test_a_resumed_run_keeps_the_replay_of_its_earlier_epochs(tmp_path, tiny_data):
    class Stop(Exception):
        pass

    def stop_after_two(state):
        if state.epochs_done == 2:
            raise Stop

    with pytest.raises(Stop):
        trained(tmp_path, tiny_data, on_epoch=stop_after_two)
    assert store.resume_epochs(tmp_path, store.run_name(MODEL, TRAIN)) == 2
    resumed = trained(tmp_path, tiny_data)
    uninterrupted = trained(tmp_path / "fresh", tiny_data)
    replay, reference = load_replay(resumed), load_replay(uninterrupted)
    assert list(replay.epochs) == [0, 1, 2, 3]
    np.testing.assert_allclose(replay.coords, reference.coords, atol=1e-2)
    np.testing.assert_array_equal(replay.grids[:3], reference.grids[:3])


def test_the_cli_trains_with_maps_later_and_project_adds_them(tmp_path):
    from tests.conftest import write_fake_mnist

    data = write_fake_mnist(tmp_path / "data")
    root = tmp_path / "checkpoints"
    command = [sys.executable, "-m", "vae_core", "train", "--latent-dims", "2", "--epochs", "1", "--hidden-dim", "16",
               "--batch-size", "32", "--data-dir", str(data), "--checkpoint-dir", str(root), "--quiet"]
    done = subprocess.run(command + ["--maps", "later"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (checkpoint,), _ = store.scan(root)
    assert set(load_projections(checkpoint)) == {"mu", "labels", "pca", "pca_explained"}
    assert "the model is explorable" in done.stderr
    assert "t-SNE and UMAP left for later: run `vae-explorer project --dataset mnist`" in done.stderr
    assert load_replay(checkpoint) is not None
