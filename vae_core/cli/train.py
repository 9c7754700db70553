"""`vae-explorer train`: each config through ``runs.open_run``, with a progress bar and its maps."""

from __future__ import annotations

import argparse

from .. import store
from ..config import ModelConfig, TrainConfig
from ..data import model_config
from ..runs import DataCache, ensure_projections, kept_note, open_run
from ..shapes import parameter_shapes
from ..train import pick_device
from .common import checkpoint_root, say


def _progress_bar(latent_dim: int, epochs: int, quiet: bool):
    """One tqdm bar per model over all its epochs, showing the running loss; None when quiet."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = None  # made at the first step, so a run that fails before training draws no bar

    def on_step(epoch: int, step: int, steps: int, running_loss: float) -> None:
        nonlocal bar
        if bar is None:  # first step, possibly of a resumed run
            bar = tqdm(desc=f"z={latent_dim}", unit="batch", dynamic_ncols=True,
                       total=steps * epochs, initial=steps * (epoch - 1))
        if step == 1:
            bar.set_description(f"z={latent_dim} epoch {epoch}/{epochs}")
        bar.update(1)
        if step % 25 == 0 or step == steps:
            bar.set_postfix(loss=f"{running_loss:.2f}", refresh=False)

    def close() -> None:
        if bar is not None:
            bar.close()

    on_step.close = close  # type: ignore[attr-defined]
    return on_step


def train_one(args: argparse.Namespace, model_config: ModelConfig, train_config: TrainConfig,
              data: DataCache) -> store.Checkpoint:
    """Train (or reuse) one config through ``runs.open_run``, with a progress bar unless --quiet."""
    with open_run(checkpoint_root(args), model_config, train_config, force=args.force, report=say) as run:
        if run.cached is not None:
            say(f"{run.name}: cached, reused (pass --force to retrain)")
            return run.cached
        on_step = _progress_bar(model_config.latent_dim, train_config.epochs, args.quiet)
        try:
            checkpoint = run.train(data.split(True), data.split(False), pick_device(args.device), on_step)
        finally:
            if on_step is not None:
                on_step.close()
    say(f"{run.name}: trained, test loss {checkpoint.final['test_loss']:.2f} nats ({checkpoint.train_seconds:.1f} s)")
    return checkpoint


def run_train(args: argparse.Namespace) -> int:
    root = checkpoint_root(args)
    data = DataCache(args.dataset, args.data_dir, root)  # a registered set is read from --checkpoint-dir
    train_config = TrainConfig(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               seed=args.seed, beta=args.beta)
    # A registered set that is not there is one line here, before anything is written; the models read its images'
    # channels and side (1 x 28 x 28 for MNIST and Fashion-MNIST, as always). All validated before any training.
    configs = [model_config(args.dataset, latent, root, hidden_dim=args.hidden_dim, architecture=args.arch)
               for latent in args.latent_dims]
    for config in configs:
        parameter_shapes(config)  # a plugin architecture that cannot be built: its one line, before any training
    for config in configs:
        try:
            checkpoint = train_one(args, config, train_config, data)
        except KeyboardInterrupt:
            name = store.run_name(config, train_config)
            say(f"{name}: interrupted, no partial checkpoint was written; {kept_note(root, name)}")
            return 130
        maps = "none" if args.no_projections else args.maps
        if maps != "none":  # the quick maps (PCA) first: the model is explorable before t-SNE starts
            ensure_projections(checkpoint, data, force=args.force, device=args.device, slow=maps == "now",
                               training_digits=True)
            if maps == "later":
                say(f"{checkpoint.name}: t-SNE and UMAP left for later: run `vae-explorer project --dataset "
                    f"{checkpoint.train_config.dataset}`")
    return 0
