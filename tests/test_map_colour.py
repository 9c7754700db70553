"""Colour by and density contours on the Latent map: the view's state, its URL form and what the canvas is given,
driven by AppTest (the browser half: test_browser_map_colour.py); and the contours' arithmetic.

``color=nelbo`` (``kl``, ``confidence``, ``dim3``) colours the points by that value per test digit; ``contours=all``
or ``contours=class`` draws density lines under them. Both are kept per model and projection, like ``hide`` and
``k``; a value the map does not offer is ignored (the class colours, no lines).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dashboard.components import map_colour
from tests.test_dashboard_canvas import view
from tests.test_links import open_link
from vae_core import store
from vae_core.projections import load_projections

Z2 = "mnist-z2-h16-e2-b32-lr0.001-s0"
COLOUR_KEY = f"latent_map_{Z2}_Latent coordinates_colour"
CONTOURS_KEY = f"latent_map_{Z2}_Latent coordinates_contours"


def cached(root, name: str = Z2) -> dict:
    return load_projections(store.read_checkpoint(root / name))


def notes(app) -> list[str]:
    """The lines that say what the colouring lacks (not the every-digit switch's, which names `project` too)."""
    return [c.value for c in app.caption if "vae-explorer project" in c.value and "training digits" not in c.value]


def test_a_link_colours_the_points_by_a_value_and_draws_contours(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "color": "nelbo", "contours": "class"})
    _, data = view(app, "map")
    arrays, rows = cached(tiny_checkpoint_root), np.array(data["points"]["rows"])
    colouring = data["colouring"]
    assert colouring["by"] == "nelbo" and colouring["unit"] == "nats" and "negative ELBO" in colouring["title"]
    np.testing.assert_allclose(colouring["values"], arrays["nelbo"][rows], atol=1e-4)
    assert colouring["range"] == pytest.approx(list(np.percentile(arrays["nelbo"][rows], [1, 99])))
    assert colouring["stops"][0] == "#440154" and colouring["stops"][-1] == "#fde725"  # viridis
    classes = {line["class"] for line in data["contours"]}
    assert classes == set(np.unique(data["points"]["labels"]).tolist())  # a set of lines per class
    assert "coloured by reconstruction error" in data["alt"]
    assert app.query_params["color"] == "nelbo" and app.query_params["contours"] == "class"  # written back as read
    assert app.selectbox(key=COLOUR_KEY).value == "nelbo" and app.radio(key=CONTOURS_KEY).value == "class"
    # The tiny model has no classifier beside it: confidence is not offered, and one line says how to add it.
    assert "confidence" not in app.selectbox(key=COLOUR_KEY).options
    assert notes(app) == ["Colouring by classifier confidence needs values these maps were cached without: run "
                          "`vae-explorer project --dataset mnist` to add them."]


def test_the_pickers_change_the_view_and_the_address(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2})
    _, data = view(app, "map")
    assert data["colouring"] is None and data["contours"] == [] and "color" not in app.query_params
    app.selectbox(key=COLOUR_KEY).set_value("dim1").run()
    _, data = view(app, "map")
    rows = np.array(data["points"]["rows"])
    mu = np.asarray(cached(tiny_checkpoint_root)["mu"], dtype=np.float64)
    np.testing.assert_allclose(data["colouring"]["values"], mu[rows, 1], atol=1e-4)
    assert app.query_params["color"] == "dim1" and data["colouring"]["title"] == "Latent dimension 1 (posterior mean)"
    picker = app.selectbox(key=COLOUR_KEY)
    assert picker.value == "dim1" and "Reconstruction error" in picker.options
    app.radio(key=CONTOURS_KEY).set_value("all").run()
    _, data = view(app, "map")
    assert {line["class"] for line in data["contours"]} == {None} and len(data["contours"]) == len(map_colour.LEVELS)
    assert app.query_params["contours"] == "all" and app.query_params["color"] == "dim1"
    app.radio(key="map").set_value("t-SNE").run()  # another projection: its own view, class colours and no lines
    _, data = view(app, "map")
    assert data["colouring"] is None and data["contours"] == [] and "color" not in app.query_params
    app.radio(key="map").set_value("Latent coordinates").run()  # and back: the view kept
    _, data = view(app, "map")
    assert data["colouring"]["by"] == "dim1" and app.query_params["contours"] == "all"
    app.selectbox(key=COLOUR_KEY).set_value("class").run()
    app.radio(key=CONTOURS_KEY).set_value("off").run()
    _, data = view(app, "map")
    assert data["colouring"] is None and data["contours"] == []
    assert "color" not in app.query_params and "contours" not in app.query_params


@pytest.mark.parametrize("bad", ["confidence", "dim2", "dim-1", "nelbo;kl", "../x", "NELBO", "", "a" * 5000])
def test_a_colouring_the_map_does_not_offer_is_ignored(monkeypatch, tiny_checkpoint_root, empty_data, bad):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map",
                    {"model": Z2, "color": bad, "contours": "sideways", "hide": "3"})
    _, data = view(app, "map")
    assert data["colouring"] is None and data["contours"] == [] and data["hidden"] == [3]
    assert "color" not in app.query_params and "contours" not in app.query_params


