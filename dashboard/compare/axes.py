"""Compare's axes: the one setting that varies across the columns, and the settings held fixed.

A checkpoint's settings on the four axes are its latent size, KL weight beta, architecture
and data set; everything else (epochs, batch, learning rate, seed, width) is told apart by
the column labels when two columns share a value.
"""

from __future__ import annotations

from dashboard.shell.tables import ARCHITECTURE_NAMES, run_details

AXES = ("latent size", "beta", "architecture", "data set")


def value(checkpoint, axis: str):
    """The checkpoint's setting on ``axis``."""
    model, train = checkpoint.model_config, checkpoint.train_config
    return {"latent size": model.latent_dim, "beta": train.beta, "architecture": model.architecture,
            "data set": train.dataset}[axis]


def value_label(axis: str, setting) -> str:
    """'z = 10', 'beta = 4', 'MLP', 'conv' or 'fashion-mnist': how a column names its setting."""
    if axis == "latent size":
        return f"z = {setting}"
    if axis == "beta":
        return f"beta = {setting:g}"
    if axis == "architecture":
        return ARCHITECTURE_NAMES.get(setting, setting)
    return str(setting)


def options(checkpoints, axis: str) -> list:
    """The settings on ``axis`` that some checkpoint has, in a natural order."""
    from vae_core.config import ARCHITECTURES, DATASETS

    order = {"architecture": ARCHITECTURES, "data set": DATASETS}.get(axis)
    present = {value(c, axis) for c in checkpoints}
    return sorted(present, key=(lambda v: (order.index(v) if v in order else len(order), v)) if order else None)


def columns(checkpoints, axis: str, held: dict) -> list:
    """The checkpoints whose settings equal ``held`` on every other axis, ordered along ``axis``."""
    chosen = [c for c in checkpoints if all(value(c, other) == setting for other, setting in held.items())]
    ranks = {setting: rank for rank, setting in enumerate(options(chosen, axis))}
    return sorted(chosen, key=lambda c: (ranks[value(c, axis)], c.name))


def column_label(checkpoint, axis: str, columns_shown: list) -> str:
    """The column's setting, with epochs and seed added when two columns share it."""
    label = value_label(axis, value(checkpoint, axis))
    shared = sum(value(c, axis) == value(checkpoint, axis) for c in columns_shown) > 1
    return f"{label} ({run_details(checkpoint)})" if shared else label


def chart_x(checkpoint, axis: str):
    """Where a checkpoint sits on a metric chart's x axis: the number (latent size, beta) or the column's name."""
    setting = value(checkpoint, axis)
    return setting if isinstance(setting, (int, float)) else value_label(axis, setting)


def summary(axis: str, held: dict) -> str:
    """'MLP, beta = 1, mnist': the settings held fixed, for the page's caption."""
    return ", ".join(value_label(other, setting) for other, setting in held.items())


def best_held(checkpoints, axis: str, current) -> dict:
    """Settings to hold on the other axes: the ``current`` model's when they give two columns or more,
    else those that give the most columns.

    Switching to 'beta' from the z = 2 model, say, holds the latent size at 10, where the betas are;
    from a Fashion-MNIST model, 'latent size' holds the data set at Fashion-MNIST.
    """
    others = [a for a in AXES if a != axis]
    groups: dict[tuple, set] = {}
    for checkpoint in checkpoints:
        groups.setdefault(tuple(value(checkpoint, a) for a in others), set()).add(value(checkpoint, axis))
    mine = tuple(value(current, a) for a in others)
    best = max(groups, key=lambda held: (held == mine and len(groups[held]) > 1, len(groups[held])))
    return dict(zip(others, best, strict=True))
