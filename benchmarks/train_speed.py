"""Training speed: our trainer against the pytorch/examples VAE loop, in one process.

Both train the same z=20 MLP VAE (784-400-20-400-784) at batch 128 with Adam(lr=1e-3)
for the same number of epochs on real MNIST. The reference is written the way
pytorch/examples `vae/main.py` does it: a DataLoader over torchvision's MNIST with
ToTensor, a sigmoid decoder and summed BCE. Prints images/s for both, the ratio, and
the test loss (nats per image) each reaches; `--sweep` also times the default 5-model
sweep of `vae-explorer train` (target <= 240 s on 2 cores); `--families` times one epoch of
the conv VAE beside the MLP's, on its fast path and on autograd; `--device cuda` times the
default sweep on the GPU beside the same sweep on the CPU.

    VAE_DATA_DIR=../shared/data .venv/bin/python benchmarks/train_speed.py [--threads 2] [--epochs 1] [--sweep]
        [--families]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn
from torch.nn import functional as F

from vae_core.config import ModelConfig, TrainConfig
from vae_core.data import load_split, resolve_data_dir
from vae_core.train import new_training_state, train_vae

BATCH = 128
LATENT = 20


class ReferenceVAE(nn.Module):
    """pytorch/examples vae/main.py, verbatim in structure."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, LATENT)
        self.fc22 = nn.Linear(400, LATENT)
        self.fc3 = nn.Linear(LATENT, 400)
        self.fc4 = nn.Linear(400, 784)

    def forward(self, x):
        h1 = F.relu(self.fc1(x.view(-1, 784)))
        mu, logvar = self.fc21(h1), self.fc22(h1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


def reference_loss(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())


def run_reference(epochs: int, seed: int) -> tuple[float, float]:
    """Returns (training images per second, test loss after the last epoch)."""
    from torchvision import datasets, transforms

    root = str(resolve_data_dir())
    torch.manual_seed(seed)
    train_loader = torch.utils.data.DataLoader(
        datasets.MNIST(root, train=True, transform=transforms.ToTensor()), batch_size=BATCH, shuffle=True)
    test_loader = torch.utils.data.DataLoader(
        datasets.MNIST(root, train=False, transform=transforms.ToTensor()), batch_size=BATCH)
    model = ReferenceVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = 0.0
    for _ in range(epochs):
        model.train()
        started = time.perf_counter()
        train_loss = 0.0
        for data, _ in train_loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = reference_loss(recon, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()  # the example sums it for its epoch log line
            optimizer.step()
        seconds += time.perf_counter() - started
    return epochs * len(train_loader.dataset) / seconds, reference_test_loss(model, test_loader)


@torch.no_grad()
def reference_test_loss(model: ReferenceVAE, loader) -> float:
    """The reference's test loop: summed loss over the test set, per image."""
    model.eval()
    total = 0.0
    for data, _ in loader:
        recon, mu, logvar = model(data)
        total += reference_loss(recon, data, mu, logvar).item()
    return total / len(loader.dataset)


def run_ours(epochs: int, seed: int, architecture: str = "mlp") -> tuple[float, float]:
    """Returns (training images per second, test loss after the last epoch).

    Like the reference, only the training passes are timed: each epoch's clock stops at its
    last step, before the trainer evaluates the test set, and restarts after.
    """
    train, test = load_split("mnist", True), load_split("mnist", False)
    model_config = ModelConfig(latent_dim=LATENT, architecture=architecture)
    config = TrainConfig(epochs=epochs, batch_size=BATCH, seed=seed)
    state = new_training_state(model_config, config, torch.device("cpu"))
    seconds, epoch_started = 0.0, time.perf_counter()

    def on_step(epoch, step, steps, running_loss):
        nonlocal seconds
        if step == steps:
            seconds += time.perf_counter() - epoch_started

    def on_epoch(_state):
        nonlocal epoch_started
        epoch_started = time.perf_counter()

    state = train_vae(model_config, config, train, test, torch.device("cpu"), state=state,
                      on_step=on_step, on_epoch=on_epoch)
    return epochs * len(train.images) / seconds, state.history[-1].test_loss


def second_core_speedup(threads: int) -> float:
    """How much faster one of the step's matrix products runs on ``threads`` threads than on one.

    About 1.9x when the second core is free. On a shared host it sometimes drops to ~1.4x for
    minutes at a time; our trainer is mostly matrix products on both cores and slows with it,
    the reference is mostly single-threaded Python and barely does, so read the ratio with it.
    """
    a, b = torch.rand(BATCH, 784), torch.rand(784, 400)

    def seconds(n_threads: int) -> float:
        torch.set_num_threads(n_threads)
        for _ in range(20):
            a @ b
        started = time.perf_counter()
        for _ in range(300):
            a @ b
        return time.perf_counter() - started

    one, many = seconds(1), seconds(threads)
    torch.set_num_threads(threads)
    return one / many


def time_families(seed: int) -> None:
    """Seconds per training epoch (60,000 images) of each architecture at z = 20, in this process."""
    from vae_core import train

    rows = [("MLP, hand-written backward (the fast path)", "mlp", True),
            ("MLP, autograd", "mlp", False), ("conv, autograd", "conv", True)]
    for name, architecture, manual in rows:
        train.MANUAL_BACKWARD = manual
        speed, loss = run_ours(1, seed, architecture)
        print(f"  {name:<44} {60000 / speed:6.1f} s per epoch   test loss after one epoch {loss:.2f} nats",
              flush=True)
    train.MANUAL_BACKWARD = True


def time_sweep(device: str = "cpu") -> float:
    """Wall seconds of the default 5-model sweep (`vae-explorer train`, no projections) on ``device``."""
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "vae_core", "train", "--checkpoint-dir", root, "--device", device,
                        "--no-projections", "--quiet"], check=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="the loss after one epoch varies by ~1.5 nats between seeds: compare means")
    parser.add_argument("--sweep", action="store_true", help="also time the default 5-model sweep")
    parser.add_argument("--families", action="store_true", help="also time one epoch of each architecture")
    parser.add_argument("--device", default="cpu",
                        help="with cuda: time the default sweep on the GPU beside the same sweep on the CPU, and stop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.device != "cpu":
        if args.device.startswith("cuda") and not torch.cuda.is_available():
            raise SystemExit(f"train_speed.py: error: --device {args.device} but torch sees no CUDA device here")
        on_device, on_cpu = time_sweep(args.device), time_sweep("cpu")
        print(f"default sweep (z = 2 5 10 20 50, 12 epochs, no projections): {args.device} {on_device:.1f} s, "
              f"cpu {on_cpu:.1f} s ({on_cpu / on_device:.1f}x); goal on one H100-class GPU: <= 15 s")
        return
    print(f"torch {torch.__version__}, {args.threads} thread(s), z={LATENT}, batch {BATCH}, "
          f"{args.epochs} epoch(s), seeds {args.seeds}")
    print(f"matrix product speedup on {args.threads} threads: {second_core_speedup(args.threads):.2f}x before")
    results = {"reference": [], "ours": []}
    for seed in args.seeds:  # interleaved, so load from other processes hits both alike
        results["reference"].append(run_reference(args.epochs, seed))
        results["ours"].append(run_ours(args.epochs, seed))
        (ref_speed, ref_loss), (our_speed, our_loss) = results["reference"][-1], results["ours"][-1]
        print(f"  seed {seed}: reference {ref_speed:6.0f} images/s {ref_loss:.2f} nats, "
              f"ours {our_speed:6.0f} images/s {our_loss:.2f} nats, ratio {our_speed / ref_speed:.2f}x", flush=True)
    print(f"matrix product speedup on {args.threads} threads: {second_core_speedup(args.threads):.2f}x after")
    (ref_speed, ref_loss), (our_speed, our_loss) = (_means(results[k]) for k in ("reference", "ours"))
    print(f"reference (pytorch/examples loop): {ref_speed:8.0f} images/s   mean test loss {ref_loss:.2f} nats")
    print(f"vae_core trainer:                  {our_speed:8.0f} images/s   mean test loss {our_loss:.2f} nats")
    print(f"speed ratio ours / reference: {our_speed / ref_speed:.2f}x (target >= 3.0x); "
          f"mean loss difference {our_loss - ref_loss:+.2f} nats (target within 1)")
    if args.families:
        print(f"one training epoch at z = {LATENT}, batch {BATCH}, {args.threads} thread(s):")
        time_families(args.seeds[0])
    if args.sweep:
        print(f"default sweep (z = 2 5 10 20 50, 12 epochs): {time_sweep():.0f} s wall (target <= 240 s)")


def _means(runs: list[tuple[float, float]]) -> tuple[float, float]:
    speeds, losses = zip(*runs, strict=True)
    return sum(speeds) / len(speeds), sum(losses) / len(losses)


if __name__ == "__main__":
    main()
