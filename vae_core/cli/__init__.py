"""`vae-explorer`: the parser and the entry point (also `python -m vae_core`).

Each command group lives in a module of this package and is imported only when it runs:
``train`` (train), ``sweep`` (sweep), ``listing`` (list), ``checkpoints`` (project, download), ``export``,
``evaluate`` (evaluate, train-classifier), ``importing`` (import), ``data`` (data add, data list); ``common`` holds
what they share.

Every expected failure ends in one line on stderr and exit status 2; Ctrl-C ends in
exit status 130 after saying what was kept (a second Ctrl-C stops it at once, quietly, also 130).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from .. import architectures
from ..config import DATASETS, DEFAULT_SIDE, DEFAULT_TEST_FRACTION, MAX_SIDE, MIN_SIDE, ModelConfig, TrainConfig
from ..defaults import (
    CLASSIFIER_BATCH_SIZE,
    CLASSIFIER_EPOCHS,
    DEFAULT_TSNE_POINTS,
    IW_SAMPLES,
    PRIOR_SAMPLES,
    TSNE_PERPLEXITY,
    tsne_description,
)
from ..errors import expected_errors

# Nothing here imports torch: the parser and --help start at once, and each command imports
# what it needs when it runs (see _lazy).
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEFAULT_LATENT_DIMS = (2, 5, 10, 20, 50)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage + error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _add_common(parser: argparse.ArgumentParser, data: bool = True) -> None:
    parser.add_argument("--checkpoint-dir", help="checkpoint root (default $VAE_CHECKPOINT_DIR or ./checkpoints)")
    if data:
        parser.add_argument("--data-dir", help="torchvision data root (default $VAE_DATA_DIR or ./data)")
        parser.add_argument("--dataset", default="mnist",
                            help=f"{', '.join(DATASETS)} or a name registered with `vae-explorer data add`")


def _add_training_flags(parser: argparse.ArgumentParser, families: bool = True) -> None:
    defaults = TrainConfig()
    parser.add_argument("--latent-dims", type=int, nargs="+", default=list(DEFAULT_LATENT_DIMS))
    parser.add_argument("--hidden-dim", type=int, default=ModelConfig(latent_dim=1).hidden_dim,
                        help="the hidden width of the MLP, and of plugins that read it (default %(default)s)")
    if families:  # a sweep takes several of each instead (--archs, --betas)
        arch_help = (f"architecture: {architectures.spelled(architectures.names())} (default mlp); installed "
                     f"packages add more through the {architectures.GROUP} entry points")
        parser.add_argument("--arch", default="mlp", help=arch_help)
        parser.add_argument("--beta", type=float, default=defaults.beta,
                            help="KL weight of the training objective recon + beta * KL (default 1); "
                                 "reported losses stay the beta = 1 negative ELBO")
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    parser.add_argument("--force", action="store_true", help="retrain even when cached")
    parser.add_argument("--maps", choices=("now", "later", "none"), default="now",
                        help="now (default): save the model with its PCA map, then compute t-SNE and UMAP and "
                             "place the training digits on them; later: only the PCA map (the model is explorable; "
                             "`project` adds the rest); "
                             "none: no maps")
    parser.add_argument("--no-projections", action="store_true", help="the same as --maps none")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vae-explorer", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    train = commands.add_parser("train", help="train the latent sizes not cached yet")
    _add_common(train)
    _add_training_flags(train)
    train.set_defaults(handler=_lazy("vae_core.cli.train", "run_train"))

    listing = commands.add_parser("list", help="show cached checkpoints and broken ones")
    _add_common(listing, data=False)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_lazy("vae_core.cli.listing", "run_list"))

    _add_project_command(commands)
    _add_import_command(commands)
    _add_export_command(commands)
    _add_sweep_command(commands)

    download = commands.add_parser("download", help="download a dataset (needs internet)")
    _add_common(download)
    download.set_defaults(handler=_lazy("vae_core.cli.checkpoints", "run_download"))
    _add_evaluation_commands(commands)
    _add_worker_command(commands)
    _add_data_command(commands)
    return parser


def _add_data_command(commands) -> None:
    data = commands.add_parser("data", help="register your own image data set (data add), list them (data list)")
    actions = data.add_subparsers(dest="data_command", required=True, parser_class=_Parser)
    add = actions.add_parser(
        "add", help="register an image folder or an .npz as data set NAME",
        description="Read PATH, a folder with one subfolder of images per class (torchvision's ImageFolder layout: "
                    "the subfolders' names are the class names) or an .npz holding images ([N, H, W], [N, H, W, C] or "
                    "[N, C, H, W]; uint8 or floats in [0, 1]), labels ([N] integers) and optionally class_names; "
                    "resize every image to --size x --size, split it into train and test images (stratified by "
                    "class, seeded), and store it once under CHECKPOINT_DIR/datasets/NAME. Then "
                    "`vae-explorer train --dataset NAME`. A file that cannot be used is named in one line and "
                    "nothing is registered.")
    add.add_argument("name", help="lower-case letters, digits and dashes (not mnist or fashion-mnist)")
    add.add_argument("path", help="an image folder (one subfolder per class) or an .npz file")
    add.add_argument("--size", type=int, default=DEFAULT_SIDE,
                     help=f"side of the square images stored, {MIN_SIDE} to {MAX_SIDE} (default %(default)s)")
    add.add_argument("--colour", "--color", choices=("auto", "grey", "rgb"), default="auto",
                     help="auto (default): RGB when any image has colour, grey otherwise")
    add.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION,
                     help="share of each class held out as test images (default 1/6, MNIST's 10,000 of 70,000; "
                          "at most 10,000 test images)")
    add.add_argument("--seed", type=int, default=0, help="seed of the train / test split (default 0)")
    add.add_argument("--replace", action="store_true", help="register again over a data set of that name")
    _add_common(add, data=False)
    add.set_defaults(handler=_lazy("vae_core.cli.data", "run_data_add"))
    listing = actions.add_parser("list", help="the registered data sets")
    _add_common(listing, data=False)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_lazy("vae_core.cli.data", "run_data_list"))


def _add_worker_command(commands) -> None:
    worker = commands.add_parser(
        "worker", help="train the dashboard's queued jobs (the Train page starts it by itself)",
        description="Take a free worker slot, train the Train page's queued jobs one after another like `train` "
                    "does (lock, resume point, atomic save, latent maps), and exit when the queue is empty.")
    _add_common(worker, data=False)
    worker.add_argument("--workers", type=int, metavar="N",
                        help="worker slots on this machine (default $VAE_TRAIN_WORKERS, else 1)")
    worker.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    worker.add_argument("--idle", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long for a new job before exiting when the queue is empty (default 0); a "
                             "worker that stays keeps UMAP's compiled code and the data warm for the next job")
    worker.set_defaults(handler=_lazy("vae_core.cli.worker", "run_worker_command"))


def _add_sweep_command(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="train a grid of configs as Ray Tune trials (pip install -e '.[ray]')",
        description="Every combination of --latent-dims, --betas, --archs and --seeds, each trial trained like "
                    "`train` (lock, resume point, atomic save) into the checkpoint directory. Locally by default; "
                    "on a cluster with --address or $RAY_ADDRESS, where the checkpoint directory and "
                    "--storage-path must be on storage every node shares.")
    _add_common(sweep)
    _add_training_flags(sweep, families=False)
    sweep.add_argument("--betas", type=float, nargs="+", default=[1.0], help="KL weights (default 1)")
    sweep.add_argument("--archs", nargs="+", default=["mlp"], help=f"architectures: {', '.join(architectures.names())}")
    sweep.add_argument("--seeds", type=int, nargs="+", default=[0])
    sweep.add_argument("--address", help="a Ray cluster to join (default $RAY_ADDRESS, else a local Ray)")
    sweep.add_argument("--storage-path", default="./ray_results", help="where Ray Tune keeps its trial records")
    sweep.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs of a local Ray (default: all)")
    sweep.add_argument("--cpus-per-trial", type=float, default=1, help="CPUs each trial reserves (default 1)")
    sweep.add_argument("--max-concurrent", type=int, default=0, help="trials at once (default: as CPUs allow)")
    sweep.add_argument("--max-failures", type=int, default=2,
                       help="restarts of a trial whose worker dies; each resumes from its last epoch (default 2)")
    sweep.set_defaults(handler=_lazy("vae_core.cli.sweep", "run_sweep"))


def _add_project_command(commands) -> None:
    project = commands.add_parser(
        "project", help="cache PCA / t-SNE / UMAP maps of the test set",
        description="Encode the test set, then map the means to 2-D: PCA and UMAP of all of them (under a second; "
                    "UMAP a few seconds after numba's one-time compile per process) and "
                    f"t-SNE of a fixed random subset, the slow step. t-SNE's cost is set by: "
                    f"{tsne_description()}: tens of seconds per model on two cores; each run prints the time it "
                    "took. The maps are cached in projections.npz beside each checkpoint; `train` computes them "
                    "after training unless --maps later or --maps none. Each test digit's negative ELBO and KL (nats) "
                    "and the classifier's confidence on its reconstruction are cached with them (the Latent map "
                    "colours by them); maps cached before these existed get them added, not recomputed. Then the "
                    "training split is encoded and placed on those maps (train-points.npz: PCA exactly, t-SNE and "
                    "UMAP from each training mean's nearest test means), so the Latent map can show every digit.")
    _add_common(project)
    project.add_argument("--tsne-points", type=_more_than(TSNE_PERPLEXITY), metavar="N",
                         help=f"test means that t-SNE maps (default {DEFAULT_TSNE_POINTS}, at most the test set); "
                              "its time grows a bit faster than N. Given, maps cached with another N are recomputed")
    project.add_argument("--force", action="store_true", help="recompute even when cached")
    project.add_argument("--no-train-split", dest="train_split", action="store_false",
                         help="map the test set only (the training digits need the training split on disk)")
    project.add_argument("--device")
    project.set_defaults(handler=_lazy("vae_core.cli.checkpoints", "run_project"))


def _add_import_command(commands) -> None:
    importing = commands.add_parser(
        "import", help="make a VAE trained by the pytorch/examples tutorial (vae/main.py) a checkpoint here",
        description="Read a state_dict saved by torch.save(model.state_dict(), PATH) (.pt, .pth) or safetensors "
                    "(.safetensors) with the tutorial's keys fc1, fc21, fc22, fc3, fc4, loaded with "
                    "torch.load(weights_only=True) only; write it as a checkpoint (no training history) and "
                    "compute its PCA map, its test loss and metrics (as `evaluate`) and its t-SNE and UMAP maps.")
    importing.add_argument("path", help="the .pt, .pth or .safetensors file")
    importing.add_argument("--name", help="the checkpoint's folder name (default DATASET-zZ-hH-imported-SHA256[:8])")
    _add_common(importing)
    importing.add_argument("--force", action="store_true", help="replace a checkpoint folder of that name")
    importing.add_argument("--maps", choices=("now", "later", "none"), default="now",
                           help="now (default): the PCA map, then t-SNE and UMAP after the metrics; later: only the "
                                "PCA map (`project` adds the rest); none: no maps")
    importing.add_argument("--iw-samples", type=int, default=IW_SAMPLES,
                           help="importance samples per test image for the NLL estimate (as `evaluate`)")
    importing.add_argument("--samples", type=int, default=PRIOR_SAMPLES,
                           help="prior samples judged by the classifier (as `evaluate`)")
    importing.add_argument("--device", help="cpu, cuda, mps (default: the best available)")
    importing.set_defaults(handler=_lazy("vae_core.cli.importing", "run_import"))


def _add_export_command(commands) -> None:
    from .export import EXPORTS

    export = commands.add_parser(
        "export", help="write a model's encoded test set (CSV, TensorBoard projector) or a figure (PNG, GIF)",
        description="csv: index, label, mu_*, logvar_* and every cached map's x / y per test digit. projector: a "
                    "TensorBoard log folder (tensorboard --logdir FOLDER, Projector tab). The figures are those "
                    "of the dashboard: samples, traversal, class-means, morph, add-direction, interpolation; "
                    "--output's suffix (.png or .gif) picks a still image or an animation.")
    export.add_argument("what", choices=list(EXPORTS))
    export.add_argument("--model", required=True, help="a checkpoint name, as `vae-explorer list` shows it")
    export.add_argument("--output", help="file (or folder for projector) to write; default NAME-WHAT.png/.csv here")
    _add_common(export, data=False)
    export.add_argument("--data-dir", help="torchvision data root (default $VAE_DATA_DIR or ./data)")
    export.add_argument("--seed", type=int, default=0, help="samples: the prior draws' seed")
    export.add_argument("--count", type=int, default=100, help="samples: how many digits (default %(default)s)")
    export.add_argument("--rows", type=int, help="traversal: the N most informative dimensions (default all)")
    export.add_argument("--columns", type=int, default=9, help="traversal: steps from -3 to +3 (default 9)")
    export.add_argument("--start-index", type=int,
                        help="traversal, add-direction: start at this test digit's mean (default: prior mean; 0)")
    export.add_argument("--from-class", type=int, default=0, help="morph, add-direction: class a (default 0)")
    export.add_argument("--to-class", type=int, default=1, help="morph, add-direction: class b (default 1)")
    export.add_argument("--from-index", type=int, default=0, help="interpolation: first test digit")
    export.add_argument("--to-index", type=int, default=1, help="interpolation: last test digit")
    export.add_argument("--steps", type=int, default=10, help="morph, add-direction, interpolation: digits per strip")
    export.add_argument("--strength", type=float, default=1.0,
                        help="add-direction: how much of the class direction the last digit gets (default 1)")
    export.set_defaults(handler=_lazy("vae_core.cli.export", "run_export"))


def _more_than(minimum: float) -> Callable[[str], int]:
    """argparse type: an integer above ``minimum`` (t-SNE needs more points than its perplexity)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value <= minimum:
            raise argparse.ArgumentTypeError(f"must be more than the perplexity {minimum:g}, got {value}")
        return value

    return parse


