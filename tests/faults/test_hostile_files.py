"""Fault matrix rows 25-34: hostile files in a checkpoint folder, each built for real in the test.

An .npz bomb, JSON nested 200,000 deep, integers of hundreds and thousands of digits, a sparse
safetensors file that declares gigabytes, an .npz that is not a zip, a NaN loss, a history of
100,000 epochs, a folder linked from outside the root, a temporary file a killed save left behind.
Each is reported on its own line naming the file, what it declares and the fix, and skipped;
the good models beside it keep working. The matrix is in tests/README.md.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.faults.conftest import NAME, edit_config, leftovers, one_line, open_app, run_cli, train_argv
from vae_core import cli, store
from vae_core.config import ModelConfig
from vae_core.evaluate import load_metrics
from vae_core.projections import load_projections
from vae_core.shapes import parameter_shapes

TEST_DIGITS = 200  # the tiny fixture's test split
PROJECT_FIX = r"vae-explorer project --dataset mnist"
RETRAIN_FIX = r"retrain with --force"


# ---------------------------------------------------------------- builders of hostile files


def good_projections(rows: int = TEST_DIGITS, latent_dim: int = 2) -> dict[str, np.ndarray]:
    """Arrays shaped as ``compute_projections`` writes them (no t-SNE run: the values do not matter)."""
    rng = np.random.default_rng(0)
    return {"mu": rng.normal(size=(rows, latent_dim)).astype(np.float16),
            "labels": (np.arange(rows) % 10).astype(np.int8),
            "pca": rng.normal(size=(rows, 2)).astype(np.float32),
            "pca_explained": np.array([0.6, 0.3], dtype=np.float32),
            "tsne": rng.normal(size=(rows // 2, 2)).astype(np.float32),
            "tsne_index": np.arange(0, rows, 2, dtype=np.int32)}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def npy_header(shape: tuple[int, ...], descr: str = "<f2") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()  # magic, version, length and the header


def write_npz_bomb(path: Path, rows: int, deflated_zeros: bool) -> None:
    """projections.npz whose mu.npy declares ``rows`` x 2 float16 values.

    ``deflated_zeros``: the member really inflates to that many zero bytes (a zip bomb);
    otherwise the member holds the .npy header alone and only the header lies.
    """
    arrays = good_projections()
    del arrays["mu"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array)
            archive.writestr(f"{name}.npy", buffer.getvalue())
        with archive.open("mu.npy", "w", force_zip64=True) as member:
            member.write(npy_header((rows, 2)))
            chunk, left = bytes(1 << 20), rows * 2 * 2 if deflated_zeros else 0
            while left > 0:
                member.write(chunk[:left])
                left -= len(chunk)


def nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def safetensors_header_for(shapes: dict[str, tuple[int, ...]]) -> tuple[bytes, int]:
    """(length + JSON header of a float32 safetensors file declaring ``shapes``, bytes of data it declares)."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw, offset


def sparse_safetensors(path: Path, shapes: dict[str, tuple[int, ...]]) -> int:
    """A safetensors file declaring ``shapes``, its data a sparse hole; returns its apparent size."""
    header, data = safetensors_header_for(shapes)
    path.write_bytes(header)
    os.truncate(path, len(header) + data)
    assert path.stat().st_blocks * 512 < 1 << 20, "the test needs a file system with sparse files"
    return len(header) + data


@pytest.fixture
def weights_never_read(monkeypatch):
    """Listing must read safetensors headers only: any call of safetensors' loaders fails the test."""
    import safetensors.numpy
    import safetensors.torch

    def refuse(*args, **kwargs):
        raise AssertionError("the weights were read")

    for module in (safetensors.numpy, safetensors.torch):
        monkeypatch.setattr(module, "load_file", refuse)
        monkeypatch.setattr(module, "load", refuse)


def listed_and_problems(root: Path) -> tuple[list[str], dict[str, str]]:
    checkpoints, problems = store.scan(root)
    return [c.name for c in checkpoints], {p.path.name: p.message for p in problems}


def assert_skipped_line(capsys, root: Path, name: str, pattern: str, listed: bool) -> str:
    """`list` exits 0, shows the model or not, and says one line about the hostile file."""
    code, out, err = run_cli(capsys, "list", "--checkpoint-dir", str(root))
    assert code == 0, err
    assert (name in out) == listed, out
    line = one_line(err)
    assert line.startswith(f"skipped {name}: ") and re.search(pattern, line), line
    return line


