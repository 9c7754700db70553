"""The Latent map's neighbours, search and selection CSV, driven by AppTest and on the shipped means (the browser
half: test_browser_map_neighbours.py).

A clicked point (the selection ``row:r`` alone) lists its k nearest test digits in the whole latent space,
by posterior mean, and the map rings them; ``k=12`` in the address (absent for 8). A search is a request
to the map (``find``), answered by the map's own reports; a bad index is one line. The selection's CSV
holds every selected row: index, class, the map's x and y, and the mean.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from dashboard.latent_map import detail, neighbours, state
from dashboard.shell import points
from tests.test_dashboard import browser_reports
from tests.test_dashboard_canvas import view
from tests.test_latent_map_links import BOX, Z2, inside
from tests.test_links import follow_link, open_link

Z10 = "mnist-z10-h400-e12-b128-lr0.001-s0"


def brute_force(mu: np.ndarray, row: int, k: int) -> tuple[list[int], np.ndarray]:
    """The reference: distances in float64 from every mean, the row itself left out, nearest first (ties by row)."""
    distance = np.linalg.norm(np.asarray(mu, dtype=np.float64) - np.asarray(mu[row], dtype=np.float64), axis=1)
    order = [int(i) for i in sorted(range(len(mu)), key=lambda i: (distance[i], i)) if i != row][:k]
    return order, distance[order]


def test_neighbours_are_the_brute_force_nearest_on_the_shipped_z10_means(shipped_root):
    mu = np.load(shipped_root / Z10 / "projections.npz")["mu"]
    assert mu.shape == (10_000, 10) and mu.dtype == np.float16
    for row in (0, 17, 4242, 9999):
        for k in (1, state.DEFAULT_K, state.MAX_K):
            rows, distances = neighbours.nearest(mu, row, k)
            expected, reference = brute_force(mu, row, k)
            assert rows == expected, (row, k)
            assert distances == pytest.approx(reference, rel=1e-5) and distances == sorted(distances)
    rows, _ = neighbours.nearest(mu[:5], 2, state.MAX_K)  # fewer points than k: every other one
    assert sorted(rows) == [0, 1, 3, 4]


@pytest.mark.parametrize("text, expected", [("1", 1), ("8", 8), ("20", 20), ("0", None), ("21", None), ("-1", None),
                                            ("x", None), ("3.5", None), ("", None), ("100", None)])
def test_k_is_a_whole_number_from_1_to_20(text, expected):
    assert state.parse_k(text) == expected


@pytest.mark.parametrize("text, expected", [("17", 17), (" 17 ", 17), ("#17", 17), ("0", 0), ("9999", 9999)])
def test_a_search_reads_a_test_index(text, expected):
    assert state.parse_index(text, 10_000) == expected


@pytest.mark.parametrize("text", ["10000", "123456789", "-1", "abc", "1e3", "17.0", "1,7", "", "#", "0x11"])
def test_a_bad_search_is_one_line(text):
    said = state.parse_index(text, 10_000)
    assert isinstance(said, str) and "\n" not in said and said.endswith(".") and "9,999" in said


def neighbour_caption(app) -> str:
    found = [c.value for c in app.caption if " nearest to #" in c.value]
    return found[0] if found else ""


def test_a_click_lists_and_rings_its_neighbours_and_k_travels_in_the_url(monkeypatch, tiny_checkpoint_root,
                                                                         empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "k": "5"})
    element, data = view(app, "map")
    assert data["neighbours"] is None and neighbour_caption(app) == "" and app.query_params["k"] == "5"
    browser_reports(app, element, {"selection": [{"row": 7}]})
    _, data = view(app, "map")
    mu = np.load(tiny_checkpoint_root / Z2 / "projections.npz")["mu"]
    expected, reference = brute_force(mu, 7, 5)
    assert data["neighbours"] == {"row": 7, "rows": expected}
    assert neighbour_caption(app).startswith("5 nearest to #7 (distance in the 2-D latent space): "
                                             f"#{expected[0]} (")
    assert f"{reference[0]:.3f}" in neighbour_caption(app)
    assert app.slider(key=state.MapView(Z2, "Latent coordinates").k_key).value == 5
    assert "Decoded posterior means (the test images are not loaded)" in [i.captions[0] for i in app.image]

    app.slider(key=state.MapView(Z2, "Latent coordinates").k_key).set_value(state.MAX_K).run()
    assert app.query_params["k"] == "20" and len(view(app, "map")[1]["neighbours"]["rows"]) == state.MAX_K
    app.slider(key=state.MapView(Z2, "Latent coordinates").k_key).set_value(state.DEFAULT_K).run()
    assert "k" not in app.query_params and len(view(app, "map")[1]["neighbours"]["rows"]) == state.DEFAULT_K

    browser_reports(app, view(app, "map")[0], {"selection": [{"box": [-0.3, 0.3, -0.05, 0.55]}]})
    assert view(app, "map")[1]["neighbours"] is None and neighbour_caption(app) == ""  # a box lists none
    browser_reports(app, view(app, "map")[0], {"selection": [{"row": 7}, {"row": 9}]})
    assert view(app, "map")[1]["neighbours"] is None  # nor do two clicked points


@pytest.mark.parametrize("bad", ["0", "21", "x", "3.5", "-4", ""])
def test_a_bad_k_in_a_link_is_the_default(monkeypatch, tiny_checkpoint_root, empty_data, bad):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "k": bad, "select": "row:3"})
    assert len(view(app, "map")[1]["neighbours"]["rows"]) == state.DEFAULT_K and "k" not in app.query_params


def test_a_search_asks_the_map_and_the_maps_answer_selects_it(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2})
    search = state.MapView(Z2, "Latent coordinates").search_key
    app.text_input(key=search).input("12").run()
    element, data = view(app, "map")
    assert data["find"] == {"row": 12, "id": 1} and app.text_input(key=search).value == ""
    assert "select" not in app.query_params  # not yet: the map selects it and says so
    browser_reports(app, element, {"selection": [{"row": 12}], "viewport": [0.1, 0.4, 8], "found": 1})
    _, data = view(app, "map")
    assert data["find"] is None and app.query_params["select"] == "row:12" and app.query_params["view"] == "0.1,0.4,8"
    assert data["neighbours"]["row"] == 12 and neighbour_caption(app).startswith("8 nearest to #12 ")

    for bad, said in (("abc", "is not a test index"), ("200", "There is no test digit #200"), ("-3", "not a test")):
        app.text_input(key=search).input(bad).run()
        assert not app.exception and view(app, "map")[1]["find"] is None
        notes = [c.value for c in app.caption if said in c.value]
        assert len(notes) == 1 and "\n" not in notes[0], [c.value for c in app.caption]
        assert app.query_params["select"] == "row:12"  # the selection stays
    app.text_input(key=search).input("3").run()
    assert view(app, "map")[1]["find"] == {"row": 3, "id": 2} and not [c for c in app.caption if ":material/error" in
                                                                        c.value]


def test_open_in_the_explorer_starts_it_at_the_clicked_digit(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "select": "row:42"})
    assert follow_link(app, "Open in the Latent explorer") == {"start": "Test digit", "digit": "42"}
    assert app.title[0].value.startswith("Latent explorer")
    assert app.radio(key="start").value == "Test digit" and app.number_input(key="digit").value == 42


def test_a_training_digit_opens_in_the_explorer_at_its_mean(monkeypatch, shipped_root, empty_data):
    name = "mnist-z2-h400-e12-b128-lr0.001-s0"
    app = open_link(monkeypatch, shipped_root, empty_data, "latent_map",
                    {"model": name, "points": "all", "select": "row:10123"})
    assert [m.value for m in app.markdown if m.value.startswith("**Nearest neighbours of")] == [
        "**Nearest neighbours of train #123**"]
    assert follow_link(app, "Open in the Latent explorer") == {"start": "Training digit", "train_digit": "123"}
    assert app.title[0].value.startswith("Latent explorer")
    assert app.radio(key="start").value == "Training digit" and app.number_input(key="train_digit").value == 123
    assert "Training image #123 is a " in " ".join(c.value for c in app.caption)
    mean = np.load(shipped_root / name / "train-points.npz")["mu"][123].astype(np.float32)
    sliders = [app.session_state[f"explorer_{name}_{dim}"] for dim in range(2)]
    assert np.allclose(sliders, [points.clip_to_sliders(v) for v in mean])  # its posterior mean is the start point
    # Opened by its link, another training digit moves the sliders to its mean.
    app = open_link(monkeypatch, shipped_root, empty_data, "explorer",
                    {"model": name, "start": "Training digit", "train_digit": "123"})
    app.number_input(key="train_digit").set_value(124).run()
    mean = np.load(shipped_root / name / "train-points.npz")["mu"][124].astype(np.float32)
    sliders = [app.session_state[f"explorer_{name}_{dim}"] for dim in range(2)]
    assert np.allclose(sliders, [points.clip_to_sliders(v) for v in mean])


def test_the_selection_csv_holds_every_selected_row(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2, "select": BOX,
                                                                                   "hide": "3"})
    _, data = view(app, "map")
    rows = inside(data, data["selection"], [3])
    assert len(rows) > 5
    [button] = [b for b in app.get("download_button") if b.proto.label == "Selection as CSV"]
    assert button.proto.help.startswith(f"All {len(rows)} selected: ")  # the file is built on a click: read below
    arrays = np.load(tiny_checkpoint_root / Z2 / "projections.npz")
    mu = arrays["mu"]
    x, y = np.asarray(mu, dtype=np.float32).T  # a 2-D model's map is its means
    names = tuple(str(k) for k in range(10))
    text = neighbours.selection_csv(rows, arrays["labels"], names, np.arange(len(mu)), x, y, mu).decode()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["split", "index", "class", "class_name", "x", "y", "mu_0", "mu_1"]
    assert [int(line[1]) for line in table[1:]] == rows  # every selected row, in the map's order
    for line in table[1:]:
        row = int(line[1])
        assert line[0] == "test"
        assert int(line[2]) == arrays["labels"][row] != 3 and line[3] == str(arrays["labels"][row])
        assert np.array(line[4:6], dtype=np.float32).tolist() == [x[row], y[row]]  # the shortest exact float32 text
        assert np.array([float(v) for v in line[6:]], dtype=np.float16).tolist() == mu[row].tolist()  # exact


def test_the_selection_csv_of_a_projection_has_its_coordinates_and_every_mean(shipped_root):
    arrays = np.load(shipped_root / Z10 / "projections.npz")
    rows = [int(r) for r in arrays["tsne_index"][:60]]
    names = tuple(str(k) for k in range(10))
    text = neighbours.selection_csv(rows, arrays["labels"], names, arrays["tsne_index"], arrays["tsne"][:, 0],
                                    arrays["tsne"][:, 1], arrays["mu"]).decode()
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:6] == ["split", "index", "class", "class_name", "x", "y"]
    assert table[0][6:] == [f"mu_{d}" for d in range(10)]
    assert len(table) == 61 and [int(line[1]) for line in table[1:]] == rows
    assert np.array([[float(v) for v in line[4:6]] for line in table[1:]], dtype=np.float32).tolist() == \
        arrays["tsne"][:60].tolist()
    assert detail.slug("t-SNE") == "t-sne" and detail.slug("Latent coordinates") == "latent-coordinates"
