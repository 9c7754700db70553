"""Each helper of tests/streamlit_internals.py once, on a tiny script: after a Streamlit upgrade,
a private part that moved fails here, in one obvious place, rather than in every test that uses it.

The frames ``read_frame`` decodes are built here from Streamlit's ForwardMsg: a browser test sees
the real ones (tests/test_browser_state.py).
"""

from __future__ import annotations

import ast
import threading

from streamlit.testing.v1 import AppTest

from tests import streamlit_internals as internals


def probe_script():
    import plotly.graph_objects as go
    import streamlit as st

    probe = st.components.v2.component("internals_probe", js="export default function () {}")
    result = probe(key="probe_view", data={"view": "probe", "n": 1}, on_point_change=lambda: None)
    probe(key="probe_bytes", data=b"\x01\x02\x03", height=0)
    st.caption(f"point: {result.point if result else None}")
    st.selectbox("Choice", ["a", "b"], key="choice")
    st.caption(f"choice: {st.session_state.choice}")
    st.plotly_chart(go.Figure(go.Scatter(y=[1, 2])), key="chart")


def captions(app: AppTest) -> list[str]:
    return [c.value for c in app.caption]


def test_component_data_and_chart_spec_are_read():
    app = AppTest.from_function(probe_script).run()
    assert not app.exception, [e.value for e in app.exception]
    [(element, data)] = internals.component_views(app, "internals_probe")
    assert element.key == "probe_view" and data == {"view": "probe", "n": 1}
    assert [(e.key, payload) for e, payload in internals.component_bytes(app, "internals_probe")] == [
        ("probe_bytes", b"\x01\x02\x03")]
    assert internals.component_views(app, "another_component") == []
    assert internals.chart_spec(app.get("plotly_chart")[0])["data"][0]["y"] == [1, 2]


def test_what_the_browser_sends_reaches_the_script():
    app = AppTest.from_function(probe_script).run()
    [(element, _)] = internals.component_views(app, "internals_probe")
    internals.send_component_state(app, element, {"point": [0.5]})
    assert "point: [0.5]" in captions(app)
    internals.send_widget_string(app, app.selectbox(key="choice"), "b")
    assert "choice: b" in captions(app)


def image_script(a_waits, b_done, wait: bool):
    import numpy as np
    import streamlit as st

    if wait:
        a_waits.set()
        b_done.wait(60)
    st.image(np.zeros((2, 2)), caption="zeros")  # a media URL from the runtime ('' when there is none)
    "magic shows this"  # noqa: B018 - shown only where runner.magicEnabled holds


def test_one_runtime_serves_sessions_running_at_once():
    """Session A draws its image after session B's run has ended: AppTest alone clears the runtime then."""
    a_waits, b_done = threading.Event(), threading.Event()
    a, b = (AppTest.from_function(image_script, args=(a_waits, b_done, wait)) for wait in (True, False))
    with internals.one_runtime_for_all_sessions({"runner.magicEnabled": True}):
        thread = threading.Thread(target=a.run)
        thread.start()
        assert a_waits.wait(60)
        b.run()
        b_done.set()
        thread.join()
    for app in (a, b):
        assert not app.exception, [e.value for e in app.exception]
        assert app.image[0].value[0].startswith("/mock/media/")
        assert [m.value for m in app.markdown] == ["magic shows this"]  # the options given hold in every run


def test_scripts_compiled_once_share_one_script_cache(tmp_path):
    script = tmp_path / "page.py"
    script.write_text("import streamlit as st\nst.title('first')\n")
    with internals.scripts_compiled_once():
        assert AppTest.from_file(str(script)).run().title[0].value == "first"
        script.write_text("import streamlit as st\nst.title('second')\n")
        assert AppTest.from_file(str(script)).run().title[0].value == "first"  # compiled once
    assert AppTest.from_file(str(script)).run().title[0].value == "second"


def test_with_magic_shows_what_magic_would_add():
    plain = "x = 1\n"
    assert ast.dump(internals.with_magic(plain, "plain.py")) == ast.dump(ast.parse(plain))
    bare = "x = 1\nx\n"
    assert ast.dump(internals.with_magic(bare, "bare.py")) != ast.dump(ast.parse(bare))


def test_websocket_frames_are_read():
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def frame(**fields) -> bytes:
        message = ForwardMsg(**fields)
        return message.SerializeToString()

    assert internals.read_frame(frame(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY)) == (True, False, 0, "")
    assert internals.read_frame(frame(script_finished=ForwardMsg.FINISHED_WITH_COMPILE_ERROR)) == (True, True, 0, "")
    assert internals.read_frame(frame(script_finished=ForwardMsg.FINISHED_EARLY_FOR_RERUN)) == (False, False, 0, "")
    sent = ForwardMsg()
    sent.delta.new_element.bidi_component.bytes = b"\x00" * 5
    sent.delta.new_element.bidi_component.component_name = "vae_live_decoder"
    assert internals.read_frame(sent.SerializeToString()) == (False, False, 5, "vae_live_decoder")
    assert internals.read_frame(frame(page_info_changed={})) == (False, False, 0, "")
