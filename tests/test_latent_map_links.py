"""The Latent map's legend, selection and zoom in the URL, driven by AppTest (the browser half:
test_browser_map_link.py and test_browser_map_zoom.py).

``hide=3,8`` names the classes hidden in the legend; ``select=box:x0,y0,x1,y1``,
``select=lasso:x,y,...`` or ``select=row:r`` (shapes joined by ';') the selection in the map's data
coordinates; ``view=cx,cy,zoom`` the map's camera. A link brings them back and the page lists the rows
inside; what the map reports is written into the URL; bad values are ignored whole; a selection and a
view belong to one projection of one model.
"""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.components import canvas
from dashboard.latent_map import state
from tests.test_dashboard import browser_reports
from tests.test_dashboard_canvas import view
from tests.test_links import open_link

Z2, Z3 = "mnist-z2-h16-e2-b32-lr0.001-s0", "mnist-z3-h16-e2-b32-lr0.001-s0"
BOX = "box:-0.3,0.3,-0.05,0.55"  # inside the tiny z = 2 model's cloud (x -0.40..0.03, y 0.27..0.64)
VIEW = "-0.2,0.45,4"  # the tiny z = 2 model's cloud, 4 times closer


def listed(app) -> str:
    """The caption beside the map: '12 selected: #0 (0), …', or '' when nothing is selected."""
    found = [c.value for c in app.caption if " selected: #" in c.value]
    return found[0] if found else ""


def inside(data: dict, parts: list, hidden: list) -> list[int]:
    """The rows of the map's drawn points in ``parts``, their class not in ``hidden``, computed here afresh."""
    x, y = np.array(data["points"]["x"]), np.array(data["points"]["y"])
    rows, labels = np.array(data["points"]["rows"]), np.array(data["points"]["labels"])
    chosen = np.zeros(len(rows), dtype=bool)
    for part in parts:
        if "box" in part:
            x0, y0, x1, y1 = part["box"]
            chosen |= (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
        elif "row" in part:
            chosen |= rows == part["row"]
        else:  # the even-odd rule
            for (xa, ya), (xb, yb) in zip(part["lasso"], np.roll(part["lasso"], 1, axis=0), strict=True):
                with np.errstate(divide="ignore", invalid="ignore"):
                    chosen ^= ((ya > y) != (yb > y)) & (x < (xb - xa) * (y - ya) / (yb - ya) + xa)
    return rows[chosen & ~np.isin(labels, hidden)].tolist()


def test_a_link_brings_back_the_hidden_classes_and_the_selection(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "hide": "3,8", "select": BOX})
    _, data = view(app, "map")
    assert data["hidden"] == [3, 8] and data["selection"] == [{"box": [-0.3, 0.3, -0.05, 0.55]}]
    rows = inside(data, data["selection"], [3, 8])
    assert 5 < len(rows) < 190 and listed(app).startswith(f"{len(rows)} selected: #{rows[0]} (")
    assert "(3)" not in listed(app) and "(8)" not in listed(app)  # hidden classes are not listed
    assert app.query_params["hide"] == "3,8" and app.query_params["select"] == BOX  # written back as read


def test_a_lasso_and_a_shift_clicked_row_come_back_together(monkeypatch, tiny_checkpoint_root, empty_data):
    lasso = [[-0.35, 0.3], [-0.1, 0.62], [0.02, 0.35]]
    text = "lasso:" + ",".join(f"{v:g}" for corner in lasso for v in corner) + ";row:5"
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "select": text})
    _, data = view(app, "map")
    assert data["selection"] == [{"lasso": lasso}, {"row": 5}] and data["hidden"] == []
    rows = inside(data, data["selection"], [])
    assert 5 in rows and listed(app).startswith(f"{len(rows)} selected: ")
    assert app.query_params["select"] == text


@pytest.mark.parametrize("bad", [
    "box:1,2,3", "box:0,0,-1,1", "box:nan,0,1,1", "box:inf,0,1,1", "box:1e3,0,1,1", "box:9999999,0,1,1",
    "box:0,0,1,1;", "box:-0.3,0.3,-0.05,0.55;" * 9, "lasso:0,0,1,1", "lasso:0,0,1,1,1", "lasso:" + "0,0," * 48 + "1,1",
    "circle:0,0,1", "row:-1", "row:x", "row:", "../../etc/passwd", "box:" + "1" * 5000, "",
])
def test_a_bad_selection_in_a_link_is_ignored_whole(monkeypatch, tiny_checkpoint_root, empty_data, bad):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "hide": "8", "select": BOX + ";" + bad})  # one bad part spoils the whole
    _, data = view(app, "map")
    assert data["selection"] == [] and listed(app) == "" and "select" not in app.query_params
    assert data["hidden"] == [8]  # the legend is its own parameter: still taken


