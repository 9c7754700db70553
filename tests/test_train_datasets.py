"""The Train page's "Your own images" form (AppTest): registering a folder of real scans (scikit-learn's load_digits)
as a data set, from a path and as an uploaded zip; what cannot be registered is one line and leaves nothing; a
registered RGB set is offered as the data set to train on, with its shape in the plan's models."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dashboard.train import datasets
from tests.test_train_page import errors, fill, open_train_page, root  # noqa: F401
from tests.test_user_data import write_folder
from vae_core import user_data
from vae_core.config import ConfigError
from vae_core.jobs import JobQueue


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> Path:
    """load_digits' first 400 scans, tinted into RGB (red the ink, blue its negative), as a folder of class folders."""
    from sklearn.datasets import load_digits

    loaded = load_digits()
    grey = np.rint(loaded.images[:400] * 255 / 16).astype(np.uint8)
    return write_folder(tmp_path_factory.mktemp("scans") / "scans", np.stack([grey, grey // 2, 255 - grey], -1),
                        loaded.target[:400])


def register_with(app, name: str, path: str, size: int = 16):
    app.text_input(key="dataset_name").set_value(name)
    app.text_input(key="dataset_path").set_value(path)
    app.number_input(key="dataset_size").set_value(size)
    app.button[[b.label for b in app.button].index("Register")].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


class Upload:
    """What Streamlit's uploader hands the page: a name and the bytes."""

    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def test_a_folder_registers_from_its_path_and_is_offered_to_train_on(monkeypatch, root, empty_data, scans):  # noqa: F811
    app = open_train_page(monkeypatch, root, empty_data)
    app = register_with(app, "scans", path=str(scans))
    assert [s.value for s in app.success] == ["Registered scans: 333 train and 67 test images in "
                                              f"{app.success[0].value.split(' in ')[1]}"]
    info = user_data.read_info(root, "scans")
    assert (info.channels, info.side, info.train_count + info.test_count) == (3, 16, 400)
    assert "scans" in app.selectbox(key="train_dataset").options
    app.selectbox(key="train_dataset").set_value("scans").run()
    fill(app, latent="2", epochs=1)
    app.selectbox(key="train_architecture").set_value("conv").run()
    assert not errors(app)
    app.button(key="train_submit").click().run()
    [job] = JobQueue(root).jobs()
    assert (job.model_config.channels, job.model_config.side, job.model_config.input_dim) == (3, 16, 768)
    assert job.train_config.dataset == "scans" and job.model_config.architecture == "conv"


def test_a_zip_of_the_folder_unpacks_to_register_and_a_bad_source_is_one_line_leaving_nothing(
        monkeypatch, root, empty_data, scans, tmp_path):  # noqa: F811
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        for file in scans.rglob("*.png"):
            archive.write(file, Path("scans") / file.relative_to(scans))
    # The uploader's file (AppTest cannot fill an uploader: the form's callback is given the same object).
    for work in ("work", "evil"):
        (tmp_path / work).mkdir()
    folder = datasets.unpacked(Upload("scans.zip", packed.getvalue()), tmp_path / "work")
    assert folder.name == "scans" and sorted(p.name for p in folder.iterdir()) == [str(k) for k in range(10)]
    info, _ = user_data.register(root, "zipped", folder, side=8)
    assert (info.side, info.train_count + info.test_count) == (8, 400)

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape/0/a.png", b"x")
    with pytest.raises(ConfigError, match="a path outside its folder"):
        datasets.unpacked(Upload("evil.zip", evil.getvalue()), tmp_path / "evil")
    assert not (tmp_path / "escape").exists()

    (tmp_path / "broken" / "0").mkdir(parents=True)
    for good in sorted((scans / "0").iterdir())[:3]:
        (tmp_path / "broken" / "0" / good.name).write_bytes(good.read_bytes())
    (tmp_path / "broken" / "0" / "a.png").write_bytes(b"not a png at all")
    app = register_with(open_train_page(monkeypatch, root, empty_data), "broken", path=str(tmp_path / "broken"))
    [line] = errors(app)
    assert line.startswith("Not registered: ") and "a.png" in line and "\n" not in line
    assert not (root / "datasets" / "broken").exists()
