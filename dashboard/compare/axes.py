"""Compare's axes: the one setting that varies across the columns, and the settings held fixed.

A checkpoint's settings on the four axes are its latent size, KL weight beta, architecture
and data set; with an imported model (weights trained elsewhere) among them, a fifth, its source:
trained here, or imported (each imported model its own column), so an import stands beside our
model of the same latent size. Epochs, hidden width and seed are held too (``RUN_SETTINGS``) whenever the models
differ in them, so a column is one model and "z = 3" never mixes a 1-epoch model with 12-epoch
ones; what is left (batch, learning rate) is told apart by the column labels.
"""

from __future__ import annotations

from dashboard.shell.tables import ARCHITECTURE_NAMES, run_details

AXES = ("latent size", "beta", "architecture", "data set")
SOURCE = "source"  # an axis only where some model was imported
TRAINED_HERE = "trained here"
RUN_SETTINGS = ("epochs", "hidden width", "seed")  # held, never compared along: a run's details, not a family
# An imported model's epochs and seed are the tutorial's assumed defaults, not ours to know: along its source
# they are not held (the hidden width still is: a wider net is another model).
SOURCE_RUN_SETTINGS = ("hidden width",)


def axes_for(checkpoints) -> tuple[str, ...]:
    """The axes the pool offers: ``AXES``, and ``SOURCE`` when some checkpoint was imported."""
    return AXES + ((SOURCE,) if any(c.imported for c in checkpoints) else ())


def value(checkpoint, axis: str):
    """The checkpoint's setting on ``axis`` (one of AXES or RUN_SETTINGS)."""
    model, train = checkpoint.model_config, checkpoint.train_config
    return {"latent size": model.latent_dim, "beta": train.beta, "architecture": model.architecture,
            "data set": train.dataset, "epochs": train.epochs, "hidden width": model.hidden_dim,
            "seed": train.seed, SOURCE: f"imported: {checkpoint.name}" if checkpoint.imported else TRAINED_HERE}[axis]


def value_label(axis: str, setting) -> str:
    """'z = 10', 'beta = 4', 'MLP', 'Fashion-MNIST', '12 epochs', 'h400', 'seed 0': how a column names its setting."""
    from vae_core.classes import display_name

    if axis == "latent size":
        return f"z = {setting}"
    if axis == "beta":
        return f"beta = {setting:g}"
    if axis == "architecture":
        return ARCHITECTURE_NAMES.get(setting, setting)
    if axis == "data set":
        return display_name(setting)
    if axis == "epochs":
        return f"{setting} epoch{'' if setting == 1 else 's'}"
    if axis == "hidden width":
        return f"h{setting}"
    if axis == "seed":
        return f"seed {setting}"
    return str(setting)


def image_noun(checkpoints, plural: bool = False) -> str:
    """What the columns' images are: 'digit(s)' or 'item(s)' for one data set, 'image(s)' across several."""
    from vae_core.classes import noun

    datasets = {value(c, "data set") for c in checkpoints}
    return noun(datasets.pop() if len(datasets) == 1 else "", plural)


def held_settings(checkpoints, axis: str) -> list[str]:
    """The settings to hold fixed: the other axes, and the run settings in which ``checkpoints`` differ."""
    run_settings = SOURCE_RUN_SETTINGS if axis == SOURCE else RUN_SETTINGS
    varied = [s for s in run_settings if len({value(c, s) for c in checkpoints}) > 1]
    return [a for a in axes_for(checkpoints) if a != axis] + varied


def options(checkpoints, axis: str) -> list:
    """The settings on ``axis`` that some checkpoint has, in a natural order."""
    from vae_core.architectures import names
    from vae_core.config import DATASETS

    order = {"architecture": names(), "data set": DATASETS, SOURCE: [TRAINED_HERE]}.get(axis)
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
    """Settings to hold (``held_settings``): on the other axes the ``current`` model's when they give two
    columns or more, else those that give the most columns; on the run settings (epochs, hidden width,
    seed) those that give the most columns, ties going to the ``current`` model's.

    Switching to 'beta' from the z = 2 model, say, holds the latent size at 10, where the betas are;
    from a Fashion-MNIST model, 'latent size' holds the data set at Fashion-MNIST; with eight 12-epoch
    latent sizes and two 1-epoch ones, epochs are held at 12 even from a 1-epoch model.
    """
    others = held_settings(checkpoints, axis)
    family = [a for a in others if a in axes_for(checkpoints)]
    groups: dict[tuple, set] = {}
    for checkpoint in checkpoints:
        groups.setdefault(tuple(value(checkpoint, a) for a in others), set()).add(value(checkpoint, axis))
    mine = tuple(value(current, a) for a in others)

    def rank(held: tuple) -> tuple:
        same_family = held[:len(family)] == mine[:len(family)]
        return same_family and len(groups[held]) > 1, len(groups[held]), held == mine
    return dict(zip(others, max(groups, key=rank), strict=True))
