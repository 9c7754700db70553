"""Our components' JS and CSS served as files, so that each component can ``import`` the shared ``base.js``.

Streamlit loads a component's inline JS from a ``blob:`` URL, against which a relative ``import``
cannot resolve. A file-backed component is loaded from
``/_stcore/bidi-components/<name>/<file>`` instead, so ``import ... from "./base.js"`` resolves
to the file beside it. File-backed components need an asset directory, which Streamlit reads
from an installed distribution's ``pyproject.toml`` (``[tool.streamlit.component]``); it does
not find that manifest in an editable install or a plain checkout, which is how this project
runs. So ``component`` records this folder as the component's asset directory itself, on the
runtime that mounts it, as Streamlit's manifest scan would.

This is the one place that reaches into Streamlit's component manager, which is not public API
(a manifest's components are named "<project>.<name>"; ours keep their plain names, which the
tests and benchmarks look for, so the asset root is recorded directly). If an upgrade moves it,
a warning says so once and the components fall back to inline JS with base.js (and any other module
of this folder a component imports, such as map_zoom.js) pasted in place of its import: the same code,
as one text.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
BASE = "base.js"
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([a-z_]+\.js)";\n', re.MULTILINE)
_log = logging.getLogger(__name__)
_inline_only: list[bool] = []  # [True] once declaring failed in this process: inline JS from then on


def _declare(name: str) -> None:
    """Record this folder as component ``name``'s asset directory on the active runtime, unless it is already."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

    manager = get_bidi_component_manager()
    if manager.get_component_asset_root(name) is None:
        manager._manifest_handler._asset_roots[name] = HERE  # what a manifest's asset_dir = "." would record
    if manager.get_component_asset_root(name) != HERE:
        raise RuntimeError(f"Streamlit does not serve {name} from {HERE}")


def inline_js(js: str) -> str:
    """The component's JS with the modules it imports pasted in place of their imports: one module, for a
    blob: URL. Each module comes once, before the modules that import it."""
    if BASE not in _IMPORT.findall((HERE / js).read_text()):
        raise ValueError(f"{js} does not import ./{BASE} on a line of its own")
    return "\n".join(_bundle(js, []))


def _bundle(name: str, seen: list[str]) -> list[str]:
    """``name``'s imported modules (not yet in ``seen``), then its own text without its import lines."""
    if name in seen:
        return []
    seen.append(name)
    source = (HERE / name).read_text()
    texts = [text for imported in _IMPORT.findall(source) for text in _bundle(imported, seen)]
    return [*texts, _IMPORT.sub("", source)]


def served() -> bool:
    """Whether our components are served from files (False after declaring failed once in this process)."""
    return not _inline_only


def component(name: str, js: str, css: str):
    """Streamlit's mount function for the component ``name``, its JS and CSS being files of this folder.

    The component is registered on first use, not at import, and declared again on every new
    runtime (AppTest starts one per test).
    """
    mount = None

    def mount_component(**kwargs):
        nonlocal mount
        if served():
            try:
                _declare(name)
            except Exception as error:  # noqa: BLE001 - any change in Streamlit's internals: fall back, say so
                _inline_only.append(True)
                mount = None
                _log.warning("Serving our components' JS as files failed (%s); they are inlined instead.", error)
        if mount is None:
            script = js if served() else inline_js(js)
            style = css if served() else (HERE / css).read_text()
            mount = st.components.v2.component(name, js=script, css=style)
        return mount(**kwargs)

    return mount_component
