"""A third-party package in miniature: architectures registered through a real entry point, never pip-installed.

``install(folder, entries)`` writes ``vae_explorer_test_plugins-0.1.dist-info`` (METADATA and
entry_points.txt) into ``folder``; with ``folder`` on sys.path (``monkeypatch.syspath_prepend`` in a
test, PYTHONPATH for a subprocess or the Streamlit server) importlib.metadata finds it as it finds an
installed package, and ``vae_core.architectures`` lists its entry points.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

DIST = "vae_explorer_test_plugins-0.1.dist-info"
LEAKY = {"leaky": "tests.plugin_arch.leaky:LeakyVAE"}  # a chain decoder: the page decodes it
UPCONV = {"upconv": "tests.plugin_arch.upconv:UpConvVAE"}  # a chain of conv layers, a plain nn.Module
RESIDUAL = {"residual": "tests.plugin_arch.residual:ResidualVAE"}  # a skip connection: the server decodes it
BROKEN = {"missing": "tests.plugin_arch.nowhere:Nope",  # its module does not exist
          "nodecode": "tests.plugin_arch.broken:NoDecode",  # a class without decode
          "conv": "tests.plugin_arch.leaky:LeakyVAE"}  # a built-in's name
GOOD = LEAKY | UPCONV | RESIDUAL


def install(folder: Path, entries: dict[str, str]) -> Path:
    """Write the dist-info of a package registering ``entries`` (name -> 'module:Class'); return ``folder``."""
    info = folder / DIST
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: vae-explorer-test-plugins\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[vae_explorer.architectures]\n{lines}")
    return folder


def environment(folder: Path) -> dict[str, str]:
    """os.environ for a subprocess (the CLI, `streamlit run`) that finds the package in ``folder``: PYTHONPATH
    holds it and the repository (where ``tests.plugin_arch`` is importable)."""
    paths = [str(folder), str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