def test_maps_cached_before_the_values_still_load_and_say_how_to_add_them(monkeypatch, tiny_checkpoint_root,
                                                                         empty_data, tmp_path):
    root = tmp_path / "ck"
    shutil.copytree(tiny_checkpoint_root / Z2, root / Z2)
    arrays = {k: v for k, v in cached(root).items() if k not in ("nelbo", "kl", "confidence")}
    np.savez_compressed(root / Z2 / "projections.npz", **arrays)
    app = open_link(monkeypatch, root, empty_data, "latent_map", {"model": Z2, "color": "nelbo"})
    _, data = view(app, "map")
    assert data["colouring"] is None and len(data["points"]["rows"]) == len(arrays["labels"])
    assert app.selectbox(key=COLOUR_KEY).options == ["Class", "Latent dimension 0", "Latent dimension 1"]
    assert notes(app) == ["Colouring by reconstruction error, classifier confidence and KL divergence needs values "
                          "these maps were cached without: run `vae-explorer project --dataset mnist` to add them."]


def test_contours_enclose_the_densest_regions_of_their_points():
    rng = np.random.default_rng(0)
    a, b = rng.normal([0, 0], 0.5, size=(600, 2)), rng.normal([6, 1], 1.0, size=(400, 2))
    points = np.vstack([a, b])
    labels = np.r_[np.zeros(600, int), np.ones(400, int)]
    lines = map_colour.contours(points[:, 0], points[:, 1], labels, "class")
    assert [(line["class"], line["level"]) for line in lines] == [(k, n) for k in (0, 1) for n in range(3)]
    for line in lines:
        ends = np.array(line["segments"]).reshape(-1, 2)
        centre = ends.mean(axis=0)
        assert np.linalg.norm(centre - ([0, 0] if line["class"] == 0 else [6, 1])) < 0.6  # around its own cluster
    # For a round Gaussian the line holding a share p of the points is a circle of radius sigma * sqrt(-2 ln(1 - p))
    # (widened a little by the kernel): the 60% line of class 0 lies near 0.5 * 1.35.
    radius = np.linalg.norm(np.array(lines[1]["segments"]).reshape(-1, 2), axis=1)
    assert 0.6 < np.median(radius) < 0.85, np.median(radius)
    inner = np.linalg.norm(np.array(lines[2]["segments"]).reshape(-1, 2), axis=1)
    assert np.median(inner) < np.median(radius)
    assert map_colour.contours(points[:, 0], points[:, 1], labels, "off") == []
    together = map_colour.contours(points[:, 0], points[:, 1], labels, "all")
    assert {line["class"] for line in together} == {None} and len(together) == 3


def test_marching_squares_traces_a_circle():
    cells = np.arange(map_colour.GRID)
    grid = np.exp(-((cells[None, :] - 48.0) ** 2 + (cells[:, None] - 40.0) ** 2) / 200)
    segments = map_colour.segments(grid, 0.5, (0, map_colour.GRID - 1, 0, map_colour.GRID - 1))
    ends = segments.reshape(-1, 2)
    assert len(segments) > 50
    np.testing.assert_allclose(np.hypot(ends[:, 0] - 48, ends[:, 1] - 40), np.sqrt(200 * np.log(2)), atol=0.1)


def test_a_few_stray_points_get_no_line_of_their_own():
    """A clump of 8 points far from a cluster of 1,000 holds 0.8 % of the mass, denser than the outer level: no line is
    drawn around it, while the cluster keeps its three."""
    rng = np.random.default_rng(1)
    cluster = rng.normal([0, 0], 1.0, size=(1000, 2))
    strays = rng.normal([7.0, 7.0], 0.05, size=(8, 2))
    points = np.vstack([cluster, strays])
    lines = map_colour.contours(points[:, 0], points[:, 1], np.zeros(len(points), int), "all")
    assert len(lines) == 3
    for line in lines:
        ends = np.array(line["segments"]).reshape(-1, 2)
        assert len(ends) and np.linalg.norm(ends, axis=1).max() < 5.0, line["level"]  # all of them around the cluster
    grid = np.zeros((map_colour.GRID, map_colour.GRID))
    grid[10:20, 10:20], grid[60:62, 60:62] = 1.0, 1.0  # 100 cells of mass and an island of 4: 3.8 %, kept
    assert (map_colour.without_islands(grid, 0.5) == grid).all()
    grid[60:62, 60:62] = 0.1  # 0.4 %: lowered away
    cleaned = map_colour.without_islands(grid, 0.05)
    assert cleaned[60:62, 60:62].sum() == 0 and (cleaned[10:20, 10:20] == 1.0).all()
