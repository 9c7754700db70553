"""The tables the pages show, computed without Streamlit from checkpoints and their metrics.

Also the folder stamps that key the caches: a checkpoint folder is rewritten atomically,
so its modification time changes whenever anything in it does.
"""

from __future__ import annotations

import os

# The seed report's "Epochs / Loss" table (Results and Discussion), as printed there.
SEED_REPORT_LOSS = (544.472, 418.784, 371.340, 350.623, 341.861, 337.413,
                    331.953, 329.167, 326.386, 323.614, 322.446, 320.234)
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
    """'z = 5'; 'MLP, z = 10, beta = 4' or 'conv, z = 20' when the siblings differ in architecture or beta.

    Epochs, hidden width and seed are added only when another sibling would get the same label.
    """
    def short(c) -> str:
        parts = [f"z = {c.model_config.latent_dim}"]
        if len({s.model_config.architecture for s in siblings} | {c.model_config.architecture}) > 1:
            parts.insert(0, ARCHITECTURE_NAMES.get(c.model_config.architecture, c.model_config.architecture))
        if c.train_config.beta != 1:
            parts.append(f"beta = {c.train_config.beta:g}")
        return ", ".join(parts)

    label = short(checkpoint)
    return label if sum(short(c) == label for c in siblings) <= 1 else f"{label} ({run_details(checkpoint)})"


def run_details(checkpoint) -> str:
    """'12 epochs, h400, seed 0': what tells apart two models whose labels would otherwise be the same."""
    config = checkpoint.train_config
    return f"{config.epochs} epochs, h{checkpoint.model_config.hidden_dim}, seed {config.seed}"


def summary_frame(checkpoints):
    """One row per checkpoint: dataset, latent size, epochs, final test loss and its split, time."""
    import pandas as pd

    rows = [{
        "dataset": c.train_config.dataset,
        "architecture": ARCHITECTURE_NAMES.get(c.model_config.architecture, c.model_config.architecture),
        "latent size": c.model_config.latent_dim,
        "beta": c.train_config.beta,
        "epochs": c.train_config.epochs,
        "test loss (nats)": c.final["test_loss"],
        "recon (nats)": c.final["test_recon"],
        "KL (nats)": c.final["test_kl"],
        "training time (s)": c.train_seconds,
        "maps cached": (c.path / "projections.npz").is_file(),
        "name": c.name,
    } for c in checkpoints]
    return pd.DataFrame(rows)


def _final(key: str):
    return lambda checkpoint: checkpoint.final[key]


# (column label, function of a checkpoint): from history.json, so every checkpoint has them.
METRIC_COLUMNS = (
    ("test loss (nats)", _final("test_loss")),
    ("test recon (nats)", _final("test_recon")),
    ("test KL (nats)", _final("test_kl")),
    ("train loss (nats)", _final("train_loss")),
    ("training time (s)", lambda c: c.train_seconds),
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


def relative_drop(values) -> float:
    """How much a loss fell from its first to its last value, as a fraction of the first (scale-free)."""
    return (values[0] - values[-1]) / values[0]


def seed_drop_sentence(checkpoint) -> str:
    """The one comparison that does not need the report's scale: how much each loss fell over training."""
    ours = [row["test_loss"] for row in checkpoint.history]
    drop = relative_drop(ours)
    return (f"Over its {len(SEED_REPORT_LOSS)} epochs the report's loss fell by "
            f"{relative_drop(SEED_REPORT_LOSS):.0%} ({SEED_REPORT_LOSS[0]:.1f} to {SEED_REPORT_LOSS[-1]:.1f}); "
            f"over {len(ours)} epochs our test loss {'fell' if drop >= 0 else 'rose'} by {abs(drop):.0%} "
            f"({ours[0]:.1f} to {ours[-1]:.1f} nats). The two fractions are comparable only if the losses "
            "differ by a constant factor, which the report does not say.")


def seed_comparison_frame(checkpoint):
    """Per epoch: the seed report's printed loss beside our train and test loss (nats)."""
    import pandas as pd

    epochs = max(len(SEED_REPORT_LOSS), len(checkpoint.history))
    ours = {row["epoch"]: row for row in checkpoint.history}
    return pd.DataFrame({
        "epoch": list(range(1, epochs + 1)),
        "seed report (as printed)": [SEED_REPORT_LOSS[e - 1] if e <= len(SEED_REPORT_LOSS) else None
                                          for e in range(1, epochs + 1)],
        "ours: train (nats)": [ours[e]["train_loss"] if e in ours else None for e in range(1, epochs + 1)],
        "ours: test (nats)": [ours[e]["test_loss"] if e in ours else None for e in range(1, epochs + 1)],
    }).set_index("epoch")
