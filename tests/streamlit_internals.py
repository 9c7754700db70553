"""The one place where tests touch Streamlit's private parts, and why each must stay private.

Everything else in ``tests/`` and ``benchmarks/`` uses ``streamlit.testing.v1``'s public API
(element classes, ``.value``, ``.label``, ``.key``, ``app.get(...)``, ``query_params``,
``session_state``) or the dashboard's own state. What is here has no public form today:

- **Our ``st.components.v2`` components** (``component_views``, ``component_bytes``).
  AppTest has no element class for them: ``app.get("bidi_component")`` gives an
  ``UnknownElement`` whose ``.value`` is the component's state, not the data the page sent it.
  The component's name and its data (JSON or bytes) are read from its protobuf.
- **What the browser sends** (``send_component_state``, ``send_widget_string``). AppTest can
  set a widget only through its typed interactions, so it cannot send a component's state
  (what setStateValue sends) nor a value that is not among a selectbox's options (what a
  hand-made client can send). Both build the run's ``WidgetStates`` from AppTest's element
  tree and rerun with them (``AppTest._tree``, ``AppTest._run``).
- **Plotly charts** (``chart_spec``). AppTest has no PlotlyChart class either; the figure is the
  JSON in the element's protobuf ``spec``.
- **One runtime for concurrent sessions** (``one_runtime_for_all_sessions``). ``AppTest.run``
  installs a mock ``Runtime`` in the process-global ``Runtime._instance`` for each run and clears
  it afterwards, which pulls it from under other threads' sessions; we install one ourselves.
- **Scripts compiled once** (``scripts_compiled_once``). AppTest compiles the page afresh on every
  run; a server compiles it once. The speed benchmark shares one ``ScriptCache`` among runs.
- **Magic** (``with_magic``). Whether a page relies on magic is read from Streamlit's own
  rewrite (``streamlit.runtime.scriptrunner.magic``).
- **The websocket** (``read_frame``). In a real browser, the server's ``ForwardMsg`` frames are
  the only outside signal that a rerun has finished (the page's ``data-test-script-state`` can
  skip a flip), and the only place to see the bytes a component is sent.

On a Streamlit upgrade, run ``tests/test_streamlit_internals.py`` first: it calls each helper once
and fails here, not in forty tests. Then check, in ``streamlit/testing/v1/``: whether AppTest
gained classes for ``bidi_component`` or ``plotly_chart`` (then read them publicly and drop the
helper), or a public way to send a widget state (then replace ``_tree``/``_run``); whether
``AppTest._run`` still creates its mock ``Runtime`` the way ``one_runtime_for_all_sessions`` copies
(compare the managers it sets); and in ``streamlit/proto/``, the ``BidiComponent``, ``PlotlyChart``
and ``ForwardMsg`` fields named here.
"""

from __future__ import annotations

import ast
import contextlib
import json
from collections.abc import Iterator
from typing import Any, NamedTuple
from unittest import mock

from streamlit.testing.v1 import AppTest


def _mounts(app: AppTest, name: str) -> list:
    """Every mount of the st.components.v2 component ``name`` this run, in page order."""
    return [element for element in app.get("bidi_component") if element.proto.component_name == name]


def component_views(app: AppTest, name: str) -> list[tuple[Any, dict]]:
    """(element, data) of each mount of component ``name`` that was sent JSON data, in page order."""
    return [(element, json.loads(element.proto.json)) for element in _mounts(app, name)
            if element.proto.WhichOneof("data") == "json"]


def component_bytes(app: AppTest, name: str) -> list[tuple[Any, bytes]]:
    """(element, payload) of each mount of component ``name`` that was sent bytes (b"" when none this run)."""
    return [(element, element.proto.bytes) for element in _mounts(app, name)
            if element.proto.WhichOneof("data") == "bytes"]


def chart_spec(element) -> dict:
    """The plotly figure (data, layout) of an ``app.get("plotly_chart")`` element."""
    return json.loads(element.proto.spec)


