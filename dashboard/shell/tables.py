"""The tables the pages show, computed without Streamlit from checkpoints and their metrics.

Also the folder stamps that key the caches: a checkpoint folder is rewritten atomically,
so its modification time changes whenever anything in it does.
"""

from __future__ import annotations

import os

LOSS_DEFINITION = (
    "Our loss is the per-image negative ELBO in nats: the Bernoulli cross-entropy summed over "
    "the 784 pixels plus the analytic KL divergence to N(0, I); the seed report does not say "
    "how its loss was scaled, so its numbers are shown as printed, not as a like-for-like target."
)


def folder_stamp(path) -> int:
    """Modification time of a folder that is rewritten atomically (0 when absent): a cache key part."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def weights_stamp(checkpoint) -> int:
    """Changes when anything in the checkpoint folder is rewritten, so cached models are reloaded.

    Every write into a checkpoint is a rename inside its folder, which updates the folder's mtime.
    """
    return folder_stamp(checkpoint.path)


projections_stamp = weights_stamp


def datasets(checkpoints) -> list[str]:
    """Datasets that have checkpoints, in the order vae_core lists them (MNIST first)."""
    from vae_core.config import DATASETS

    names = {c.train_config.dataset for c in checkpoints}
    return sorted(names, key=lambda name: (DATASETS.index(name) if name in DATASETS else len(DATASETS), name))


ARCHITECTURE_NAMES = {"mlp": "MLP", "conv": "conv"}


def model_label(checkpoint, siblings) -> str:
    """'MNIST · z = 5': the data set, then the family's settings that tell the siblings apart.

    The architecture is named when the siblings mix architectures ('Fashion-MNIST · MLP, z = 10,
    beta = 4'); the epochs when the model's family (same data set, architecture and beta) mostly
    has another count ('MNIST · z = 3 (1 epoch)'); hidden width and seed only when another sibling
    would still get the same label.
    """
    from vae_core.classes import display_name

    dataset, settings = checkpoint.train_config.dataset, _settings(checkpoint, siblings)
    label = f"{display_name(dataset)} · {settings}"
    same = [c for c in siblings if c.train_config.dataset == dataset and _settings(c, siblings) == settings]
    if len(same) <= 1:
        return label
    clash = [c for c in same if c is not checkpoint] or same  # the model listed twice: clashes with itself
    return f"{label} ({_telling_apart(checkpoint, clash)})"


def _settings(checkpoint, siblings) -> str:
    """'MLP, z = 10, beta = 4 (1 epoch)': the label without the data set or the details that split ties."""
    model, train = checkpoint.model_config, checkpoint.train_config
    parts = [f"z = {model.latent_dim}"]
    if len({s.model_config.architecture for s in siblings} | {model.architecture}) > 1:
        parts.insert(0, ARCHITECTURE_NAMES.get(model.architecture, model.architecture))
    if train.beta != 1:
        parts.append(f"beta = {train.beta:g}")
    text = ", ".join(parts)
    if checkpoint.imported:  # trained elsewhere: its recorded epochs are the tutorial's assumed defaults
        return f"{text} (imported)"
    usual = family_epochs(checkpoint, siblings)
    return text if train.epochs == usual else f"{text} ({_epochs(train.epochs)})"


def family_epochs(checkpoint, siblings) -> int:
    """The epoch count most of ``checkpoint``'s family has (same data set, architecture, beta); ties: the larger."""
    from collections import Counter

    key = _family(checkpoint)
    counts = Counter(c.train_config.epochs for c in [*siblings, checkpoint] if _family(c) == key and not c.imported)
    if not counts:
        return checkpoint.train_config.epochs
    return max(counts, key=lambda epochs: (counts[epochs], epochs))


def _family(checkpoint) -> tuple:
    return checkpoint.train_config.dataset, checkpoint.model_config.architecture, checkpoint.train_config.beta


def _epochs(count: int) -> str:
    return f"{count} epoch{'' if count == 1 else 's'}"


def _telling_apart(checkpoint, clash: list) -> str:
    """'h16, seed 1': the run settings in which ``checkpoint`` differs from the models its label clashes with;
    all of them ('12 epochs, h400, seed 0') when none differs."""
    def settings(c) -> dict:
        train = c.train_config
        if c.imported:
            return {"epochs": f"from {c.source['file']}", "hidden": f"h{c.model_config.hidden_dim}",
                    "seed": c.source["sha256"][:8], "lr": "", "batch": ""}
        return {"epochs": _epochs(train.epochs), "hidden": f"h{c.model_config.hidden_dim}",
                "seed": f"seed {train.seed}", "lr": f"lr {train.lr:g}", "batch": f"batch {train.batch_size}"}

    mine = settings(checkpoint)
    differ = [name for name in mine if any(settings(c)[name] != mine[name] for c in clash)]
    return ", ".join(mine[name] for name in differ) if differ else run_details(checkpoint)


def run_details(checkpoint) -> str:
    """'12 epochs, h400, seed 0': what tells apart two models whose labels would otherwise be the same."""
    config = checkpoint.train_config
    if checkpoint.imported:
        return f"imported from {checkpoint.source['file']}, h{checkpoint.model_config.hidden_dim}"
    return f"{config.epochs} epochs, h{checkpoint.model_config.hidden_dim}, seed {config.seed}"


def summary_frame(checkpoints):
    """One row per checkpoint: dataset, latent size, epochs, final test loss and its split, time."""
    import pandas as pd

    from vae_core.store import final_test_losses

    rows = []
    for c in checkpoints:
        losses = final_test_losses(c)  # an imported model's: metrics.json's, once evaluated
        rows.append({
            "dataset": c.train_config.dataset,
            "architecture": ARCHITECTURE_NAMES.get(c.model_config.architecture, c.model_config.architecture),
            "latent size": c.model_config.latent_dim,
            "beta": None if c.imported else c.train_config.beta,
            "epochs": None if c.imported else c.train_config.epochs,  # not ours to know
            "test loss (nats)": losses["test_loss"],
            "recon (nats)": losses["test_recon"],
            "KL (nats)": losses["test_kl"],
            "training time (s)": None if c.imported else c.train_seconds,
            "maps cached": (c.path / "projections.npz").is_file(),
            "name": c.name,
        })
    return pd.DataFrame(rows)


def _final(key: str):
    """The last epoch's ``key``; an imported model's test terms from metrics.json (None before evaluate)."""
    def value(checkpoint):
        from vae_core.store import final_test_losses

        if checkpoint.final is not None:
            return checkpoint.final[key]
        return final_test_losses(checkpoint).get(key)

    return value


# (column label, function of a checkpoint): from history.json (an imported model: metrics.json, or empty).
METRIC_COLUMNS = (
    ("test loss (nats)", _final("test_loss")),
    ("test recon (nats)", _final("test_recon")),
    ("test KL (nats)", _final("test_kl")),
    ("train loss (nats)", _final("train_loss")),
    ("training time (s)", lambda c: None if c.imported else c.train_seconds),
)
# Headline metrics of metrics.json that the history does not already give (see vae_core.evaluate).
SKIPPED_EVALUATION_METRICS = ("elbo.loss", "elbo.recon", "elbo.kl")


def evaluation_metrics(checkpoint) -> dict | None:
    """The checkpoint's metrics.json from `vae-explorer evaluate`, or None when not computed."""
    from vae_core import evaluate

    return evaluate.load_metrics(checkpoint)


def evaluation_columns() -> list[tuple[str, str, str]]:
    """(metrics.json path, column label, what a better value is) for the metrics table."""
    from vae_core import evaluate

    return [(path, label, meaning) for path, label, meaning in evaluate.SUMMARY_METRICS
            if path not in SKIPPED_EVALUATION_METRICS]


def metrics_table(checkpoints, label_of=None):
    """Final metrics of each checkpoint in one table, indexed by model label (``label_of(checkpoint)``).

    History columns always; the `vae-explorer evaluate` columns only when some checkpoint
    has a metrics.json (a checkpoint without one shows empty cells).
    """
    import pandas as pd

    from vae_core import evaluate

    label_of = label_of or (lambda c: model_label(c, checkpoints))
    rows, evaluated = [], False
    for checkpoint in checkpoints:
        row = {"model": label_of(checkpoint)}
        row.update({label: value(checkpoint) for label, value in METRIC_COLUMNS})
        metrics = evaluation_metrics(checkpoint) or {}
        evaluated = evaluated or bool(metrics)
        row.update({label: evaluate.metric_value(metrics, path) for path, label, _ in evaluation_columns()})
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    if not evaluated:
        table = table.drop(columns=[label for _, label, _ in evaluation_columns()])
    return table


# How each row of the shown metrics table is written (label -> format); others get two decimals.
METRIC_FORMATS = {
    "training time (s)": "{:.0f}",
    "Frechet distance": "{:.1f}",
    "classifier confidence": "{:.1%}",
    "class coverage (nats)": "{:.3f}",
    "recon accuracy": "{:.1%}",
    "probe accuracy": "{:.1%}",
}

HISTORY_BETTER = {"test loss (nats)": "lower", "test recon (nats)": "lower", "train loss (nats)": "lower"}


def _better(meaning: str) -> str:
    """'lower: the model ...' -> 'lower'; a meaning without a direction -> ''."""
    head = meaning.split(":", 1)[0].split(";", 1)[0]
    return head if head.startswith(("lower", "higher", "closer", "near")) else ""


def metrics_display(table, checkpoints, label_of=None):
    """The metrics table turned for reading: one row per metric, one text column per model, plus 'better'.

    ``table`` is ``metrics_table(checkpoints, label_of)``. Twelve metrics do not fit side by side in a
    page's width, five models do; each row gets the number format of its metric (percentages
    for probabilities and accuracies, 'k of D' for active units), '–' where a value is missing.
    """
    import pandas as pd

    label_of = label_of or (lambda c: model_label(c, checkpoints))
    sizes = {label_of(c): c.model_config.latent_dim for c in checkpoints}
    meanings = {label: meaning for _, label, meaning in evaluation_columns()}
    rows = {}
    for label in table.columns:
        cells = {}
        for model, value in table[label].items():
            if value is None or pd.isna(value):
                cells[model] = "–"
            elif label == "active units":
                cells[model] = f"{int(value)} of {sizes[model]}"
            else:
                cells[model] = METRIC_FORMATS.get(label, "{:.2f}").format(float(value))
        cells["better"] = _better(meanings[label]) if label in meanings else HISTORY_BETTER.get(label, "")
        rows[label] = cells
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "metric"
    return frame


def history_frame(checkpoint):
    import pandas as pd

    return pd.DataFrame(checkpoint.history)


def imported_sentence(checkpoint) -> str:
    """What the Training page says of a model trained elsewhere: where it came from, and why no curves."""
    from vae_core.store import final_test_losses

    source, loss = checkpoint.source, final_test_losses(checkpoint)["test_loss"]
    measured = (f"Its test loss, measured here, is {loss:.1f} nats (`vae-explorer evaluate`)." if loss is not None
                else f"Its test loss is measured by `vae-explorer evaluate --model {checkpoint.name}`.")
    return (f"{checkpoint.name} was imported from `{source['file']}` (sha256 {source['sha256'][:12]}…) on "
            f"{source['imported'][:10]}: it was trained elsewhere, so it has no loss curves and no replay here. "
            + measured)
