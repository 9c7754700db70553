"""Your digit's nearest test digits, driven by AppTest (the browser half: test_browser_map_selection.py).

A drawing's posterior mean finds its k nearest test digits in the whole latent space, by the cached
test means, as the Latent map's clicked point does: the list equals a brute-force numpy search. Each
one shows its thumbnail, index, class and distance, and opens in the Latent explorer with one click.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from dashboard.your_digit import own_digit, state
from tests.test_dashboard import browser_reports, choose_model, open_app
from tests.test_dashboard_canvas import stroke_pixels, view
from tests.test_links import follow_link
from vae_core import digits, store
from vae_core.neighbours import nearest

LISTED = re.compile(r"^(\d+) nearest to your digit \(distance in the (\d+)-D latent space\): (.*)$")


def brute_force(means: np.ndarray, point: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    """The reference: float64 distances from ``point`` to every mean, nearest first (ties by row)."""
    distance = np.linalg.norm(np.asarray(means, dtype=np.float64) - np.asarray(point, dtype=np.float64), axis=1)
    order = sorted(range(len(means)), key=lambda i: (distance[i], i))[:k]
    return order, distance[order]


def listed(app) -> tuple[int, list[tuple[int, str, float]], str]:
    """The caption under the neighbours: (the latent size, [(row, class, distance)], the whole text)."""
    found = [c.value for c in app.caption if LISTED.match(c.value)]
    assert len(found) == 1, [c.value for c in app.caption]
    match = LISTED.match(found[0])
    entries = [(int(r), name, float(d)) for r, name, d in re.findall(r"#(\d+) \(([^)]+)\) (\d+\.\d+)", match[3])]
    assert len(entries) == int(match[1])
    return int(match[2]), entries, found[0]


def drawn_mean(root: Path, name: str) -> np.ndarray:
    """The posterior mean the page encodes for the test's drawing, with the model ``name`` under ``root``."""
    checkpoint = next(c for c in store.scan(root)[0] if c.name == name)
    return own_digit.encode(store.load_model(checkpoint), digits.from_drawing(stroke_pixels()))[0]


def test_a_drawing_lists_the_brute_force_nearest_test_digits(monkeypatch, tiny_checkpoint_root, empty_data):
    app = choose_model(open_app(monkeypatch, tiny_checkpoint_root, empty_data, "your_digit"), 3)
    assert not [c for c in app.caption if LISTED.match(c.value)]  # nothing drawn, nothing listed
    browser_reports(app, view(app, "draw")[0], {"pixels": stroke_pixels()})
    name = "mnist-z3-h16-e2-b32-lr0.001-s0"
    arrays = np.load(tiny_checkpoint_root / name / "projections.npz")
    expected, distances = brute_force(arrays["mu"], drawn_mean(tiny_checkpoint_root, name), state.DEFAULT_K)
    latent_dim, entries, text = listed(app)
    assert latent_dim == 3 and [row for row, _, _ in entries] == expected
    assert [name for _, name, _ in entries] == [str(arrays["labels"][r]) for r in expected]
    assert np.allclose([d for _, _, d in entries], distances, atol=1e-3) and distances[0] < distances[-1]
    assert text.endswith("the test digits are not loaded.")  # decoded means stand in for the originals
    thumbnails = [i for i in app.image if i.proto.imgs[0].alt.startswith("Test digit #")]
    assert [i.proto.imgs[0].alt for i in thumbnails] == [
        f"Test digit #{r}, {arrays['labels'][r]}, at distance {d:.3f}" for r, d in zip(expected, distances,
                                                                                     strict=True)]
    opens = [e.proto.label for e in app.get("page_link")]
    assert opens == ["Explore from here"] + [f"Open #{r}" for r in expected]

    app.slider(key=state.K).set_value(state.MAX_K).run()
    assert [row for row, _, _ in listed(app)[1]] == brute_force(arrays["mu"], drawn_mean(tiny_checkpoint_root, name),
                                                                state.MAX_K)[0]
    assert len([i for i in app.image if i.proto.imgs[0].alt.startswith("Test digit #")]) == state.MAX_K

    browser_reports(app, view(app, "draw")[0], {"pixels": [0] * 784})  # the pad cleared: nothing listed
    assert not [c for c in app.caption if LISTED.match(c.value)] and not app.image


def test_the_search_is_the_latent_maps_on_the_shipped_means(shipped_root):
    arrays = np.load(shipped_root / "mnist-z10-h400-e12-b128-lr0.001-s0" / "projections.npz")
    means = arrays["mu"]
    generator = np.random.default_rng(0)
    for point in [means[17].astype(np.float64) + 0.01, generator.normal(size=10), np.zeros(10)]:
        for k in (1, 8, 20):
            rows, distances = nearest(means, point, k)
            expected, reference = brute_force(means, point, k)
            assert rows == expected and distances == pytest.approx(reference, rel=1e-5)
    rows, distances = nearest(means, means[17], 3)  # a test digit's own mean: itself first, at distance 0
    assert rows[0] == 17 and distances[0] == 0
    rows, _ = nearest(means, means[17], 3, leave_out=17)  # as the Latent map asks: itself left out
    assert rows == [r for r in brute_force(means, means[17], 4)[0] if r != 17][:3]


def test_open_in_the_explorer_starts_it_at_that_test_digit(monkeypatch, tiny_checkpoint_root, fake_mnist_dir):
    app = open_app(monkeypatch, tiny_checkpoint_root, fake_mnist_dir, "your_digit")
    browser_reports(app, view(app, "draw")[0], {"pixels": stroke_pixels()})
    _, entries, text = listed(app)
    assert not text.endswith("not loaded.")  # the thumbnails are the test images
    row = entries[2][0]
    assert follow_link(app, f"Open #{row}") == {"start": "Test digit", "digit": str(row)}
    assert app.title[0].value.startswith("Latent explorer")
    assert app.radio(key="start").value == "Test digit" and app.number_input(key="digit").value == row
