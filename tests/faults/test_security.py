"""Fault matrix row 17 (names that leave the checkpoint root) and exposure: pickles, the network.

Weights never load through pickle, the server listens on localhost only, and neither a query
parameter nor a forged widget value makes the app read outside the checkpoint root. The matrix
is in tests/README.md.
"""

from __future__ import annotations

import ast
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import (
    REPO,
    WAIT_SECONDS,
    open_app,
    wait_for,
)
from tests.streamlit_internals import send_widget_string
from vae_core import store

# ---------------------------------------------------------------- exposure: pickles, the network


_PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _pickle_paths(path: Path) -> list[str]:
    """Calls and imports in ``path`` that could unpickle: file:line and what."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
            found += [f"{where} imports {n}" for n in names if n.split(".")[0] in _PICKLE_MODULES]
        if not isinstance(node, ast.Call):
            continue
        call = ast.unparse(node.func)
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        if call.endswith("torch.load") and keywords.get("weights_only") != "True":
            found.append(f"{where} torch.load without weights_only=True")
        if call.endswith(("np.load", "numpy.load")) and keywords.get("allow_pickle", "False") != "False":
            found.append(f"{where} np.load with allow_pickle")
        if call.endswith(("read_pickle", "pickle.load", "pickle.loads")):
            found.append(f"{where} {call}")
    return found


def test_no_code_path_loads_weights_through_pickle():
    sources = sorted((REPO / "vae_core").rglob("*.py")) + sorted((REPO / "dashboard").rglob("*.py"))
    assert len(sources) > 5
    grep = subprocess.run(["grep", "-rn", r"torch.load\|pickle", "vae_core", "dashboard", "--include=*.py"],
                          cwd=REPO, capture_output=True, text=True)
    print(grep.stdout)  # what a reviewer's grep shows: docs and allow_pickle=False only
    assert [hit for path in sources for hit in _pickle_paths(path)] == []


def test_pickle_scanner_catches_what_it_should(tmp_path, monkeypatch):
    """The scanner above is not vacuous: each unsafe form is reported."""
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nimport torch, numpy as np\ntorch.load('a')\n"
                   "torch.load('a', weights_only=False)\nnp.load('a', allow_pickle=True)\npickle.loads(b'')\n")
    assert len(_pickle_paths(bad)) == 5
    ok = tmp_path / "ok.py"
    ok.write_text("import torch, numpy as np\ntorch.load('a', weights_only=True)\nnp.load('a')\n")
    assert _pickle_paths(ok) == []


def test_streamlit_server_listens_on_localhost_only(tmp_path):
    """`streamlit run` from the project folder (its .streamlit/config.toml) binds 127.0.0.1 only."""
    import psutil

    script = tmp_path / "hello.py"
    script.write_text("import streamlit as st\nst.write('hello')\n")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening() -> list[str]:
            return [c.laddr.ip for c in psutil.Process(server.pid).net_connections("inet")
                    if c.status == psutil.CONN_LISTEN and c.laddr.port == port]

        wait_for(lambda: listening() != [], "streamlit to listen", server)
        assert listening() == ["127.0.0.1"]
    finally:
        server.terminate()
        server.wait(WAIT_SECONDS)


def test_streamlit_config_binds_localhost_with_xsrf():
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["enableXsrfProtection"] is True
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "--server.address" in readme, "the README must say how to serve on a network on purpose"


# ---------------------------------------------------------------- row 17: names that leave the checkpoint root


def _decoy(tmp_path: Path, good_checkpoint: Path) -> Path:
    """A valid checkpoint and a secret file outside the checkpoint root, for traversal attempts."""
    outside = tmp_path / "outside"
    shutil.copytree(good_checkpoint, outside / good_checkpoint.name)
    (outside / "secret.txt").write_text("not for the app")
    return outside


_OPENED: list[str] | None = None  # paths opened or listed while a test records them


def _audit(event: str, args: tuple) -> None:
    recording = _OPENED is not None and event in ("open", "os.listdir", "os.scandir")
    if recording and args and isinstance(args[0], str | os.PathLike):
        _OPENED.append(os.path.abspath(os.fspath(args[0])))


_AUDITING: list[bool] = []


def _record_opened_paths() -> None:
    """Start recording paths opened or listed (audit hooks are permanent: installed once)."""
    global _OPENED
    if not _AUDITING:
        sys.addaudithook(_audit)
        _AUDITING.append(True)
    _OPENED = []


@pytest.mark.parametrize("name", ["..", "../outside", "../outside/mnist-z2-h16-e2-b32-lr0.001-s0", "/etc/passwd",
                                  "a/b", "..\\outside", ".resume-x", "", "x\x00y", "link-out"])
def test_row17_checkpoint_path_refuses_names_that_leave_the_root(name, root, tmp_path, good_checkpoint):
    outside = _decoy(tmp_path, good_checkpoint)
    (root / "link-out").symlink_to(outside / good_checkpoint.name)
    with pytest.raises(store.CheckpointError, match="not a checkpoint name|outside the checkpoint directory"):
        store.checkpoint_path(root, name)
    assert store.checkpoint_path(root, "%2e%2e") == (root / "%2e%2e").resolve()  # a plain name stays inside


def test_row17_query_params_and_widget_values_never_read_outside_the_root(monkeypatch, tmp_path, root,
                                                                          good_checkpoint, empty_data, five_models):
    global _OPENED
    for latent_dim in (2, 3):
        name = good_checkpoint.name.replace("-z2-", f"-z{latent_dim}-")
        shutil.copytree(five_models / name, root / name)
    outside = _decoy(tmp_path, good_checkpoint)
    _record_opened_paths()
    hostile = {"model": f"../outside/{good_checkpoint.name}", "checkpoint": str(outside / good_checkpoint.name),
               "dir": str(outside), "path": "../../etc/passwd", "page": "../outside/secret.txt"}
    try:
        app = open_app(monkeypatch, root, empty_data, "explorer", query=hostile)
        assert app.sidebar.selectbox[-1].value == good_checkpoint.name  # z=2, the default
        _forge_widget_value(app, app.sidebar.selectbox[-1], "MNIST · z = 3")  # the forging itself works...
        assert app.sidebar.selectbox[-1].value == good_checkpoint.name.replace("-z2-", "-z3-")
        _forge_widget_value(app, app.sidebar.selectbox[-1], f"../outside/{good_checkpoint.name}")
        chosen = app.sidebar.selectbox[-1].value  # ...but a name that is not listed is not taken
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert chosen in {c.name for c in store.scan(root)[0]}
    assert any(path.startswith(str(root)) for path in opened)  # the recorder saw the app's own reads
    assert [p for p in opened if p.startswith(str(outside))] == []


def _forge_widget_value(app, widget, value: str):
    """Rerun as a hand-made client would: ``widget`` sends ``value``, whatever its options are.

    AppTest only lets a selectbox pick one of its options, so the message is built directly.
    """
    send_widget_string(app, widget, value)
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("page", ["explorer", "latent_map", "your_digit", "generate"])
def test_row17_a_shared_link_with_hostile_values_opens_the_defaults_and_reads_nothing_outside(
        monkeypatch, tmp_path, root, good_checkpoint, empty_data, page):
    """Every parameter a link may carry (dashboard/links.py), each with a value that leaves the root or
    does not fit: the page opens with its defaults, and the address is rewritten to what it shows."""
    from streamlit.testing.v1 import AppTest

    global _OPENED
    shutil.copytree(good_checkpoint, root / good_checkpoint.name)
    outside = _decoy(tmp_path, good_checkpoint)
    hostile = {"model": str(outside / good_checkpoint.name), "start": "../outside/secret.txt",
               "seed": "../../etc/passwd", "digit": "/etc/passwd", "at": "1e308,-1e308", "shown": "-1",
               "z": "0:../../etc/passwd", "map": "../outside", "page": "../outside/secret.txt"}
    monkeypatch.setenv(store.CHECKPOINT_DIR_ENV, str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(empty_data))
    app = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120).run()
    app.query_params = dict(hostile)
    _record_opened_paths()
    try:
        app.switch_page(f"{page}/page.py").run()
        opened = list(_OPENED)
    finally:
        _OPENED = None
    assert not app.exception, [e.value for e in app.exception]
    assert app.sidebar.selectbox(key="model").value == good_checkpoint.name
    # What the app writes into the address is never a hostile value: a parameter it uses is the widget's value
    # or gone; one no widget of this page uses is left as the link had it, unread.
    written = {name: value for name, value in app.query_params.items() if value != hostile.get(name)}
    assert all(".." not in value and "/" not in value for value in written.values()), written
    assert [p for p in opened if p.startswith(str(outside))] == []
