"""`vae-explorer sweep`: a grid of configs as Ray Tune trials (Ray is the optional extra `.[ray]`).

Each trial runs the same orchestration as `vae-explorer train` (``runs.open_run`` through
``cli.train.train_one``: the per-config lock, recovery, the cache check, a resume point after
every epoch, the atomic save), so results land in the checkpoint directory exactly like CLI-trained models and the
dashboard shows them. A trial whose worker dies is restarted by Tune (``--max-failures``) and
continues from its last completed epoch. Locally Ray starts on this machine; with
``--address`` (or ``$RAY_ADDRESS``) the trials run on a cluster, and the checkpoint directory
and ``--storage-path`` must then be on storage every node shares.
"""

from __future__ import annotations

import argparse
import itertools
import os
from dataclasses import asdict
from functools import partial
from pathlib import Path

from ..config import ConfigError, ModelConfig, TrainConfig
from .common import checkpoint_root, say


def grid(args: argparse.Namespace) -> list[tuple[ModelConfig, TrainConfig]]:
    """Every combination of the sweep's flags, validated before anything starts; the models read the images of
    ``--dataset`` (a registered set's channels and side, from the checkpoint root)."""
    from ..data import model_config

    root = checkpoint_root(args)
    return [(model_config(args.dataset, latent, root, hidden_dim=args.hidden_dim, architecture=arch),
             TrainConfig(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                         seed=seed, beta=beta))
            for latent, beta, arch, seed in itertools.product(args.latent_dims, args.betas, args.archs, args.seeds)]


def _trial(settings: dict, space: dict) -> None:
    """One Tune trial: train (or reuse) ``space["config"]`` through the CLI's orchestration, report its loss."""
    from ray import tune

    from ..runs import DataCache, ensure_projections
    from .train import train_one

    args = argparse.Namespace(**settings)
    config = space["config"]
    model_config, train_config = ModelConfig(**config["model"]), TrainConfig(**config["train"])
    data = DataCache(train_config.dataset, args.data_dir, args.checkpoint_dir)
    checkpoint = train_one(args, model_config, train_config, data)
    if not args.no_projections:
        ensure_projections(checkpoint, data, device=args.device)
    tune.report({"test_loss": checkpoint.final["test_loss"], "name": checkpoint.name})


def run_sweep(args: argparse.Namespace) -> int:
    try:
        import ray
        from ray import tune
    except ImportError as error:
        raise ConfigError("vae-explorer sweep needs Ray: install it with pip install -e '.[ray]'") from error
    configs = grid(args)
    root = checkpoint_root(args).resolve()
    settings = {"checkpoint_dir": str(root), "data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None,
                "device": args.device, "force": args.force, "quiet": True, "no_projections": args.no_projections}
    address = args.address or os.environ.get("RAY_ADDRESS")
    ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False,
             **({} if address else {"num_cpus": args.cpus}))
    try:
        trainable = tune.with_resources(partial(_trial, settings), {"cpu": args.cpus_per_trial})
        space = {"config": tune.grid_search([{"model": asdict(m), "train": asdict(t)} for m, t in configs])}
        tuner = tune.Tuner(
            trainable,
            param_space=space,
            tune_config=tune.TuneConfig(max_concurrent_trials=args.max_concurrent or None),
            run_config=tune.RunConfig(name="vae-sweep", storage_path=str(Path(args.storage_path).resolve()),
                                      failure_config=tune.FailureConfig(max_failures=args.max_failures),
                                      verbose=0))
        results = tuner.fit()
    finally:
        ray.shutdown()
    failed = 0
    for result in results:
        if result.error is not None:
            failed += 1
            say(f"trial failed: {str(result.error).splitlines()[-1][:200]}")
        else:
            say(f"{result.metrics['name']}: test loss {result.metrics['test_loss']:.2f} nats")
    say(f"sweep: {len(configs) - failed} of {len(configs)} configs in {root}")
    return 2 if failed else 0
