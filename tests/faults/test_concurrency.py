"""Fault matrix rows 11 and 19: two `train` processes for one model, 20 dashboard sessions at once.

Row 11 runs real processes (tests/faults/fault_child.py holds the first one mid-training); row
19 drives dashboard/app.py through Streamlit's AppTest in 20 threads. The matrix is in
tests/README.md.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import streamlit_internals
from tests.faults.conftest import (
    APP,
    APP_TIMEOUT,
    CHILDREN,
    LATENTS,
    NAME,
    REPO,
    WAIT_SECONDS,
    child_env,
    history_epochs,
    leftovers,
    start_child,
    train_argv,
    wait_for,
)
from tests.test_dashboard import explorer_view, point_caption, report_point
from vae_core import store

# ---------------------------------------------------------------- row 11: two train processes


def test_row11_two_train_processes_for_one_config(root, fake_mnist_dir, tmp_path):
    ready, first_log, second_log = tmp_path / "ready", tmp_path / "first.log", tmp_path / "second.log"
    argv = train_argv(fake_mnist_dir, root)
    first = start_child("wait-in-epoch-2", ready, argv, first_log)
    wait_for(ready.exists, "the first process to train", first)
    with open(second_log, "wb") as handle:
        second = subprocess.Popen([sys.executable, "-m", "vae_core", *argv], cwd=REPO, env=child_env(),
                                  stdout=subprocess.DEVNULL, stderr=handle)
    CHILDREN.append(second)
    wait_for(lambda: "another process is training it, waiting" in second_log.read_text(),
             "the second process to wait on the lock", second)
    Path(f"{ready}.go").touch()
    assert first.wait(WAIT_SECONDS) == 0 and second.wait(WAIT_SECONDS) == 0
    assert f"{NAME}: trained, test loss" in first_log.read_text()
    assert f"{NAME}: cached, reused" in second_log.read_text()
    assert "trained, test loss" not in second_log.read_text()
    checkpoints, problems = store.scan(root)
    assert [c.name for c in checkpoints] == [NAME] and problems == []
    assert history_epochs(root) == [1, 2, 3] and leftovers(root) == []


# ---------------------------------------------------------------- row 19: concurrent dashboard sessions


def test_streamlit_config_compiles_scripts_without_magic():
    """Magic is off (see row 19), and no page or the router loses anything by it: nothing it would show."""
    import tomllib

    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False
    scripts = [REPO / "dashboard" / "app.py", *sorted((REPO / "dashboard").glob("*/page.py"))]
    assert len(scripts) > 5
    for script in scripts:
        code = script.read_text(encoding="utf-8")
        with_magic = streamlit_internals.with_magic(code, str(script))
        assert ast.dump(with_magic) == ast.dump(ast.parse(code, str(script))), f"{script.name} relies on magic"


def _session(number: int) -> list[str]:
    """One user: open the explorer, pick a model, move a slider twice; returns the point captions the server wrote."""
    from streamlit.testing.v1 import AppTest

    def ran(app):
        assert not app.exception, [e.value for e in app.exception]  # a failed compile shows here
        return app

    app = ran(AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run())
    ran(app.switch_page("explorer/page.py").run())
    box = app.sidebar.selectbox[-1]
    app = ran(box.select_index(box.options.index(f"MNIST · z = {LATENTS[number % len(LATENTS)]}")).run())
    captions = []
    for value in (-2.0, 2.0):  # the page reports a slider's value on release; the server hears it
        ran(report_point(app, {explorer_view(app)[1]["dims"][0]: value}))
        captions.append(point_caption(app))
    return captions


@pytest.fixture
def one_runtime_for_all_sessions():
    """One Streamlit runtime shared by concurrent AppTest sessions, as a server has.

    ``AppTest.run`` installs a fresh mock runtime in the process-global ``Runtime._instance``
    and clears it when its run ends, which would pull the runtime from under the other
    sessions' runs. Here one runtime is installed for the whole test and AppTest's per-run
    swaps land on a stand-in class instead. The options of .streamlit/config.toml that decide
    how scripts compile apply as under `streamlit run` from the project folder, wherever pytest
    runs from. Scripts are not shared: AppTest compiles app.py and the page afresh on every run
    of every session (a server compiles each once, under its script cache's lock), so sessions
    compile at once far more often than a server's first visitors do.
    """
    import tomllib

    runner = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8")).get("runner", {})
    options = {"global.appTest": True, **{f"runner.{name}": value for name, value in runner.items()}}
    with streamlit_internals.one_runtime_for_all_sessions(options):  # nested per-run patches then restore these
        yield


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_row19_twenty_concurrent_sessions(monkeypatch, five_models, empty_data, one_runtime_for_all_sessions):
    import threading
    from collections import Counter
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    monkeypatch.setenv(store.CHECKPOINT_DIR_ENV, str(five_models))
    monkeypatch.setenv("VAE_DATA_DIR", str(empty_data))
    loads, guard, real_load = Counter(), threading.Lock(), store.load_model

    def counted_load(checkpoint, device="cpu"):
        with guard:
            loads[checkpoint.name] += 1
        return real_load(checkpoint, device)

    monkeypatch.setattr(store, "load_model", counted_load)
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(_session, range(20)))
    seconds = time.perf_counter() - started
    after = process.memory_info().rss
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    print(f"20 sessions in {seconds:.1f} s; RSS {before / 2**20:.0f} -> {after / 2**20:.0f} MiB, "
          f"peak RSS of the test process {peak / 2**20:.0f} MiB; model loads {dict(loads)}")
    assert all(len(heard) == 2 and heard[0] != heard[1] for heard in results)  # every report was heard
    assert sorted(loads) == sorted(c.name for c in store.scan(five_models)[0])
    assert set(loads.values()) == {1}, loads  # each model loaded once, shared by all sessions
    assert after - before < 400 * 2**20 and peak < 3 * 2**30
