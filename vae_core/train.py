"""The training loop: Adam over shuffled slices of a preloaded tensor, one history row per epoch.

It knows nothing of files or pages: callers watch it through ``on_step`` / ``on_epoch``
and decide what to save.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from .config import ModelConfig, TrainConfig, check_batch_fits
from .data import Split
from .losses import negative_elbo
from .mlp_backward import BatchLoss, negative_elbo_backward
from .models import VAE, VariationalAutoencoder, build_model

EVAL_BATCH = 1000


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; nothing of this model is written."""


@dataclass
class EpochRecord:
    """One row of ``history.json``: losses in nats per image, wall seconds of the epoch."""

    epoch: int
    train_loss: float
    train_recon: float
    train_kl: float
    test_loss: float
    test_recon: float
    test_kl: float
    seconds: float


@dataclass
class TrainingState:
    """Everything needed to continue a run after the last completed epoch."""

    model: VariationalAutoencoder
    optimizer: torch.optim.Optimizer
    shuffle_generator: torch.Generator  # CPU: the order of training images
    noise_generator: torch.Generator  # on the model's device: reparameterization noise
    history: list[EpochRecord] = field(default_factory=list)

    @property
    def epochs_done(self) -> int:
        return len(self.history)


def pick_device(requested: str | None = None) -> torch.device:
    """CUDA, then Apple MPS, then CPU; ``requested`` ('cpu', 'cuda:1', ...) overrides."""
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def make_optimizer(model: VariationalAutoencoder, lr: float) -> torch.optim.Optimizer:
    """Adam; the fused kernel saves ~2.8 ms per step on CPU where the build has it."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


def new_training_state(model_config: ModelConfig, train_config: TrainConfig,
                       device: torch.device) -> TrainingState:
    """A fresh model and optimizer, seeded so the same config trains the same weights on CPU."""
    torch.manual_seed(train_config.seed)
    model = build_model(model_config).to(device)
    noise = torch.Generator(device=device).manual_seed(train_config.seed + 1)
    return TrainingState(
        model=model,
        optimizer=make_optimizer(model, train_config.lr),
        shuffle_generator=torch.Generator().manual_seed(train_config.seed),
        noise_generator=noise,
    )


@torch.no_grad()
def evaluate_elbo(model: VariationalAutoencoder, images: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Mean negative ELBO, recon and KL (nats per image) over ``images`` [N, 784].

    One z sample per image from a fixed-seed generator: an unbiased, repeatable
    estimate of the ELBO that does not disturb the training generators.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    totals = torch.zeros(2, dtype=torch.float64)
    for start in range(0, len(images), EVAL_BATCH):
        x = images[start:start + EVAL_BATCH].to(device)
        out = model(x, generator)
        terms = negative_elbo(out.logits, x, out.mu, out.logvar)
        totals += torch.stack([terms.recon.sum(), terms.kl.sum()]).double().cpu()
    model.train(was_training)
    recon, kl = (totals / len(images)).tolist()
    return {"loss": recon + kl, "recon": recon, "kl": kl}


StepCallback = Callable[[int, int, int, float], None]  # epoch, step, steps per epoch, running loss

# The one switch between the two backward passes, as nanoGPT keeps flash and manual attention:
# the hand-written one (mlp_backward) for the exact MLP, autograd for every other model.
MANUAL_BACKWARD = True


def uses_manual_backward(model: VariationalAutoencoder) -> bool:
    """The hand-written backward pass applies to the MLP VAE itself, not to subclasses or other models."""
    return MANUAL_BACKWARD and type(model) is VAE


def autograd_backward(model: VariationalAutoencoder, x: torch.Tensor, generator: torch.Generator | None,
                      beta: float = 1.0) -> BatchLoss:
    """Set ``.grad`` to the gradient of the batch's mean of recon + beta * KL, by autograd.

    x: [B, 784]. Returns the batch's summed recon and (unweighted) KL, like the manual pass.
    """
    model.zero_grad(set_to_none=True)
    out = model(x, generator)
    terms = negative_elbo(out.logits, x, out.mu, out.logvar)
    (terms.recon + beta * terms.kl).mean().backward()
    return BatchLoss(terms.recon.detach().sum(), terms.kl.detach().sum())


def compute_gradients(model: VariationalAutoencoder, x: torch.Tensor, generator: torch.Generator | None,
                      beta: float = 1.0) -> BatchLoss:
    """The training step's gradient of recon + beta * KL, on the fast path where it applies."""
    backward = negative_elbo_backward if uses_manual_backward(model) else autograd_backward
    return backward(model, x, generator, beta)


