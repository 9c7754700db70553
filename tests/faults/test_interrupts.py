"""Row 42 of the fault matrix: Ctrl-C pressed twice, the first during an import, the second during shutdown.

Row 10 covers one Ctrl-C; a second one used to land in the unwinding or in Python's shutdown
and print a traceback of 7-71 lines.
"""

from __future__ import annotations

import signal

from tests.faults.conftest import WAIT_SECONDS, start_child, train_argv, wait_for
from vae_core import cli


def test_row42_double_ctrl_c_during_import_and_shutdown_is_quiet_with_status_130(root, fake_mnist_dir, tmp_path):
    ready, log = tmp_path / "ready", tmp_path / "child.log"
    child = start_child("pause-in-import-and-exit", ready, train_argv(fake_mnist_dir, root), log)
    wait_for(ready.exists, "the command's import", child)
    child.send_signal(signal.SIGINT)
    at_exit = ready.with_name(ready.name + ".exit")
    wait_for(at_exit.exists, "the interpreter's shutdown", child)
    child.send_signal(signal.SIGINT)
    assert child.wait(WAIT_SECONDS) == cli.EXIT_INTERRUPTED
    err = log.read_text()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.strip().splitlines() == ["vae-explorer train: interrupted; nothing partial was written"]
    assert not list(root.iterdir())
