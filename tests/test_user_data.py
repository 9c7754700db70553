"""Registering your own image data set (`vae-explorer data add`) from real images no one here made.

scikit-learn's ``load_digits`` (1,797 scans of 8 x 8, shipped inside scikit-learn) written as a PNG image
folder, tinted into RGB, or saved as an .npz; the MNIST test set written as 10,000 PNG files. Every hostile
input ends in one line naming the file, with no ``datasets/NAME`` and no temporary folder left behind.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.faults.conftest import one_line, run_cli
from vae_core import cli, user_data
from vae_core.config import ConfigError, TrainConfig
from vae_core.data import DataUnavailableError, image_set, load_split
from vae_core.image_sources import SourceRefused

LUMA = (19595, 38470, 7471)  # Pillow's convert("L") weights, in 1/65536


def write_folder(folder: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """images uint8 [N, H, W] or [N, H, W, 3] -> FOLDER/<label>/<row>.png, torchvision's ImageFolder layout."""
    for row, (image, label) in enumerate(zip(images, labels, strict=True)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{row:05d}.png")
    return folder


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8 x 8 digit scans as uint8 [N, 8, 8] (its 17 grey levels spread over 0-255), labels [N]."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    return np.rint(loaded.images * 255 / 16).astype(np.uint8), loaded.target.astype(np.int64)


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory, digits) -> Path:
    return write_folder(tmp_path_factory.mktemp("digits") / "folder", *digits)


