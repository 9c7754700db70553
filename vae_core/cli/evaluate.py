"""`vae-explorer evaluate` and `vae-explorer train-classifier`: metrics.json per checkpoint, the classifier."""

from __future__ import annotations

import argparse
import time

from .. import store
from ..atomic import check_writable
from ..classifier import (
    NoClassifier,
    classifier_name,
    has_classifier,
    load_classifier,
    save_classifier,
    train_classifier,
)
from ..config import ConfigError, TrainConfig
from ..data import load_split
from ..evaluate import SUMMARY_METRICS, Settings, build_reference, evaluate_checkpoint, load_metrics, summary_row
from ..runs import acquire_lock
from ..train import pick_device
from .checkpoints import checkpoints_of_dataset
from .common import checkpoint_root, print_json, say

# Test accuracy below which a classifier is too weak a judge of its data set's images.
CLASSIFIER_TARGETS = {"mnist": 0.99, "fashion-mnist": 0.90}


def run_train_classifier(args: argparse.Namespace) -> int:
    """Train the digit classifier for ``--dataset`` unless it is stored already (``--force`` retrains)."""
    if not has_classifier(args.dataset):
        raise ConfigError(f"train-classifier trains the digit classifier of MNIST and Fashion-MNIST only, not of "
                          f"{args.dataset}: `vae-explorer evaluate --dataset {args.dataset}` computes every metric "
                          "that needs no classifier")
    train_config = TrainConfig(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, seed=args.seed)
    root = checkpoint_root(args)
    name = classifier_name(args.dataset)
    lock = acquire_lock(root, name)
    try:
        if not args.force:
            try:
                _, meta = load_classifier(root, args.dataset)
            except store.CheckpointError:
                meta = None
            if meta is not None:
                say(f"{name}: cached, reused (test accuracy {meta.get('test_accuracy', 0):.4f}; "
                    "pass --force to retrain)")
                return 0
        return _train_and_save(args, root, name, train_config)
    finally:
        lock.release()


def _train_and_save(args: argparse.Namespace, root, name: str, train_config: TrainConfig) -> int:
    train, test = _splits(args)
    device = pick_device(args.device)
    started = time.perf_counter()

    def report(epoch: int, loss: float, test_accuracy: float) -> None:
        if not args.quiet:
            say(f"{name}: epoch {epoch}/{train_config.epochs} loss {loss:.4f} "
                f"test accuracy {test_accuracy:.4f} ({time.perf_counter() - started:.0f} s)")

    model, history = train_classifier(train, test, train_config, device=device, on_epoch=report)
    path = save_classifier(root, model, train_config, history, device=str(device))
    accuracy = history[-1]["test_accuracy"]
    say(f"{name}: saved to {path}, test accuracy {accuracy:.4f} ({time.perf_counter() - started:.1f} s)")
    target = CLASSIFIER_TARGETS.get(args.dataset)
    if target is not None and accuracy < target:
        say(f"{name}: below the {target:.0%} this project expects; try --epochs {train_config.epochs + 2}")
    return 0


def _splits(args: argparse.Namespace):
    """(train, test) splits of ``--dataset`` from ``--data-dir`` (a registered set: from ``--checkpoint-dir``)."""
    root = checkpoint_root(args)
    return (load_split(args.dataset, train=True, data_dir=args.data_dir, checkpoint_dir=root),
            load_split(args.dataset, train=False, data_dir=args.data_dir, checkpoint_dir=root))


def run_evaluate(args: argparse.Namespace) -> int:
    """Compute (or reuse) metrics.json for every checkpoint of ``--dataset``; print them."""
    settings = Settings(iw_samples=args.iw_samples, samples=args.samples)
    root = checkpoint_root(args)
    chosen = checkpoints_of_dataset(args)
    started = time.perf_counter()
    references = _ReferenceCache(args, root)
    results = [_metrics_for(checkpoint, args, settings, references) for checkpoint in chosen]
    if args.json:
        print_json({"root": str(root), "seconds": time.perf_counter() - started, "checkpoints": results})
    else:
        _print_table(results)
    return 0


class _ReferenceCache:
    """Loads the classifier and data and builds the shared statistics only if a model needs them."""

    def __init__(self, args: argparse.Namespace, root):
        self.args, self.root, self.value = args, root, None

    def get(self):
        if self.value is None:
            try:
                classifier, _ = load_classifier(self.root, self.args.dataset, pick_device(self.args.device))
                name, without = classifier_name(self.args.dataset), None
            except NoClassifier as none:  # a registered set: every metric that needs no classifier
                classifier, name, without = None, None, str(none)
                say(without)
            train, test = _splits(self.args)
            say("preparing test-set features and nearest-neighbour distances" if classifier is not None
                else "preparing the test images' nearest-neighbour distances")
            self.value = build_reference(train, test, classifier, name, without)
        return self.value


def _metrics_for(checkpoint: store.Checkpoint, args: argparse.Namespace, settings: Settings,
                 references: _ReferenceCache) -> dict:
    if not args.force:
        cached = load_metrics(checkpoint, settings)
        if cached is not None:
            say(f"{checkpoint.name}: metrics cached, reused (pass --force to recompute)")
            return cached
    check_writable(checkpoint.path, checkpoint.path / store.METRICS_FILE)  # before the work, not after it
    say(f"{checkpoint.name}: evaluating ({settings.iw_samples} importance samples, {settings.samples} samples)")
    metrics = evaluate_checkpoint(checkpoint, references.get(), settings, pick_device(args.device))
    say(f"{checkpoint.name}: done in {metrics['seconds']:.1f} s")
    return metrics


def _print_table(results: list[dict]) -> None:
    labels = ["latent"] + [label for _, label, _ in SUMMARY_METRICS]
    rows = [summary_row(metrics) for metrics in results]
    width = max(len(label) for label in labels) + 2
    for index, label in enumerate(labels):
        key = "latent_dim" if index == 0 else SUMMARY_METRICS[index - 1][0]
        cells = "".join(f"{_format(row[key]):>10}" for row in rows)
        print(f"{label:<{width}}{cells}")


def _format(value: float | int | None) -> str:
    if value is None:
        return "-"
    return str(value) if isinstance(value, int) else f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"
