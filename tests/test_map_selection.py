"""A selection of any size on the Latent map, driven by AppTest (the browser half: test_browser_map_selection.py).

The digits beside the map come a page of 40 at a time, and turning the pages shows every selected
digit exactly once; a new selection starts again at page 1. A selection of more than one page also
shows its class histogram (the counts of its labels) and its mean digit: the pixel mean of the
selected originals beside the digit decoded from the mean of their posterior means.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from dashboard.latent_map import selection, state
from dashboard.shell import images
from tests.streamlit_internals import chart_spec
from tests.test_dashboard import browser_reports
from tests.test_dashboard_canvas import view
from tests.test_latent_map_links import Z2, inside
from tests.test_links import open_link
from vae_core import explore, store
from vae_core.data import load_split

EVERYTHING = "box:-100,-100,100,100"  # the whole tiny z = 2 map: 200 test digits, 5 pages
KEY = selection.page_key(state.MapView(Z2, "Latent coordinates").component_key)


def shown_rows(app) -> tuple[list[int], list[int]]:
    """The rows the page draws, read from the alt text of its two image grids: (originals, decoded means)."""
    found = {}
    for image in app.image:
        alt = image.proto.imgs[0].alt
        match = re.fullmatch(r"The selected test images( decoded from their posterior means)?, .*, 4 per row: (.*)",
                             alt)
        if match:
            found["decoded" if match.group(1) else "originals"] = [int(r) for r in re.findall(r"#(\d+)", match[2])]
    return found.get("originals", []), found.get("decoded", [])


def buttons(app) -> dict:
    return {b.label: b for b in app.button if b.key in (f"{KEY}_back", f"{KEY}_next")}


def caption_with(app, text: str) -> str:
    found = [c.value for c in app.caption if text in c.value]
    assert len(found) == 1, [c.value for c in app.caption]
    return found[0]


def test_the_pager_shows_every_selected_digit_once_and_a_new_selection_starts_at_page_1(
        monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_link(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "latent_map", {"model": Z2,
                                                                                      "select": EVERYTHING})
    _, data = view(app, "map")
    selected = inside(data, data["selection"], [])
    assert len(selected) == 200
    assert app.number_input(key=KEY).value == 1 and buttons(app)["Previous"].disabled
    assert caption_with(app, "Showing ") == "Showing digits 1-40 of 200"
    seen = []
    for page in range(1, 6):
        originals, decoded = shown_rows(app)
        assert originals == decoded == selected[(page - 1) * 40:page * 40], page
        assert caption_with(app, "Showing ") == f"Showing digits {(page - 1) * 40 + 1}-{page * 40} of 200"
        seen += originals
        if page < 5:
            buttons(app)["Next"].click().run()
            assert not app.exception, [e.value for e in app.exception]
    assert sorted(seen) == sorted(selected) and len(seen) == len(set(seen))  # each one, exactly once
    assert buttons(app)["Next"].disabled and not buttons(app)["Previous"].disabled
    buttons(app)["Previous"].click().run()
    assert app.number_input(key=KEY).value == 4 and shown_rows(app)[0] == selected[120:160]
    app.number_input(key=KEY).set_value(2).run()
    assert shown_rows(app)[0] == selected[40:80]
    app.run()  # a rerun of the same selection keeps its page
    assert app.number_input(key=KEY).value == 2

    browser_reports(app, view(app, "map")[0], {"hidden": [3]})  # the selection changes: back to page 1
    _, data = view(app, "map")
    smaller = inside(data, data["selection"], [3])
    assert len(smaller) == 180 and app.number_input(key=KEY).value == 1
    assert shown_rows(app)[0] == smaller[:40] and caption_with(app, "Showing ") == "Showing digits 1-40 of 180"
    app.number_input(key=KEY).set_value(5).run()
    assert shown_rows(app)[0] == smaller[160:] and buttons(app)["Next"].disabled

    browser_reports(app, view(app, "map")[0], {"selection": [{"row": 7}, {"row": 9}]})  # one page: no pager
    assert not app.number_input and shown_rows(app)[0] == [7, 9] and not app.get("plotly_chart")


def test_the_histogram_counts_the_selections_classes_and_the_mean_digit_is_its_mean(
        monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    drawn = []
    real_grid = images.grid_png
    monkeypatch.setattr(images, "grid_png", lambda pictures, *args, **kwargs: (
        drawn.append(np.asarray(pictures)), real_grid(pictures, *args, **kwargs))[1])
    box = "box:-0.3,0.3,-0.05,0.55"
    app = open_link(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "latent_map", {"model": Z2, "select": box,
                                                                                      "hide": "8"})
    _, data = view(app, "map")
    selected = inside(data, data["selection"], [8])
    assert len(selected) > 40
    arrays = np.load(tiny_checkpoint_root / Z2 / "projections.npz")
    [chart] = app.get("plotly_chart")
    bars = chart_spec(chart)["data"][0]
    expected = np.bincount(arrays["labels"][selected], minlength=10)
    assert bars["x"] == [str(k) for k in range(10)] and bars["y"] == expected.tolist() and bars["y"][8] == 0
    assert bars["marker"]["color"] == ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                       "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    assert chart.proto.alt.startswith(f"Classes of the {len(selected)} selected: 0 {expected[0]}, 1 {expected[1]},")

    captions = [i.captions[0] for i in app.image]
    assert captions == ["Pixel mean of the originals", "Decoded from the mean of their posterior means", "Originals",
                        "Decoded posterior means"]
    split = load_split("mnist", train=False, data_dir=fake_mnist_dir, download=False)
    pixel_mean = split.images.numpy()[selected].mean(axis=0).reshape(28, 28)
    assert drawn[0].shape == (1, 28, 28) and np.allclose(drawn[0][0], pixel_mean, atol=1e-6)
    assert not np.allclose(pixel_mean, split.images.numpy().mean(axis=0).reshape(28, 28), atol=1e-3)  # not all
    model = store.load_model(store.scan(tiny_checkpoint_root)[0][0])
    assert model.config.latent_dim == 2
    mean_mu = np.asarray(arrays["mu"][selected], dtype=np.float64).mean(axis=0)
    decoded = explore.decode(model, torch.tensor(mean_mu, dtype=torch.float32).reshape(1, 2))[0]
    assert np.allclose(drawn[1][0], decoded, atol=1e-6)
    assert not np.allclose(drawn[1][0], drawn[0][0], atol=1e-2)  # two different pictures


def test_without_the_test_images_the_pixel_mean_says_why(monkeypatch, tiny_checkpoint_root, empty_data):
    app = open_link(monkeypatch, tiny_checkpoint_root, empty_data, "latent_map", {"model": Z2,
                                                                                   "select": EVERYTHING})
    assert [i.captions[0] for i in app.image] == ["Decoded from the mean of their posterior means",
                                                  "Decoded posterior means"]
    caption_with(app, "The pixel mean needs the test images")
    assert len(shown_rows(app)[1]) == 40


@pytest.mark.parametrize("count, page, words", [(2713, 2, "digits 41-80 of 2,713"),
                                                (2713, 68, "digits 2,681-2,713 of 2,713"),
                                                (40, 1, "digits 1-40 of 40"), (41, 2, "digits 41-41 of 41")])
def test_page_words_and_counts(count, page, words):
    assert selection.page_words(page, count) == words
    assert selection.page_count(count) == -(-count // 40)
    rows = list(range(1000, 1000 + count))
    pages = [selection.page_rows(rows, p) for p in range(1, selection.page_count(count) + 1)]
    assert sum(pages, []) == rows and all(len(p) == 40 for p in pages[:-1])