def peak_bytes(action) -> int:
    """The most Python and numpy memory ``action()`` held at once."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def export_csv(capsys, root: Path, data_dir: Path, tmp_path: Path, name: str = NAME) -> tuple[int, str]:
    output = tmp_path / "out.csv"
    code, _, err = run_cli(capsys, "export", "csv", "--model", name, "--checkpoint-dir", str(root),
                           "--data-dir", str(data_dir), "--output", str(output))
    return code, err


@pytest.fixture
def trained(capsys, root, fake_mnist_dir) -> Path:
    """NAME trained for real on the fake MNIST (3 tiny epochs), ready to receive a hostile cache file."""
    assert run_cli(capsys, *train_argv(fake_mnist_dir, root))[0] == 0
    return root / NAME


# ---------------------------------------------------------------- row 25: the projections.npz bomb


@pytest.mark.parametrize("deflated_zeros, rows", [(True, 20_000_000), (False, 500_000_000)],
                         ids=["deflated-zeros", "declared-only"])
def test_row25_projections_bomb_is_refused_from_its_headers(capsys, root, trained, fake_mnist_dir, tmp_path,
                                                            deflated_zeros, rows):
    write_npz_bomb(trained / store.PROJECTIONS_FILE, rows, deflated_zeros)
    checkpoint = store.read_checkpoint(trained)
    assert peak_bytes(lambda: load_projections(checkpoint)) < 8 << 20  # nothing was inflated
    assert load_projections(checkpoint) is None  # the page says "no cached latent map" and how to compute it
    listed, problems = listed_and_problems(root)
    declared = rf"projections\.npz declares {rows * 2:,} values in mu for at most 10,000 test digits"
    assert listed == [NAME] and re.search(declared + r".*" + PROJECT_FIX, problems[NAME]), problems
    assert_skipped_line(capsys, root, NAME, declared, listed=True)
    code, err = export_csv(capsys, root, fake_mnist_dir, tmp_path)  # the model itself keeps working
    assert code == 0, err


# ---------------------------------------------------------------- row 26: arrays that disagree


def _breakers() -> dict[str, tuple]:
    """name -> (edit of the arrays, the message, whether the scan sees it from the headers alone)."""
    def shorter_labels(a):
        a["labels"] = a["labels"][:50]

    def wider_mu(a):
        a["mu"] = np.zeros((TEST_DIGITS, 5), np.float16)

    def more_than_the_test_set(a):
        a.update(good_projections(rows=12_000))

    def nan_in_pca(a):
        a["pca"][3, 0] = np.nan

    def index_outside(a):
        a["tsne_index"][-1] = 10 * TEST_DIGITS

    def object_array(a):
        a["labels"] = np.array([{"x": 1}] * TEST_DIGITS, dtype=object)

    return {
        "labels-shorter-than-mu": (shorter_labels, r"holds labels of shape \(50,\) for the 200 rows of mu", True),
        "mu-wider-than-latent": (wider_mu, r"holds mu of shape \(200, 5\), but the model's latent size is 2", True),
        "more-rows-than-test-set": (more_than_the_test_set, r"declares 24,000 values in mu for at most 10,000", True),
        "nan-in-pca": (nan_in_pca, r"holds NaN or inf values in pca", False),
        "index-outside": (index_outside, r"holds tsne_index values outside the 200 test digits", False),
        "object-array": (object_array, r"labels as Python objects", True),
    }


@pytest.mark.parametrize("breaker", list(_breakers()))
def test_row26_projections_whose_arrays_disagree(capsys, root, copied, breaker):
    edit, pattern, from_headers = _breakers()[breaker]
    write_npz(copied / store.PROJECTIONS_FILE, good_projections())  # first, arrays as `project` writes them load
    assert load_projections(store.read_checkpoint(copied))["mu"].shape == (TEST_DIGITS, 2)
    assert listed_and_problems(root) == ([copied.name], {})
    arrays = good_projections()
    edit(arrays)
    with open(copied / store.PROJECTIONS_FILE, "wb") as handle:  # savez: object arrays are pickled
        np.savez(handle, **arrays, allow_pickle=True) if breaker == "object-array" else np.savez(handle, **arrays)
    checkpoint = store.read_checkpoint(copied)
    with pytest.raises(store.CheckpointError, match=pattern):
        store.read_projections(checkpoint)
    assert load_projections(checkpoint) is None
    listed, problems = listed_and_problems(root)
    assert listed == [copied.name]
    if from_headers:
        assert re.search(pattern + r".*" + PROJECT_FIX, problems[copied.name]), problems
    else:
        assert problems == {}  # values are checked when the maps are loaded, not on every listing


# ---------------------------------------------------------------- row 27: not a zip, or truncated


def _not_zip(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04" + bytes(100))


def _truncated(path: Path) -> None:
    write_npz(path, good_projections())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(3000))


@pytest.mark.parametrize("damage", [_not_zip, _truncated, _random], ids=["pk-header", "truncated", "random"])
def test_row27_projections_not_a_zip(capsys, root, trained, fake_mnist_dir, tmp_path, damage):
    damage(trained / store.PROJECTIONS_FILE)
    assert load_projections(store.read_checkpoint(trained)) is None
    pattern = r"projections\.npz is not a readable \.npz archive \(.*\).*" + PROJECT_FIX
    assert_skipped_line(capsys, root, NAME, pattern, listed=True)
    code, err = export_csv(capsys, root, fake_mnist_dir, tmp_path)
    assert code == 0, err


# ---------------------------------------------------------------- rows 28-29: deep JSON, huge integers


HOSTILE_JSON = {
    "config-deep": (store.CONFIG_FILE, lambda p: nested_json(10_000), r"config\.json is nested more than 32 levels"),
    "history-deep": (store.HISTORY_FILE, lambda p: nested_json(200_000),
                     r"history\.json is 400,000 bytes, more than the [\d,]+ its 2 epochs need"),
    "history-5000-digits": (store.HISTORY_FILE, None, r"history\.json holds an integer of 5,000 digits"),
    "history-400-digits": (store.HISTORY_FILE, None, r"history\.json holds an integer of 400 digits"),
}


def _history_with_loss(path: Path, loss: str) -> str:
    text = (path / store.HISTORY_FILE).read_text()
    rows = json.loads(text)
    rows[-1]["test_loss"] = "@@"
    return json.dumps(rows).replace('"@@"', loss)


@pytest.mark.parametrize("case", list(HOSTILE_JSON))
def test_row28_29_hostile_config_or_history_skips_the_model(capsys, root, copied, case):
    filename, text, pattern = HOSTILE_JSON[case]
    if text is None:
        digits = int(re.search(r"(\d[\d,]*) digits", pattern).group(1).replace(",", ""))
        text = lambda p, digits=digits: _history_with_loss(p, "9" * digits)  # noqa: E731
    (copied / filename).write_text(text(copied))
    listed, problems = listed_and_problems(root)
    assert listed == [] and re.search(pattern + r".*" + RETRAIN_FIX, problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


@pytest.mark.parametrize("text, pattern", [
    (nested_json(200_000), r"metrics\.json is nested more than 32 levels"),
    ('{"metrics_version": 1, "elbo": {"loss": ' + "9" * 400 + "}}", r"metrics\.json holds an integer of 400 digits"),
    ('{"metrics_version": ' + "1" * 5000 + "}", r"metrics\.json holds an integer of 5,000 digits"),
], ids=["deep", "400-digits", "5000-digits"])
def test_row28_29_hostile_metrics_is_skipped_and_the_model_kept(capsys, root, copied, text, pattern):
    (copied / store.METRICS_FILE).write_text(text)
    checkpoint = store.read_checkpoint(copied)
    assert load_metrics(checkpoint) is None  # Compare and the tables show the model without metrics
    listed, problems = listed_and_problems(root)
    assert listed == [copied.name]
    assert re.search(pattern + r".*vae-explorer evaluate --dataset mnist --force", problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=True)


# ---------------------------------------------------------------- row 30: safetensors declaring gigabytes


def mlp_shapes(hidden_dim: int, latent_dim: int = 2) -> dict[str, tuple[int, ...]]:
    """The MLP's tensor shapes for any width, built without ModelConfig (which bounds the width)."""
    small = parameter_shapes(ModelConfig(latent_dim=latent_dim, hidden_dim=16))
    return {name: tuple(hidden_dim if size == 16 else size for size in shape) for name, shape in small.items()}