def _train_one_epoch(state: TrainingState, images: torch.Tensor, batch_size: int, beta: float,
                     epoch: int, on_step: StepCallback | None) -> tuple[float, float]:
    """One pass over ``images`` [N, 784] (on the model's device); returns mean (recon, kl)."""
    model, optimizer = state.model, state.optimizer
    model.train()
    order = torch.randperm(len(images), generator=state.shuffle_generator).to(images.device)
    steps = math.ceil(len(images) / batch_size)
    recon_sum = kl_sum = 0.0
    for step in range(steps):
        # index_select: a sixth of the time of images[rows] on CPU
        x = torch.index_select(images, 0, order[step * batch_size:(step + 1) * batch_size])
        batch_recon, batch_kl = torch.stack(compute_gradients(model, x, state.noise_generator, beta)).tolist()
        if not math.isfinite(batch_recon + batch_kl):
            raise TrainingDiverged(
                f"loss became {batch_recon + batch_kl} at epoch {epoch}, step {step + 1}: "
                "lower --lr or check the data"
            )
        optimizer.step()
        recon_sum += batch_recon
        kl_sum += batch_kl
        if on_step is not None:
            seen = min((step + 1) * batch_size, len(images))
            on_step(epoch, step + 1, steps, (recon_sum + kl_sum) / seen)
    return recon_sum / len(images), kl_sum / len(images)


def train_vae(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_split: Split,
    test_split: Split,
    device: torch.device | None = None,
    state: TrainingState | None = None,
    on_step: StepCallback | None = None,
    on_epoch: Callable[[TrainingState], None] | None = None,
) -> TrainingState:
    """Train until ``train_config.epochs`` epochs are done, continuing ``state`` if given.

    After each epoch the test set is evaluated in full and ``on_epoch(state)`` runs, which
    is where a caller saves a resume point. Raises ``TrainingDiverged`` on NaN / inf loss.
    """
    check_batch_fits(train_config.batch_size, len(train_split.images))
    device = device or pick_device()
    state = state or new_training_state(model_config, train_config, device)
    # Both splits stay on the device for the whole run (on a GPU: no host copies per epoch).
    train_images, test_images = train_split.images.to(device), test_split.images.to(device)
    for epoch in range(state.epochs_done + 1, train_config.epochs + 1):
        started = time.perf_counter()
        recon, kl = _train_one_epoch(state, train_images, train_config.batch_size, train_config.beta, epoch,
                                     on_step)
        test = evaluate_elbo(state.model, test_images, seed=train_config.seed)
        state.history.append(EpochRecord(
            epoch=epoch, train_loss=recon + kl, train_recon=recon, train_kl=kl,
            test_loss=test["loss"], test_recon=test["recon"], test_kl=test["kl"],
            seconds=time.perf_counter() - started,
        ))
        if on_epoch is not None:
            on_epoch(state)
    state.model.eval()
    return state


def history_as_dicts(history: list[EpochRecord]) -> list[dict]:
    return [asdict(record) for record in history]


def state_to_tensors(state: TrainingState) -> tuple[dict[str, torch.Tensor], dict]:
    """Flatten a TrainingState into named tensors plus JSON metadata (no pickle needed)."""
    tensors = {f"model.{k}": v for k, v in state.model.state_dict().items()}
    optimizer_state = state.optimizer.state_dict()
    for index, slots in optimizer_state["state"].items():
        for slot, value in slots.items():
            tensors[f"optim.{index}.{slot}"] = torch.as_tensor(value)
    tensors["rng.shuffle"] = state.shuffle_generator.get_state()
    tensors["rng.noise"] = state.noise_generator.get_state()
    meta = {"param_groups": optimizer_state["param_groups"], "history": history_as_dicts(state.history)}
    return tensors, meta


def state_from_tensors(tensors: dict[str, torch.Tensor], meta: dict, model_config: ModelConfig,
                       train_config: TrainConfig, device: torch.device) -> TrainingState:
    """Rebuild the TrainingState saved by ``state_to_tensors``."""
    state = new_training_state(model_config, train_config, device)
    state.model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, slot = key.split(".", 2)
            slots.setdefault(int(index), {})[slot] = value  # load_state_dict moves it to device
    state.optimizer.load_state_dict({"state": slots, "param_groups": meta["param_groups"]})
    state.shuffle_generator.set_state(tensors["rng.shuffle"])
    state.noise_generator.set_state(tensors["rng.noise"])
    state.history = [EpochRecord(**row) for row in meta["history"]]
    return state
