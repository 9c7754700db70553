"""What the pages show, computed without Streamlit: data checks, latent points and PNG images.

Pages call these through ``dashboard.cache`` or directly; nothing here draws a widget,
so every function can be tested on its own. Images are returned as PNG bytes, upscaled
by nearest neighbour so digits stay crisp at any display size.
"""

from __future__ import annotations

import numpy as np

SLIDER_RANGE = (-4.0, 4.0)  # most posterior means of a trained VAE lie within +-3
SLIDER_STEP = 0.05
DIGIT_SCALE = 10  # one decoded digit: 28 px -> 280 px
GRID_SCALE = 3  # grids of many digits
MAX_IMAGE_WIDTH = 1460  # Streamlit shrinks wider images with bilinear blur: stay below it

TRAIN_HINT = "vae-explorer train --latent-dims 2 5 10 20 50"
BASE_MODES = ("Origin", "Random prior draw", "Test digit")
WALKS = ("Between two test digits", "Along a random direction")
WALK_RADIUS = 3.0  # a random-direction walk spans -3 to +3 prior standard deviations


# --- data -------------------------------------------------------------------------------

def missing_test_files(dataset: str, data_dir) -> str | None:
    """The reason the test split cannot be there, found with a stat call; else None.

    Loading the split needs torchvision (seconds to import), so an absent folder is
    reported without it and the import is paid only when there is data to read.
    """
    from vae_core.data import raw_folder, split_files_present

    if split_files_present(dataset, train=False, data_dir=data_dir):
        return None
    folder = raw_folder(dataset, data_dir)
    return (f"{dataset} test images are not in {folder}: set VAE_DATA_DIR to the folder that holds "
            f"{folder.parent.name}/raw (or run `vae-explorer download --dataset {dataset}`)")


def missing_data_sentence(reason: str | None, what: str) -> str:
    """One sentence: what cannot be shown, why, and what to set."""
    reason = reason or "the test images could not be loaded"
    return f"{what} are hidden because {reason[0].lower()}{reason[1:]}"


def split_matches(split, arrays: dict | None) -> bool:
    """The test split is the one the cached projections were computed on (same size)."""
    return split is not None and (arrays is None or len(arrays["mu"]) == len(split.labels))


def test_count(split, arrays: dict | None) -> int:
    """How many test digits can be picked: from the cached means, else from the data."""
    if arrays is not None:
        return len(arrays["mu"])
    return 0 if split is None else len(split.labels)


def test_label(split, arrays: dict | None, index: int) -> int | None:
    if arrays is not None:
        return int(arrays["labels"][index])
    return None if split is None else int(split.labels[index])


def test_means(model, split, arrays: dict | None, indices):
    """Posterior means [K, D] of the chosen test digits: cached when possible, else encoded."""
    import torch

    indices = [int(i) for i in indices]
    if arrays is not None:
        return torch.as_tensor(np.asarray(arrays["mu"][indices], dtype=np.float32))
    with torch.no_grad():
        return model.encode(split.images[indices])[0]


# --- latent points ------------------------------------------------------------------------

def latent_order(model, arrays: dict | None, split, metrics: dict | None = None):
    """(dims most informative first, KL score per dim [D] in nats, a note on how it was measured).

    Exact when the test images are loaded or metrics.json holds ``kl_per_dim``; otherwise
    estimated from the cached posterior means.
    """
    import torch

    from vae_core import explore

    latent_dim = model.config.latent_dim
    cached_kl = (metrics or {}).get("kl_per_dim")
    if split_matches(split, arrays):
        with torch.no_grad():
            mu, logvar = model.encode(split.images)
        scores = explore.mean_kl_per_dim(mu, logvar).numpy()
        note = "average KL per dimension over the test set"
    elif isinstance(cached_kl, list) and len(cached_kl) == latent_dim:
        scores = np.asarray(cached_kl, dtype=np.float64)
        note = "average KL per dimension over the test set (from metrics.json)"
    elif arrays is not None:
        scores = explore.mean_part_of_kl(arrays["mu"])
        note = "KL carried by the cached test-set means (0.5 E[mu²]; the test images are not loaded)"
    else:
        return list(range(latent_dim)), np.zeros(latent_dim), "natural order (no test set or cached means)"
    return explore.dims_by_information(scores), np.asarray(scores, dtype=np.float64), note


def base_point(mode: str, latent_dim: int, seed: int, index: int, model, split, arrays):
    """The point the sliders start from: origin, a prior draw, or a test digit's posterior mean."""
    import torch

    from vae_core import explore

    if mode == BASE_MODES[1]:
        return explore.prior_samples(latent_dim, 1, seed)[0]
    if mode == BASE_MODES[2] and test_count(split, arrays) > index >= 0:
        return test_means(model, split, arrays, [index])[0]
    return torch.zeros(latent_dim)