@pytest.mark.parametrize("bad, hidden", [("3,x", []), ("-1", []), ("3;8", []), ("3,,8", []), ("10,3,12", [3]),
                                         ("7,7,2", [2, 7]), (",".join(["1"] * 30), [])])
def test_bad_hidden_classes_are_ignored(monkeypatch, tiny_checkpoint_root, empty_data, bad, hidden):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "hide": bad})
    assert view(app, "map")[1]["hidden"] == hidden
    assert app.query_params.get("hide") == (",".join(map(str, hidden)) or None)


@pytest.mark.parametrize("query", [{"model": Z2, "map": "PCA"},  # z = 2 offers no PCA: its own axes are shown
                                   {"model": Z3}])  # no map named: PCA is shown, the link's box was on z = 2's
def test_a_selection_is_taken_only_for_the_map_the_link_names(monkeypatch, tiny_checkpoint_root, empty_data, query):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {**query, "map": query.get("map", "Latent coordinates"), "select": BOX, "view": VIEW})
    assert app.radio(key="map").value != "PCA" if query["model"] == Z2 else app.radio(key="map").value == "PCA"
    assert view(app, "map")[1]["selection"] == [] and listed(app) == "" and "select" not in app.query_params
    assert view(app, "map")[1]["viewport"] is None and "view" not in app.query_params  # the whole map


def test_a_selection_on_another_map_of_the_link_is_taken(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z3, "map": "t-SNE", "select": "box:-1000,-1000,1000,1000"})
    total = len(view(app, "map")[1]["points"]["rows"])
    assert app.radio(key="map").value == "t-SNE" and listed(app).startswith(f"{total} selected: #")


def test_what_the_map_reports_goes_into_the_url_and_stays_with_its_projection(monkeypatch, tiny_checkpoint_root,
                                                                             empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2})
    element, _ = view(app, "map")
    lasso = [[-0.35, 0.3], [-0.1, 0.62], [0.02, 0.35]]
    browser_reports(app, element, {"selection": [{"lasso": lasso}], "hidden": [0, 4]})
    _, data = view(app, "map")
    rows = inside(data, [{"lasso": lasso}], [0, 4])
    assert listed(app).startswith(f"{len(rows)} selected: #{rows[0]} (")
    assert app.query_params["select"] == "lasso:-0.35,0.3,-0.1,0.62,0.02,0.35" and app.query_params["hide"] == "0,4"
    assert data["selection"] == [{"lasso": lasso}] and data["hidden"] == [0, 4]  # the map is given back its own

    app.radio(key="map").set_value("t-SNE").run()
    assert "select" not in app.query_params and "hide" not in app.query_params and listed(app) == ""
    app.radio(key="map").set_value("Latent coordinates").run()
    assert app.query_params["select"].startswith("lasso:") and listed(app).startswith(f"{len(rows)} selected")

    browser_reports(app, view(app, "map")[0], {"selection": [{"box": [0, 0, "x", 1]}], "hidden": [True, 3, 99, "1"]})
    assert "select" not in app.query_params and app.query_params["hide"] == "3" and listed(app) == ""


def test_the_url_form_round_trips():
    parts = ({"box": [-1.5, 0.0, 2.25, 3.0]}, {"lasso": [[0.001, -2.0], [1.0, 1e-06], [-0.5, 12345.5]]}, {"row": 17})
    text = state.selection_text(parts)
    assert text == "box:-1.5,0,2.25,3;lasso:0.001,-2,1,0.000001,-0.5,12345.5;row:17"
    assert state.parse_selection(text) == parts
    assert state.selection_text(({"box": [-0.0, 0, 1, 1]},)) == "box:0,0,1,1"  # never '-0'
    assert canvas.selection_parts([{"lasso": [[0, 0]] * (canvas.MAX_CORNERS + 1)}]) == ()


# --- the zoom: view=cx,cy,zoom ---