@pytest.fixture(scope="module")
def tinted(digits) -> np.ndarray:
    """The first 300 digits tinted: red the scan, green half of it, blue its negative. uint8 [300, 8, 8, 3]."""
    grey = digits[0][:300]
    return np.stack([grey, grey // 2, 255 - grey], axis=-1)


def source_order(labels: np.ndarray) -> np.ndarray:
    """The rows of ``write_folder``'s images in the order a folder is read: by class folder, then by file name."""
    return np.argsort(labels, kind="stable")


def no_trace(root: Path, name: str) -> None:
    """Nothing of a refused registration: no datasets/NAME and no temporary folder."""
    folder = root / user_data.DATASETS_FOLDER
    assert not (folder / name).exists()
    assert not folder.exists() or list(folder.iterdir()) == []


# ---------------------------------------------------------------- an image folder


def test_digits_folder_at_28_reads_back_as_a_split(tmp_path, digits, digits_folder):
    images, labels = digits
    info, seconds = user_data.register(tmp_path, "digits", digits_folder)
    assert (info.channels, info.side, info.class_names) == (1, 28, tuple("0123456789"))
    assert (info.train_count, info.test_count) == (1797 - 300, 300)  # round(1797 / 6)
    assert set(seconds) == {"read", "split", "write"}

    test = load_split("digits", train=False, checkpoint_dir=tmp_path)
    train = load_split("digits", train=True, checkpoint_dir=tmp_path)
    assert test.images.shape == (300, 784) and train.images.shape == (1497, 784)
    assert str(test.images.dtype) == "torch.float32" and str(test.labels.dtype) == "torch.int64"
    assert float(train.images.min()) >= 0 and 0.9 < float(train.images.max()) <= 1
    # Stratified: each class gives the test split its share of 300, rounded one way or the other.
    per_class = Counter(labels.tolist())
    for label, count in Counter(test.labels.tolist()).items():
        assert math.floor(per_class[label] * 300 / 1797) <= count <= math.ceil(per_class[label] * 300 / 1797)
    assert image_set("digits", tmp_path) == (1, 28, tuple("0123456789"))
    assert image_set("mnist") == (1, 28, tuple("0123456789"))

    # Each stored image is its own source scan, resized by Pillow: the split knows which image went where.
    order = source_order(labels)
    _, test_rows = user_data.split_rows(labels[order], 1 / 6, 0)
    for row in (0, 150, 299):
        source = Image.fromarray(images[order][test_rows[row]])
        expected = np.asarray(source.resize((28, 28), Image.Resampling.LANCZOS, reducing_gap=3.0))
        assert np.array_equal(np.rint(test.images[row].numpy() * 255).reshape(28, 28), expected)
        assert test.labels[row] == labels[order][test_rows[row]]


def test_at_its_own_size_every_pixel_and_label_is_kept(tmp_path, digits, digits_folder):
    images, labels = digits
    user_data.register(tmp_path, "digits8", digits_folder, side=8)
    order = source_order(labels)
    train_rows, test_rows = user_data.split_rows(labels[order], 1 / 6, 0)
    for train, rows in ((True, train_rows), (False, test_rows)):
        stored, stored_labels, _ = user_data.load_arrays(tmp_path, "digits8", train)
        assert np.array_equal(stored[:, 0], images[order][rows])
        assert np.array_equal(stored_labels, labels[order][rows])


def test_the_same_seed_gives_the_same_split_another_seed_another(tmp_path, digits_folder):
    first, _ = user_data.register(tmp_path, "a", digits_folder, side=8)
    again, _ = user_data.register(tmp_path, "b", digits_folder, side=8)
    other, _ = user_data.register(tmp_path, "c", digits_folder, side=8, seed=1)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    a, b, c = (user_data.load_arrays(tmp_path, name, False)[0] for name in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c) and len(a) == len(c)


def test_a_tinted_folder_registers_as_rgb_and_grey_on_request(tmp_path, digits, tinted):
    folder = write_folder(tmp_path / "tinted", tinted, digits[1][:300])
    info, _ = user_data.register(tmp_path, "tinted", folder, side=8)
    assert info.channels == 3 and info.colour == "RGB"
    stored, labels, _ = user_data.load_arrays(tmp_path, "tinted", False)
    assert stored.shape == (50, 3, 8, 8)
    order = source_order(digits[1][:300])
    _, rows = user_data.split_rows(digits[1][:300][order], 1 / 6, 0)
    assert np.array_equal(stored.transpose(0, 2, 3, 1), tinted[order][rows])
    assert load_split("tinted", train=True, checkpoint_dir=tmp_path).images.shape == (250, 3 * 8 * 8)
    assert image_set("tinted", tmp_path).pixels == 192

    info, _ = user_data.register(tmp_path, "tinted-grey", folder, side=8, colour="grey")
    grey, _, _ = user_data.load_arrays(tmp_path, "tinted-grey", False)
    rgb = tinted[order][rows].astype(np.int64)
    assert info.channels == 1 and np.array_equal(grey[:, 0], (rgb @ np.array(LUMA) + 32768) >> 16)


def test_grey_pictures_stay_grey_unless_rgb_is_asked(tmp_path, digits):
    grey = digits[0][:60]
    folder = write_folder(tmp_path / "grey-as-rgb", np.stack([grey] * 3, axis=-1), digits[1][:60])  # RGB PNGs
    assert user_data.register(tmp_path, "auto", folder, side=8)[0].channels == 1
    info, _ = user_data.register(tmp_path, "rgb", folder, side=8, colour="rgb")
    stored = user_data.load_arrays(tmp_path, "rgb", True)[0]
    assert info.channels == 3 and np.array_equal(stored[:, 0], stored[:, 2])


# ---------------------------------------------------------------- an .npz


def test_npz_layouts_and_class_names(tmp_path, digits, tinted):
    images, labels = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    np.savez(tmp_path / "grey.npz", images=images, labels=labels, class_names=names)
    info, _ = user_data.register(tmp_path, "grey", tmp_path / "grey.npz")
    assert (info.kind, info.channels, info.side, info.class_names) == ("npz", 1, 28, tuple(names))
    assert info.train_count + info.test_count == 1797

    tint_labels = labels[:300]
    np.savez(tmp_path / "last.npz", images=tinted, labels=tint_labels)  # [N, H, W, C] uint8
    np.savez(tmp_path / "first.npz", images=tinted.transpose(0, 3, 1, 2) / 255.0, labels=tint_labels)  # floats
    last, _ = user_data.register(tmp_path, "last", tmp_path / "last.npz", side=8)
    first, _ = user_data.register(tmp_path, "first", tmp_path / "first.npz", side=8)
    assert last.channels == first.channels == 3 and last.class_names == tuple("0123456789")
    assert last.fingerprint == first.fingerprint  # the same pixels, whichever layout and type held them
    _, rows = user_data.split_rows(tint_labels, 1 / 6, 0)  # an .npz keeps its own order
    assert np.array_equal(user_data.load_arrays(tmp_path, "last", False)[0].transpose(0, 2, 3, 1), tinted[rows])


# ---------------------------------------------------------------- hostile input: one line, nothing registered


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` 8-bit grey pixels, with one tiny IDAT: a header, no image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


class Payload:
    """Unpickling this touches a file: proof that a pickle in an .npz ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def small_folder(tmp_path: Path, digits) -> Path:
    return write_folder(tmp_path / "source", digits[0][:20], digits[1][:20])


def _empty(tmp_path, digits):
    (tmp_path / "source").mkdir()
    return tmp_path / "source", tmp_path / "source", "holds no class subfolders"


def _empty_class(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    for file in (folder / "3").iterdir():
        file.unlink()
    return folder, folder / "3", "holds no images"


def _mixed_sizes(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(folder / "3" / "wide.png")
    return folder, folder / "3" / "wide.png", "is 8 x 9 pixels but"


def _corrupt(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    file = folder / "2" / "cut.png"
    Image.fromarray(digits[0][0]).save(file)
    file.write_bytes(file.read_bytes()[:60])  # the IDAT cut short
    return folder, file, "readable"


def _text_named_png(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    (folder / "1" / "notes.png").write_text("not a picture\n")
    return folder, folder / "1" / "notes.png", "is not an image Pillow reads"


def _text_file(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    (folder / "1" / "README.txt").write_text("scanned in 1998\n")
    return folder, folder / "1" / "README.txt", "is not an image Pillow reads"


def _huge_header(tmp_path, digits):
    folder = small_folder(tmp_path, digits)
    (folder / "4" / "huge.png").write_bytes(png_claiming(10_000, 10_000))
    return folder, folder / "4" / "huge.png", "declares 10000 x 10000 pixels, more than the 40,000,000"


def _pickled_npz(tmp_path, digits):
    file = tmp_path / "pickled.npz"
    np.savez(file, images=np.array([Payload(tmp_path / "ran")], dtype=object), labels=np.zeros(1, np.int64))
    return file, file, "holds images as Python objects, which are never unpickled"


def _npz_bomb(tmp_path, digits):
    """images.npy declares 10**6 x 64 x 64 x 3 bytes (12 GB) over a few bytes of data."""
    file = tmp_path / "bomb.npz"
    header = {"descr": "|u1", "fortran_order": False, "shape": (10**6, 64, 64, 3)}
    npy = io_bytes(lambda out: np.lib.format.write_array_header_1_0(out, header))
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr("images.npy", npy + b"\x00" * 16)
        archive.writestr("labels.npy", io_bytes(lambda out: np.save(out, np.zeros(3, np.int64))))
    return file, file, "declares 12,288,000,000 bytes in images"


def _not_a_zip(tmp_path, digits):
    file = tmp_path / "random.npz"
    file.write_bytes(np.random.default_rng(0).bytes(4096))
    return file, file, "is not a readable .npz archive"


def io_bytes(write) -> bytes:
    import io

    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


HOSTILE = [_empty, _empty_class, _mixed_sizes, _corrupt, _text_named_png, _text_file, _huge_header, _pickled_npz,
           _npz_bomb, _not_a_zip]


@pytest.mark.parametrize("make", HOSTILE, ids=lambda make: make.__name__.strip("_"))
def test_hostile_source_is_one_line_naming_the_file(tmp_path, capsys, digits, make):
    source, named, clause = make(tmp_path, digits)
    root = tmp_path / "root"
    with pytest.raises(SourceRefused) as refused:
        user_data.register(root, "hostile", source)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{named} ") and clause in message
    no_trace(root, "hostile")
    assert not (tmp_path / "ran").exists()  # no pickle ever ran

    code, out, err = run_cli(capsys, "data", "add", "hostile", source, "--checkpoint-dir", root)
    assert code == cli.EXIT_USAGE and out == ""
    assert one_line(err) == f"vae-explorer data: error: {message}"
    no_trace(root, "hostile")


def test_a_refusal_keeps_the_registered_set_it_would_replace(tmp_path, digits):
    root = tmp_path / "root"
    good, _ = user_data.register(root, "kept", small_folder(tmp_path, digits), side=8)
    bad = tmp_path / "bad"
    (bad / "0").mkdir(parents=True)
    (bad / "0" / "x.png").write_bytes(png_claiming(10_000, 10_000))
    with pytest.raises(SourceRefused):
        user_data.register(root, "kept", bad, replace=True)
    assert user_data.read_info(root, "kept") == good
    # Beside it only the lock its registration held, as `train` leaves one per config in the root.
    assert sorted(p.name for p in (root / "datasets").iterdir()) == [".lock-kept", "kept"]


@pytest.mark.parametrize(("argv", "message"), [
    (["mnist"], "mnist is built in: pick another name"),
    (["My_Set"], "'My_Set' cannot name a data set: use lower-case letters and digits"),
    (["ok", "--size", "65"], "size must be 8 to 64 pixels, got 65: pass --size 28"),
    (["ok", "--size", "7"], "size must be 8 to 64 pixels, got 7"),
    (["ok", "--test-fraction", "1"], "test fraction must be between 0 and 1, got 1.0"),
    (["ok", "--colour", "sepia"], "argument --colour/--color: invalid choice: 'sepia'"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_bad_names_and_options_are_one_line(tmp_path, capsys, digits_folder, argv, message):
    name, *flags = argv
    code, out, err = run_cli(capsys, "data", "add", name, digits_folder, *flags, "--checkpoint-dir", tmp_path)
    assert code == cli.EXIT_USAGE and out == "" and message in one_line(err)
    assert not (tmp_path / "datasets").exists()


def test_a_registered_name_is_kept_unless_replaced(tmp_path, capsys, digits, digits_folder):
    code, out, _ = run_cli(capsys, "data", "add", "digits", digits_folder, "--size", "8", "--checkpoint-dir", tmp_path)
    assert code == 0
    assert "1,497 train and 300 test images" in out and "8 x 8 grey, 10 classes: 0, 1, 2" in out
    assert "read " in out and "write " in out and " s" in out
    before = user_data.read_info(tmp_path, "digits")
    code, _, err = run_cli(capsys, "data", "add", "digits", digits_folder, "--checkpoint-dir", tmp_path)
    assert code == cli.EXIT_USAGE and "already registered" in one_line(err) and "--replace" in err
    assert user_data.read_info(tmp_path, "digits") == before
    code, _, err = run_cli(capsys, "data", "add", "digits", digits_folder, "--replace", "--seed", "3",
                           "--checkpoint-dir", tmp_path)
    assert code == 0 and "keep their names" in err
    assert user_data.read_info(tmp_path, "digits").fingerprint != before.fingerprint
    code, out, _ = run_cli(capsys, "data", "list", "--json", "--checkpoint-dir", tmp_path)
    listed = json.loads(out)["datasets"]
    assert [(d["name"], d["train"], d["test"], d["side"]) for d in listed] == [("digits", 1497, 300, 28)]


# ---------------------------------------------------------------- a damaged registered folder


@pytest.fixture
def registered(tmp_path, digits) -> Path:
    user_data.register(tmp_path, "digits", small_folder(tmp_path, digits), side=8)
    return tmp_path


def test_a_truncated_arrays_file_is_one_line(registered):
    file = registered / "datasets" / "digits" / "arrays.npz"
    file.write_bytes(file.read_bytes()[:300])
    with pytest.raises(DataUnavailableError) as error:
        load_split("digits", train=True, checkpoint_dir=registered)
    message = str(error.value)
    assert message.startswith(f"{file} is not a readable .npz archive")
    assert message.endswith("register it again with `vae-explorer data add digits PATH --replace`")


def test_arrays_that_disagree_with_dataset_json_are_never_inflated(registered):
    info_file = registered / "datasets" / "digits" / "dataset.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "test_count": info["test_count"] - 1}))
    with pytest.raises(DataUnavailableError, match=r"arrays\.npz declares \d+ values in test_images where "
                                                   r"dataset\.json states \(2, 1, 8, 8\)"):
        load_split("digits", train=False, checkpoint_dir=registered)


def test_a_foreign_dataset_json_is_skipped_by_list(registered, capsys):
    (registered / "datasets" / "digits" / "dataset.json").write_text("[" * 10_000)
    (registered / "datasets" / "notes").mkdir()  # a folder without dataset.json
    code, out, err = run_cli(capsys, "data", "list", "--checkpoint-dir", registered)
    assert code == 0 and "no data sets registered" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("skipped digits: ") and "is nested more than 32 levels deep" in lines[0]
    assert lines[1].startswith("skipped notes: ") and "dataset.json is missing" in lines[1]


# ---------------------------------------------------------------- training on it


def test_train_one_epoch_on_registered_digits(tmp_path, capsys, digits_folder):
    root = tmp_path / "root"
    assert run_cli(capsys, "data", "add", "sk-digits", digits_folder, "--checkpoint-dir", root)[0] == 0
    code, _, err = run_cli(capsys, "train", "--dataset", "sk-digits", "--latent-dims", "2", "--epochs", "1",
                           "--hidden-dim", "32", "--batch-size", "64", "--maps", "later", "--quiet",
                           "--checkpoint-dir", root)
    assert code == 0, err
    code, out, _ = run_cli(capsys, "list", "--json", "--checkpoint-dir", root)
    [row] = json.loads(out)["checkpoints"]
    assert row["dataset"] == "sk-digits" and row["latent_dim"] == 2 and row["epochs"] == 1
    assert math.isfinite(row["test_loss"]) and row["test_loss"] > 0
    with np.load(root / row["name"] / "projections.npz") as maps:  # the quick maps: the model is explorable
        assert maps["labels"].shape == (300,) and maps["pca"].shape == (300, 2)


def test_training_refuses_what_the_models_cannot_read(tmp_path, capsys, digits, tinted):
    root = tmp_path / "root"
    user_data.register(root, "tinted", write_folder(tmp_path / "tinted", tinted, digits[1][:300]), side=30)
    for dataset, arch, message in (
            ("tinted", "conv", "the conv VAE halves the image side twice, so it must be divisible by 4, got 30"),
            ("nope", "mlp", "unknown dataset 'nope': choose one of mnist, fashion-mnist, tinted or "
                            "register it with `vae-explorer data add nope PATH`")):
        code, _, err = run_cli(capsys, "train", "--dataset", dataset, "--arch", arch, "--latent-dims", "2",
                               "--epochs", "1", "--quiet", "--checkpoint-dir", root)
        assert code == cli.EXIT_USAGE and message in one_line(err)
    assert sorted(p.name for p in root.iterdir()) == ["datasets"]


def test_config_accepts_registered_names_only_as_names():
    assert TrainConfig(dataset="my-digits-2").dataset == "my-digits-2"
    for bad in ("My-Digits", "-x", "a--b", "a" * 41, "../x", ""):
        with pytest.raises(ConfigError, match="choose one of mnist, fashion-mnist or a data set registered"):
            TrainConfig(dataset=bad)


# ---------------------------------------------------------------- the MNIST test set as PNG files


@pytest.mark.mnist
def test_mnist_test_set_as_pngs_registers_pixel_for_pixel(tmp_path, mnist_dir):
    mnist = load_split("mnist", train=False, data_dir=mnist_dir, download=False)
    images = np.rint(mnist.images.numpy() * 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = mnist.labels.numpy()
    folder = write_folder(tmp_path / "mnist-pngs", images, labels)
    info, _ = user_data.register(tmp_path / "root", "mnist-pngs", folder)
    assert (info.train_count, info.test_count, info.channels) == (8333, 1667, 1)
    stored = [user_data.load_arrays(tmp_path / "root", "mnist-pngs", train) for train in (True, False)]
    kept = Counter((int(label), image.tobytes()) for pixels, labels_, _ in stored
                   for image, label in zip(pixels, labels_, strict=True))
    assert kept == Counter((int(label), image.tobytes()) for image, label in zip(images, labels, strict=True))


# ---------------------------------------------------------------- a failed or killed write


def test_a_full_disk_during_the_write_leaves_nothing(tmp_path, capsys, digits, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    source = small_folder(tmp_path, digits)
    monkeypatch.setattr(np, "savez_compressed", full)
    code, _, err = run_cli(capsys, "data", "add", "digits", source, "--checkpoint-dir", tmp_path / "root")
    assert code == cli.EXIT_USAGE
    assert one_line(err).startswith("vae-explorer data: error: no space left on the device while saving ")
    folder = tmp_path / "root" / "datasets"
    assert [p.name for p in folder.iterdir() if not p.name.startswith(".lock-")] == []


def test_a_killed_registration_is_cleaned_up_by_the_next(tmp_path, digits):
    leftover = tmp_path / "datasets" / ".tmp-digits-0badf00d"  # what write_dir_atomic builds, left by a SIGKILL
    leftover.mkdir(parents=True)
    (leftover / "arrays.npz").write_bytes(b"half")
    assert user_data.registered_names(tmp_path) == []
    user_data.register(tmp_path, "digits", small_folder(tmp_path, digits), side=8)
    assert not leftover.exists() and user_data.registered_names(tmp_path) == ["digits"]


def test_the_train_page_helpers_see_a_registered_set(registered, monkeypatch):
    from vae_core.data import data_available, raw_folder, split_files_present, split_size

    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(registered))
    info = user_data.read_info(registered, "digits")
    assert split_files_present("digits", True) and split_size("digits", False) == info.test_count
    assert raw_folder("digits") == registered / "datasets" / "digits"
    assert data_available("digits") and not data_available("other")
    assert not split_files_present("other", True) and split_size("other", True) is None