def direction_line(latent_dim: int, seed: int, radius: float = WALK_RADIUS):
    """(start [D], end [D]) of a walk through the origin along a seeded random unit direction, +-``radius``."""
    from vae_core import explore

    direction = explore.prior_samples(latent_dim, 1, seed)[0]
    direction = direction / direction.norm().clamp_min(1e-12)
    return -radius * direction, radius * direction


def clip_to_sliders(value: float) -> float:
    low, high = SLIDER_RANGE
    return float(min(high, max(low, round(value / SLIDER_STEP) * SLIDER_STEP)))


def point_from_values(base, values: dict[int, float]):
    """The base point [D] with the slider dimensions replaced by their values."""
    z = base.clone().to(dtype=base.dtype)
    for dim, value in values.items():
        z[dim] = float(value)
    return z


def dim_label(dim: int, scores) -> str:
    """'z[3] (KL 1.25 nats)': how sliders and dimension pickers name a latent dimension."""
    return f"z[{dim}] (KL {float(scores[dim]):.2f} nats)"


def point_caption(z, dims: list[int]) -> str:
    """Where the decoded digit is: all of z when short, else which coordinates the sliders set."""
    values = z.tolist()
    if len(values) <= 8:
        return "Decoded digit at z = (" + ", ".join(f"{v:.2f}" for v in values) + ")"
    shown = ", ".join(f"z[{d}] = {values[d]:.2f}" for d in dims[:4])
    return f"Decoded digit at {shown}{', …' if len(dims) > 4 else ''}; {_held_note(len(values) - len(dims))}"


def _held_note(held: int) -> str:
    """What happens to the dimensions without a slider, worded for none, one or several."""
    if held <= 0:
        return "every dimension has a slider"
    if held == 1:
        return "the one other dimension stays at the start point"
    return f"the other {held} dimensions stay at the start point"


def clicked_point(event) -> tuple[float, float] | None:
    """(x, y) of the first point a plotly selection event holds, else None."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    for point in points:
        if "x" in point and "y" in point:
            return float(point["x"]), float(point["y"])
    return None


def _first(data):
    """A point's customdata as the browser sends it: a number, a list, or {"0": number}."""
    if isinstance(data, dict):
        return data.get("0", next(iter(data.values()), None))
    if isinstance(data, (list, tuple)):
        return data[0] if data else None
    return data


def selected_test_indices(event, limit: int = 40) -> list[int]:
    """Test-set rows of the selected map points (their customdata), in selection order."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
    indices: list[int] = []
    for point in points:
        value = _first(point.get("customdata"))
        if isinstance(value, (int, float)) and int(value) not in indices:
            indices.append(int(value))
    return indices[:limit]


# --- images ----------------------------------------------------------------------------

def digit_png(model, z, factor: int = DIGIT_SCALE) -> bytes:
    """One decoded digit from z [D], as a crisp PNG."""
    from vae_core import explore

    return explore.png_bytes(explore.decode(model, z.reshape(1, -1))[0], factor)


def grid_png(images, columns: int, factor: int = GRID_SCALE) -> bytes:
    """images [N, 28, 28] in [0, 1] -> one tiled PNG."""
    from vae_core import explore

    grid = explore.tile(images, columns)
    return explore.png_bytes(grid, max(1, min(factor, MAX_IMAGE_WIDTH // grid.shape[1])))


def generated_grid_png(model, seed: int, count: int, temperature: float, columns: int,
                       factor: int = GRID_SCALE) -> bytes:
    from vae_core import explore

    z = explore.prior_samples(model.config.latent_dim, count, seed, temperature)
    return grid_png(explore.decode(model, z), columns, factor)


def manifold_png(model, base: tuple, dims: tuple[int, int], steps: int, factor: int = 2) -> bytes:
    """Decoded steps x steps grid over ``dims`` at prior quantiles 5%..95%, others at ``base``."""
    import torch

    from vae_core import explore

    z = explore.manifold_latents(torch.tensor(base, dtype=torch.float32), dims, explore.normal_quantiles(steps))
    return grid_png(explore.decode(model, z), steps, factor)


def interpolation_png(model, start, end, steps: int, factor: int = GRID_SCALE) -> bytes:
    """A strip of ``steps`` digits decoded along the line from ``start`` [D] to ``end`` [D]."""
    from vae_core import explore

    return grid_png(explore.decode(model, explore.interpolate(start, end, steps)), steps, factor)


def test_images_png(split, indices, columns: int, factor: int = GRID_SCALE) -> bytes:
    """The original test images at ``indices`` as one tiled PNG."""
    images = split.images[[int(i) for i in indices]].reshape(-1, 28, 28).numpy()
    return grid_png(images, columns, factor)


def decoded_means_png(model, split, arrays, indices, columns: int, factor: int = GRID_SCALE) -> bytes:
    """Reconstructions: the decoded posterior means of the test digits at ``indices``."""
    from vae_core import explore

    return grid_png(explore.decode(model, test_means(model, split, arrays, indices)), columns, factor)


def sample_indices(total: int, count: int, seed: int) -> list[int]:
    """``count`` distinct test rows drawn with ``seed`` (the same for every model)."""
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(total, size=min(count, total), replace=False))