def test_row30_sparse_safetensors_for_a_huge_config_is_refused_unread(capsys, root, copied, weights_never_read):
    edit_config(copied, lambda c: c["model"].update(hidden_dim=500_000))
    size = sparse_safetensors(copied / store.MODEL_FILE, mlp_shapes(500_000))
    assert size > 3_000_000_000
    pattern = r"hidden width 500,000 is more than the [\d,]+ this explorer trains"
    started = time.perf_counter()
    listed, problems = listed_and_problems(root)
    assert time.perf_counter() - started < 2  # reading 3 GB of zeros takes far longer
    assert listed == [] and re.search(pattern + r".*--hidden-dim", problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


def test_row30_safetensors_declaring_gigabytes_past_its_end_is_refused_unread(capsys, root, copied,
                                                                               weights_never_read):
    header, data = safetensors_header_for({**mlp_shapes(16), "encoder_hidden.weight": (800_000, 784)})
    assert data > 2_000_000_000
    (copied / store.MODEL_FILE).write_bytes(header + bytes(4096))  # 4 KB on disk, no sparse hole
    pattern = r"model\.safetensors is not a readable safetensors file \(declares 2,\d{3},\d{3},\d{3} bytes"
    listed, problems = listed_and_problems(root)
    assert listed == [] and re.search(pattern, problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


def test_row30_sparse_safetensors_declaring_other_shapes_is_refused_from_the_header(capsys, root, copied,
                                                                                     weights_never_read):
    shapes = {**mlp_shapes(16), "encoder_hidden.weight": (16, 50_000_000)}
    sparse_safetensors(copied / store.MODEL_FILE, shapes)
    pattern = r"encoder_hidden\.weight has shape \(16, 50000000\) but config\.json \(latent 2\) needs \(16, 784\)"
    listed, problems = listed_and_problems(root)
    assert listed == [] and re.search(pattern, problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


def test_row30_listing_reads_headers_only(capsys, root, copied, weights_never_read):
    """A good checkpoint is listed without its weights being read; they are read when the model is loaded."""
    assert listed_and_problems(root) == ([copied.name], {})
    with pytest.raises(AssertionError, match="the weights were read"):
        store.load_model(store.read_checkpoint(copied))


# ---------------------------------------------------------------- row 31: a NaN loss


@pytest.mark.parametrize("loss, shown", [("NaN", "nan"), ("Infinity", "inf"), ("1e999", "inf")])
def test_row31_non_finite_loss_in_history_skips_the_model(capsys, root, copied, loss, shown):
    (copied / store.HISTORY_FILE).write_text(_history_with_loss(copied, loss))
    pattern = rf"history\.json has test_loss = {shown} at epoch 2"
    listed, problems = listed_and_problems(root)
    assert listed == [] and re.search(pattern + r".*" + RETRAIN_FIX, problems[copied.name]), problems
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


# ---------------------------------------------------------------- row 32: a history far longer than its epochs


def test_row32_huge_history_is_refused_by_its_size_before_parsing(capsys, root, copied):
    row = json.loads((copied / store.HISTORY_FILE).read_text())[0]
    (copied / store.HISTORY_FILE).write_text(json.dumps([{**row, "epoch": i} for i in range(1, 100_001)]))
    assert (copied / store.HISTORY_FILE).stat().st_size > 10_000_000
    assert peak_bytes(lambda: store.scan(root)) < 2 << 20  # the file was never read, let alone parsed
    pattern = r"history\.json is [\d,]+ bytes, more than the [\d,]+ its 2 epochs need"
    assert_skipped_line(capsys, root, copied.name, pattern, listed=False)


def test_row32_more_rows_than_epochs(capsys, root, copied):
    row = json.loads((copied / store.HISTORY_FILE).read_text())[0]
    (copied / store.HISTORY_FILE).write_text(json.dumps([{**row, "epoch": i} for i in range(1, 6)]))
    assert_skipped_line(capsys, root, copied.name, r"history\.json holds 5 epochs but config\.json trains 2",
                        listed=False)


# ---------------------------------------------------------------- row 33: a folder linked from outside the root


def test_row33_symlink_out_of_the_root_is_refused_alike_by_list_the_app_and_export(
        capsys, monkeypatch, tmp_path, root, good_checkpoint, empty_data, fake_mnist_dir):
    outside = tmp_path / "outside"
    shutil.copytree(good_checkpoint, outside / good_checkpoint.name)
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    (root / "linked").symlink_to(outside / good_checkpoint.name, target_is_directory=True)
    pattern = rf"'linked' leads outside the checkpoint directory {re.escape(str(root))}"
    listed, problems = listed_and_problems(root)
    assert listed == [good_checkpoint.name] and re.search(pattern, problems["linked"]), problems
    line = assert_skipped_line(capsys, root, "linked", pattern, listed=False)
    code, err = export_csv(capsys, root, fake_mnist_dir, tmp_path, name="linked")
    assert code == cli.EXIT_USAGE and line.removeprefix("skipped linked: ") in one_line(err)
    app = open_app(monkeypatch, root, empty_data, query={"model": "linked"})
    model = app.sidebar.selectbox[-1]
    assert len(model.options) == 1 and model.value == good_checkpoint.name  # the link is never offered
    assert any("`linked`: " in w.value and "leads outside" in w.value for w in app.main.warning)


# ---------------------------------------------------------------- row 34: leftover temporary files in a checkpoint


def test_row34_leftover_temp_files_inside_a_checkpoint_are_cleaned_by_recovery(capsys, root, trained,
                                                                                fake_mnist_dir):
    stale = [trained / ".tmp-projections.npz-1a2b3c4d", trained / ".tmp-metrics.json-5e6f7a8b"]
    for path in stale:
        path.write_bytes(bytes(1000))
        os.utime(path, (time.time() - 3600, time.time() - 3600))  # left by a save killed an hour ago
    fresh = trained / ".tmp-projections.npz-0f0f0f0f"  # a save that is running right now
    fresh.write_bytes(bytes(10))
    code, _, err = run_cli(capsys, *train_argv(fake_mnist_dir, root))  # a cache hit: recovery runs first
    assert code == 0 and "cached" in err, err
    assert leftovers(root) == [fresh.name]
    assert listed_and_problems(root) == ([NAME], {})
