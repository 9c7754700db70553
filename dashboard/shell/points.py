"""Latent points, test digits and what the models compute from them: arrays, no Streamlit.

Slider ranges, start points, walks, KL ordering and collapsed dimensions, posterior means of
test digits, classifier probabilities and nearest training images. Pages reach the costly
parts through ``dashboard.cache``.
"""

from __future__ import annotations

import numpy as np

from vae_core.train_points import train_from

SLIDER_RANGE = (-4.0, 4.0)  # most posterior means of a trained VAE lie within +-3
SLIDER_STEP = 0.05
BASE_MODES = ("Origin", "Random prior draw", "Test digit")
TRAINING_DIGIT = "Training digit"  # a start point offered once the training digits are placed on the model's maps
OWN_DIGIT = "Your digit"  # a start point offered once the Your digit page has encoded one for this model
WALKS = ("Between two test digits", "Along a random direction")
WALK_RADIUS = 3.0  # a random-direction walk spans -3 to +3 prior standard deviations
from vae_core.defaults import KL_COLLAPSED  # noqa: E402  (the fallback test when metrics.json has no flags)


def split_matches(split, arrays: dict | None) -> bool:
    """The test split is the one the cached projections were computed on: as many digits, with the same labels in
    the same order (a data set registered again, with other images or another split, differs)."""
    if split is None or arrays is None:
        return split is not None
    return len(arrays["mu"]) == len(split.labels) and np.array_equal(arrays["labels"], np.asarray(split.labels))


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


def base_point(mode: str, latent_dim: int, seed: int, index: int, model, split, arrays, own=None, training=None):
    """The point the sliders start from: origin, a prior draw, a test digit's posterior mean, a training digit's
    (``index`` among ``training``, ``training_digits``) or ``own`` [D]."""
    import torch

    from vae_core import explore

    if mode == OWN_DIGIT and own is not None and len(own) == latent_dim:
        return torch.tensor(own, dtype=torch.float32)
    if mode == TRAINING_DIGIT and training is not None and len(training[0]) > index >= 0:
        return torch.as_tensor(np.asarray(training[0][index], dtype=np.float32))
    if mode == BASE_MODES[1]:
        return explore.prior_samples(latent_dim, 1, seed)[0]
    if mode == BASE_MODES[2] and test_count(split, arrays) > index >= 0:
        return test_means(model, split, arrays, [index])[0]
    return torch.zeros(latent_dim)


def training_digits(every: dict | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(posterior means [N, D], labels [N]) of the training digits in ``every`` (test rows, then training rows:
    ``cache.every_point_for``), or None when they are not placed on the model's maps."""
    if every is None:
        return None
    start = train_from(every)
    return every["mu"][start:], every["labels"][start:]


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


def sample_indices(total: int, count: int, seed: int) -> list[int]:
    """``count`` distinct test rows drawn with ``seed`` (the same for every model)."""
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(total, size=min(count, total), replace=False))


def collapsed_dims(latent_dim: int, metrics: dict | None, scores) -> set[int]:
    """Dimensions that carry (almost) nothing: inactive per metrics.json, else KL score < KL_COLLAPSED.

    metrics.json marks a dimension active when the variance of its posterior mean over the
    test set exceeds ``active_threshold`` (Burda et al. 2016). Without it, ``scores`` [D] (nats)
    decide; all-zero scores mean nothing was measured, so nothing is marked.
    """
    variance = (metrics or {}).get("posterior_mean_variance")
    threshold = (metrics or {}).get("active_threshold")
    if isinstance(variance, list) and len(variance) == latent_dim and isinstance(threshold, (int, float)):
        return {dim for dim, value in enumerate(variance) if value <= threshold}
    values = np.asarray(scores, dtype=np.float64)
    if len(values) != latent_dim or not np.any(values > 0):
        return set()
    return {int(dim) for dim in np.flatnonzero(values < KL_COLLAPSED)}


def classify_image(classifier, image: np.ndarray):
    """One decoded image [28, 28] in [0, 1] -> class probabilities [10] (one ~1 ms forward pass)."""
    import torch

    from vae_core.classifier import predict_proba

    return predict_proba(classifier, torch.as_tensor(image).reshape(1, 28, 28))[0].numpy()


def generated_images(model, seed: int, count: int, temperature: float) -> np.ndarray:
    """The digits of the Generate grid, [count, 28, 28]: the same prior draws as ``images.generated_grid_png``."""
    from vae_core import explore

    return explore.decode(model, explore.prior_samples(model.config.latent_dim, count, seed, temperature))


def tile_labels(classifier, images: np.ndarray, dataset: str) -> list[tuple[str, float]]:
    """images [N, 28, 28] -> one (class name, top probability) per image."""
    import torch

    from vae_core.classes import class_names
    from vae_core.classifier import predict_proba

    probabilities = predict_proba(classifier, torch.as_tensor(images)).numpy()
    names = class_names(dataset)
    return [(names[int(p.argmax())], float(p.max())) for p in probabilities]


def nearest_training(images: np.ndarray, train_images) -> tuple[np.ndarray, np.ndarray]:
    """images [N, 28, 28] -> (nearest training images [N, 28, 28], L2 distances [N]) in pixel space."""
    import torch

    from vae_core.evaluate import nearest_training_image

    neighbours, distances = nearest_training_image(torch.as_tensor(images), train_images)
    return neighbours.numpy(), distances.numpy()
