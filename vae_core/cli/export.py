"""`vae-explorer export`: one model's encoded test set (CSV, TensorBoard projector), a figure (PNG, GIF),
or its training replay (GIF: the latent map and the samples, one frame per epoch).

The same files the dashboard's download buttons give. Heavy modules are imported when a
command runs, so the parser (which reads ``EXPORTS`` from here) stays quick.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .common import checkpoint_root, say

if TYPE_CHECKING:
    from ..runs import DataCache

# what -> (default file suffix, the suffixes it can write; "" for a folder)
EXPORTS = {
    "csv": ("-test-set.csv", (".csv",)),
    "projector": ("-projector", ("",)),
    "samples": (".png", (".png",)),
    "traversal": (".png", (".png", ".gif")),
    "class-means": (".png", (".png",)),
    "morph": (".png", (".png", ".gif")),
    "add-direction": (".png", (".png", ".gif")),
    "interpolation": (".png", (".png", ".gif")),
    "replay": (".gif", (".gif",)),
}


def output_path(name: str, what: str, output: str | None) -> Path:
    """``--output``, else ``NAME-WHAT.png`` (or .csv, or a folder) in the current folder; a wrong suffix fails."""
    from ..exports import ExportError

    default, allowed = EXPORTS[what]
    path = Path(output) if output else Path(f"{name}-{what}{default}" if default.startswith(".") else name + default)
    suffix = path.suffix.lower()
    if allowed != ("",) and suffix not in allowed:
        raise ExportError(f"{what} writes {' or '.join(allowed)} files, not {path.name!r}: "
                          f"pass --output NAME{allowed[0]}")
    if allowed == ("",) and path.exists() and not path.is_dir():
        raise ExportError(f"{path} is a file; the projector export writes a folder: pass another --output")
    return path


def run_export(args: argparse.Namespace) -> int:
    from .. import store

    root = checkpoint_root(args)
    path = store.checkpoint_path(root, args.model)  # a name that leaves the root is refused here
    if not path.is_dir():
        raise store.CheckpointError(f"no checkpoint {args.model!r} in {root}: pick one listed by `vae-explorer list`")
    checkpoint = store.read_checkpoint(path)
    output = output_path(checkpoint.name, args.what, args.output)
    started = time.perf_counter()
    if args.what == "replay":  # recorded during training: no model, no data set
        written = _write_payload(output, lambda: _replay(checkpoint))
    else:
        from ..runs import DataCache  # torch: imported when an export runs, not when the parser is built

        written = _write(checkpoint, args, output, DataCache(checkpoint.train_config.dataset, args.data_dir, root))
    say(f"{checkpoint.name}: {args.what} written to {written} ({time.perf_counter() - started:.2f} s)")
    return 0


def _write(checkpoint, args: argparse.Namespace, output: Path, data: DataCache) -> Path:
    from .. import exports, store
    from ..atomic import SaveError, check_writable, write_dir_atomic, write_file_atomic
    from ..projections import load_projections

    model, arrays = store.load_model(checkpoint), load_projections(checkpoint)
    try:
        check_writable(output.parent, output)  # before encoding the test set, not after it
        if args.what == "projector":
            test = data.split(False)
            mu, _ = exports.encode_test_set(model, test.images)
            write_dir_atomic(output, lambda folder: exports.write_projector(
                folder, mu, test.labels.numpy(), test.images, _class_names(checkpoint)))
            return output
        if args.what == "csv":
            test = data.split(False)
            same = arrays is not None and len(arrays["mu"]) == len(test.labels)
            payload = exports.test_set_csv(*exports.encode_test_set(model, test.images), test.labels.numpy(),
                                           arrays if same else None)
        else:
            payload = _figure(args, output.suffix.lower() == ".gif", model, arrays, data)
        write_file_atomic(output, lambda path: path.write_bytes(payload))
    except SaveError as error:
        reason = getattr(error.__cause__, "strerror", None) or error
        raise exports.ExportError(f"cannot write {output} ({reason}): pass another --output") from error
    return output


def _replay(checkpoint) -> bytes:
    """The replay GIF of a checkpoint; ``ExportError`` naming the retrain when it has none."""
    from ..exports import ExportError
    from ..replay import load_replay, missing_note, replay_gif

    replay = load_replay(checkpoint)
    if replay is None:
        raise ExportError(missing_note(checkpoint))
    return replay_gif(replay, checkpoint.history)


def _write_payload(output: Path, build) -> Path:
    """Write ``build()``'s bytes to ``output`` atomically; a folder that cannot take them is one line."""
    from ..atomic import SaveError, check_writable, write_file_atomic
    from ..exports import ExportError

    try:
        check_writable(output.parent, output)
        payload = build()
        write_file_atomic(output, lambda path: path.write_bytes(payload))
    except SaveError as error:
        reason = getattr(error.__cause__, "strerror", None) or error
        raise ExportError(f"cannot write {output} ({reason}): pass another --output") from error
    return output