def test_a_link_brings_back_the_view(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "select": BOX, "view": VIEW})
    _, data = view(app, "map")
    assert data["viewport"] == [-0.2, 0.45, 4.0] and data["zoomable"] is True
    assert data["selection"] == [{"box": [-0.3, 0.3, -0.05, 0.55]}]  # the two travel together
    assert app.query_params["view"] == VIEW  # written back as read


@pytest.mark.parametrize("bad", [
    "1,2", "1,2,3,4", "0,0,0.5", "0,0,1", "0,0,-4", "0,0,201", "0,0,200.5", "nan,0,2", "0,inf,2", "0,0,1e3",
    "100001,0,2", "9999999,0,2", "0,0,", ",,", "a,b,c", "0;0;2", "0 0 2", "../x", "0,0," + "2" * 5000, "",
])
def test_a_bad_view_in_a_link_is_ignored_whole(monkeypatch, tiny_checkpoint_root, empty_data, bad):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "select": BOX, "view": bad})
    _, data = view(app, "map")
    assert data["viewport"] is None and "view" not in app.query_params  # the whole map
    assert data["selection"] == [{"box": [-0.3, 0.3, -0.05, 0.55]}]  # the selection is its own parameter


def test_the_reported_view_goes_into_the_url_and_stays_with_its_projection(monkeypatch, tiny_checkpoint_root,
                                                                          empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2})
    assert view(app, "map")[1]["viewport"] is None and "view" not in app.query_params
    browser_reports(app, view(app, "map")[0], {"viewport": [-0.125, 0.5, 12.5]})
    assert app.query_params["view"] == "-0.125,0.5,12.5" and view(app, "map")[1]["viewport"] == [-0.125, 0.5, 12.5]

    app.radio(key="map").set_value("t-SNE").run()  # another projection starts with the whole map
    assert view(app, "map")[1]["viewport"] is None and "view" not in app.query_params
    app.radio(key="map").set_value("Latent coordinates").run()
    assert app.query_params["view"] == "-0.125,0.5,12.5"

    browser_reports(app, view(app, "map")[0], {"viewport": []})  # Reset view: the whole map
    assert view(app, "map")[1]["viewport"] is None and "view" not in app.query_params
    for bad in ([0, 0, 500], [0, 0], ["0", 0, 2], [True, 0, 2], [float("nan"), 0, 2], "0,0,2", None):
        browser_reports(app, view(app, "map")[0], {"viewport": [1, 1, 2]})
        browser_reports(app, view(app, "map")[0], {"viewport": bad})
        assert view(app, "map")[1]["viewport"] is None and "view" not in app.query_params, bad


def test_a_report_of_the_legend_or_the_view_keeps_a_linked_selection(monkeypatch, tiny_checkpoint_root,
                                                                   empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "select": BOX})
    browser_reports(app, view(app, "map")[0], {"hidden": [3]})
    browser_reports(app, view(app, "map")[0], {"hidden": [3], "viewport": [-0.2, 0.45, 2]})
    _, data = view(app, "map")
    assert data["selection"] == [{"box": [-0.3, 0.3, -0.05, 0.55]}] and app.query_params["select"] == BOX
    assert data["hidden"] == [3] and app.query_params["view"] == "-0.2,0.45,2"


def test_the_view_url_form_round_trips_within_its_bounds():
    assert state.viewport_text((-1.5, 0.0, 12.5)) == "-1.5,0,12.5" and state.viewport_text(None) == ""
    assert state.viewport_text((-0.0, 1e-06, 200.0)) == "0,0.000001,200"  # never '-0', never '1e-06'
    for viewport in ((-1.5, 0.0, 12.5), (0.123456, -99999.5, 1.001), (-canvas.MAX_COORDINATE, 3.0, canvas.MAX_ZOOM)):
        assert state.parse_viewport(state.viewport_text(viewport)) == viewport
    assert canvas.viewport_value([0, 0, canvas.MAX_ZOOM]) == (0.0, 0.0, 200.0)
    for bad in ([0, 0, canvas.MAX_ZOOM + 0.001], [0, 0, 1], [0, 0, 0.999], [canvas.MAX_COORDINATE * 1.01, 0, 2],
                [0, 0, True], None, {"cx": 0}, [0, 0, 2, 0], "0,0,2"):
        assert canvas.viewport_value(bad) is None, bad
