"""The seed report's loss table beside our training run: the one slice that compares against it.

The report does not say how its loss was scaled, so its numbers are shown as printed and only
scale-free comparisons (how much each loss fell) are made.
"""

from __future__ import annotations

# The seed report's "Epochs / Loss" table (Results and Discussion), as printed there.
SEED_REPORT_LOSS = (544.472, 418.784, 371.340, 350.623, 341.861, 337.413,
                    331.953, 329.167, 326.386, 323.614, 322.446, 320.234)


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