def _add_evaluation_commands(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="likelihood, active units, sample quality (metrics.json)")
    _add_common(evaluate)
    evaluate.add_argument("--json", action="store_true")
    evaluate.add_argument("--force", action="store_true", help="recompute even when metrics.json is cached")
    evaluate.add_argument("--iw-samples", type=int, default=IW_SAMPLES,
                          help="importance samples per test image for the NLL estimate")
    evaluate.add_argument("--samples", type=int, default=PRIOR_SAMPLES, help="prior samples judged by the classifier")
    evaluate.add_argument("--device")
    evaluate.set_defaults(handler=_lazy("vae_core.cli.evaluate", "run_evaluate"))

    classifier = commands.add_parser("train-classifier", help="train the digit classifier used by `evaluate`")
    _add_common(classifier)
    classifier.add_argument("--epochs", type=int, default=CLASSIFIER_EPOCHS)
    classifier.add_argument("--batch-size", type=int, default=CLASSIFIER_BATCH_SIZE)
    classifier.add_argument("--lr", type=float, default=1e-3)
    classifier.add_argument("--seed", type=int, default=0)
    classifier.add_argument("--device")
    classifier.add_argument("--force", action="store_true", help="retrain even when stored")
    classifier.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    classifier.set_defaults(handler=_lazy("vae_core.cli.evaluate", "run_train_classifier"))


def _lazy(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """Import a command's module only when it runs, so `--help` and `list` start fast."""

    def handler(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), function)(args)

    return handler


def _first_interrupt(signum, frame) -> None:
    """Ctrl-C: raise KeyboardInterrupt as usual, so saves are undone and the command says what was kept."""
    signal.signal(signal.SIGINT, _second_interrupt)
    raise KeyboardInterrupt


def _second_interrupt(signum, frame) -> None:
    """Ctrl-C again, while the first unwinds or Python shuts down: stop at once, quietly, with status 130.

    Nothing is lost: every save is atomic, and a half-finished one is recovered by the next run.
    """
    os._exit(EXIT_INTERRUPTED)


def _own_ctrl_c() -> None:
    """Install ``_first_interrupt`` unless SIGINT is ignored (a background job) or this is not the main thread."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) in (
            signal.default_int_handler, _first_interrupt, _second_interrupt):
        signal.signal(signal.SIGINT, _first_interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    _own_ctrl_c()
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    try:
        return args.handler(args)
    except expected_errors() as error:
        print(f"vae-explorer {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"vae-explorer {args.command}: interrupted; nothing partial was written", file=sys.stderr)
        return EXIT_INTERRUPTED
