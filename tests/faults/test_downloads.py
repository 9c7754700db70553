"""Downloads: row 14's "no half-downloaded file", and row 43, VAE_OFFLINE.

The network is replaced by a fake ``_urlretrieve`` in torchvision, so these tests behave the
same on a machine with internet and on one without.
"""

from __future__ import annotations

import urllib.error

import pytest
import torchvision.datasets.utils as torchvision_utils

from vae_core import data
from vae_core.data import DataUnavailableError, load_split


@pytest.fixture
def fake_network(monkeypatch):
    """Every download starts, writes half of its file, and then the connection drops; returns the URLs asked for."""
    asked: list[str] = []

    def half_a_file(url, path, *args, **kwargs):
        asked.append(url)
        with open(path, "wb") as handle:
            handle.write(b"\x1f\x8b" + b"\0" * 1000)
        raise urllib.error.URLError("connection reset by peer")

    monkeypatch.delenv(data.OFFLINE_ENV, raising=False)
    monkeypatch.setattr(torchvision_utils, "_get_redirect_url", lambda url, max_hops=3: url)
    monkeypatch.setattr(torchvision_utils, "_urlretrieve", half_a_file)
    return asked


def test_row14_a_failed_download_leaves_no_half_downloaded_file(tmp_path, fake_network):
    root = tmp_path / "data"
    with pytest.raises(DataUnavailableError, match="could not be downloaded") as raised:
        load_split("mnist", train=False, data_dir=root)
    assert fake_network, "no download was tried"
    assert "\n" not in str(raised.value)
    assert not (root / "MNIST").exists(), sorted(p.name for p in root.rglob("*"))


def test_row14_a_failed_download_keeps_what_was_there(tmp_path, fake_network):
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "notes.txt").write_text("mine")
    with pytest.raises(DataUnavailableError):
        load_split("mnist", train=False, data_dir=tmp_path / "data")
    assert sorted(p.name for p in raw.iterdir()) == ["notes.txt"]


def test_row43_vae_offline_makes_downloads_impossible(tmp_path, fake_network, monkeypatch):
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    with pytest.raises(DataUnavailableError) as raised:
        load_split("mnist", train=True, data_dir=tmp_path / "data")
    assert fake_network == []  # not even tried
    message = str(raised.value)
    assert "could not be downloaded (downloads are off: VAE_OFFLINE is set)" in message
    assert "VAE_DATA_DIR" in message and "\n" not in message
    assert not (tmp_path / "data").exists()