def _rerun_with(app: AppTest, widget_id: str, set_state, *, add: bool) -> AppTest:
    """Rerun with the widget states AppTest would send, the one of ``widget_id`` set by ``set_state``
    (``add``: AppTest sends none for it, as for a component)."""
    states = app._tree.get_widget_states()
    state = next((s for s in states.widgets if s.id == widget_id), None)
    if state is None:
        if not add:
            raise LookupError(f"{widget_id} is not in the widget states AppTest sends")
        state = states.widgets.add()
        state.id = widget_id
    set_state(state)
    return app._run(states)


def send_component_state(app: AppTest, element, state: dict) -> AppTest:
    """Rerun as the browser does after the component's setStateValue: ``state`` as its JSON value."""
    return _rerun_with(app, element.proto.id, lambda s: setattr(s, "json_value", json.dumps(state)), add=True)


def send_widget_string(app: AppTest, widget, value: str) -> AppTest:
    """Rerun as a hand-made client would: ``widget`` (a selectbox, say) sends ``value``, whatever its options."""
    return _rerun_with(app, widget.id, lambda s: setattr(s, "string_value", value), add=False)


@contextlib.contextmanager
def one_runtime_for_all_sessions(config_options: dict[str, Any]) -> Iterator[None]:
    """One mock Streamlit runtime shared by AppTest sessions running in threads at once, as a server
    has, under ``config_options`` (nested per-run patches restore them). AppTest's per-run installs of
    its own runtime land on a stand-in class instead."""
    import streamlit.testing.v1.app_test as app_test
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.storage.dummy_cache_storage import MemoryCacheStorageManager
    from streamlit.testing.v1.util import patch_config_options

    runtime = mock.MagicMock(spec=Runtime)  # what AppTest._run sets up for each run
    runtime.media_file_mgr = app_test.MediaFileManager(app_test.MemoryMediaFileStorage("/mock/media"))
    runtime.dataframe_source_mgr = app_test.DataframeSourceManager()
    runtime.cache_storage_manager = MemoryCacheStorageManager()
    runtime.bidi_component_registry = app_test.BidiComponentManager()

    class StandIn:
        _instance = None

    with (mock.patch.object(app_test, "Runtime", StandIn), mock.patch.object(Runtime, "_instance", runtime),
          patch_config_options(config_options)):
        yield


@contextlib.contextmanager
def scripts_compiled_once() -> Iterator[None]:
    """AppTest runs inside share one script cache, as one `streamlit run` process does. AppTest makes a
    new ``ScriptCache`` for its pages and another for its script runner on every run: both get this one."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    with (mock.patch.object(app_test, "ScriptCache", lambda: shared),
          mock.patch.object(local_script_runner, "ScriptCache", lambda: shared)):
        yield


def with_magic(code: str, filename: str) -> ast.Module:
    """The module Streamlit compiles from ``code`` with magic on, less magic's own import of its helpers."""
    from streamlit.runtime.scriptrunner import magic

    tree = magic.add_magic(code, filename)
    tree.body = [node for node in tree.body
                 if not (isinstance(node, ast.Import) and node.names[0].asname == "__streamlitmagic__")]
    return tree


class Frame(NamedTuple):
    """What one websocket frame from the server says, for a test that waits on reruns."""

    run_finished: bool  # a script run (page or fragment) ended, not cut short for a rerun
    compile_error: bool  # ...because the script does not compile
    component_bytes: int  # size of the bytes sent to a new component element (0 when none)
    component: str = ""  # that component's name (its sprite sheets and weights both travel as bytes)


def read_frame(payload: bytes) -> Frame:
    """Decode one binary frame of ``/_stcore/stream`` (a ForwardMsg)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg.FromString(payload)
    kind = message.WhichOneof("type")
    size, name = 0, ""
    if kind == "delta" and message.delta.new_element.HasField("bidi_component"):
        component = message.delta.new_element.bidi_component
        size = len(component.bytes) if component.WhichOneof("data") == "bytes" else 0
        name = component.component_name
    status = message.script_finished if kind == "script_finished" else None
    return Frame(run_finished=status is not None and status != ForwardMsg.FINISHED_EARLY_FOR_RERUN,
                 compile_error=status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR, component_bytes=size,
                 component=name)