def _class_names(checkpoint) -> tuple[str, ...] | None:
    """The projector's class names: Fashion-MNIST's, a registered set's own (its folders'), None for the digits."""
    from ..data import image_set, is_builtin
    from ..exports import CLASS_NAMES

    dataset = checkpoint.train_config.dataset
    if is_builtin(dataset):
        return CLASS_NAMES.get(dataset)
    return image_set(dataset, checkpoint.path.parent).class_names


def _means(model, arrays: dict | None, data: DataCache):
    """(test-set posterior means [N, D], labels [N]): cached when projected, else encoded from the test images."""
    import numpy as np

    from .. import exports

    if arrays is not None:
        return np.asarray(arrays["mu"], dtype=np.float32), np.asarray(arrays["labels"])
    test = data.split(False)
    return exports.encode_test_set(model, test.images)[0], test.labels.numpy()


def _start(model, index: int | None, mu, flag: str = "--start-index") -> object:
    """The start point [D]: the prior mean, or test digit ``index``'s posterior mean (``flag`` names it)."""
    import torch

    from ..exports import ExportError

    if index is None:
        return torch.zeros(model.config.latent_dim)
    if not 0 <= index < len(mu):
        raise ExportError(f"{flag} {index} is not a test digit: pick one from 0 to {len(mu) - 1}")
    return torch.as_tensor(mu[index])


def _figure(args: argparse.Namespace, gif: bool, model, arrays: dict | None, data: DataCache) -> bytes:
    """PNG or GIF bytes of a figure (``--output``'s suffix decides) from the flags of ``args``."""
    from .. import exports, figures, latent
    from ..explore import interpolate, prior_samples

    if args.what == "samples":
        count = _positive("--count", args.count)
        return exports.grid_png(figures.decode(model, prior_samples(model.config.latent_dim, count, args.seed)),
                                min(count, 10))
    mu, labels = _means(model, arrays, data)
    if args.what == "traversal":
        ranking = latent.rank_dimensions(mu)
        rows = None if args.rows is None else _positive("--rows", args.rows)
        shown = figures.traversal(model, _start(model, args.start_index, mu), ranking, rows,
                                  _positive("--columns", args.columns, 2))
        if gif:
            return exports.rows_gif(shown.images)
        return exports.rows_png(shown.images, shown.row_labels, shown.column_labels, shown.marked)
    if args.what == "interpolation":
        ends = [_start(model, i, mu, flag) for i, flag in ((args.from_index, "--from-index"),
                                                           (args.to_index, "--to-index"))]
        images = figures.decode(model, interpolate(*ends, _positive("--steps", args.steps, 2)))
        return exports.strip_gif(images) if gif else exports.strip_png(images)
    names = _names(data)
    means = latent.class_means(mu, labels, len(names))
    if args.what == "class-means":
        return exports.strip_png(figures.class_mean_images(model, means), list(names))
    steps = _positive("--steps", args.steps, 2)
    if args.what == "morph":
        images = figures.morph_images(model, means, args.from_class, args.to_class, steps)
        labels = figures.morph_labels(steps, args.from_class, args.to_class, names)
    else:
        images = figures.direction_images(model, _start(model, args.start_index or 0, mu), means,
                                          args.from_class, args.to_class, steps, args.strength)
        labels = figures.strength_labels(steps, args.strength)
    return exports.strip_gif(images) if gif else exports.strip_png(images, labels)


def _names(data: DataCache) -> tuple[str, ...]:
    """The figures' class labels, one per class: Fashion-MNIST's names, a registered set's own, else the digits."""
    from ..data import image_set, is_builtin
    from ..exports import CLASS_NAMES
    from ..latent import CLASSES

    if not is_builtin(data.dataset):
        return tuple(image_set(data.dataset, data.checkpoint_dir).class_names)
    return CLASS_NAMES.get(data.dataset, tuple(str(k) for k in range(CLASSES)))


def _positive(flag: str, value: int, minimum: int = 1) -> int:
    from ..exports import ExportError

    if value < minimum:
        raise ExportError(f"{flag} must be at least {minimum}, got {value}")
    return value
