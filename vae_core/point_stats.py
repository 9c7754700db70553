"""Numbers per test digit that the Latent map can colour by, cached in projections.npz beside ``mu``.

For each test image x, with (mu, logvar) = encode(x):

- ``nelbo``: the negative ELBO in nats, as the project's loss defines it (``losses.negative_elbo``): the
  Bernoulli cross-entropy of x under the decoder's logits, summed over its pixels (784 on MNIST), plus the analytic
  Gaussian KL (Kingma and Welling 2014, Appendix B). The reconstruction term decodes z = mu, the posterior
  mean, not a sample, so the value is the same on every run (it is a little below the sampled loss the
  training history reports).
- ``kl``: that KL alone, KL(q(z|x) || N(0, I)), in nats.
- ``confidence``: the shipped classifier's top class probability on the model's reconstruction of x
  (the mean image decoded from mu): how recognisable the reconstruction is, whatever class it looks like. A
  registered data set has no classifier (``classifier.has_classifier``): its digits get nelbo and kl only.

All three are float32 [N]. A run computes them after its slow maps (``runs``, with the classifier when one
is beside the checkpoint); ``compute_projections`` without it;
``ensure_point_stats`` adds the missing ones to an existing projections.npz without touching its maps
(`vae-explorer project`). ``checks.read_projections`` drops one that is not finite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from .checks import POINT_STATS
from .losses import negative_elbo

BATCH = 2000  # images per forward pass: 2000 x 784 logits are 6 MB


@torch.no_grad()
def point_stats(model, images: torch.Tensor, classifier=None) -> dict[str, np.ndarray]:
    """images [N, C x S x S] (MNIST: [N, 784]) in [0, 1] -> {"nelbo", "kl"[, "confidence" when ``classifier`` is
    given]}: float32 [N] each."""
    from .classifier import predict_proba

    model.eval()
    device = next(model.parameters()).device
    nelbo, kl, confidence = [], [], []
    for start in range(0, len(images), BATCH):
        x = images[start:start + BATCH].to(device).float()
        mu, logvar = model.encode(x)
        logits = model.decode(mu)  # z = the posterior mean: deterministic
        terms = negative_elbo(logits, x, mu, logvar)
        nelbo.append(terms.loss.cpu())
        kl.append(terms.kl.cpu())
        if classifier is not None:
            confidence.append(predict_proba(classifier, torch.sigmoid(logits)).max(dim=1).values)
    out = {"nelbo": _floats(nelbo), "kl": _floats(kl)}
    if classifier is not None:
        out["confidence"] = _floats(confidence)
    return out


def _floats(chunks: list[torch.Tensor]) -> np.ndarray:
    return (torch.cat(chunks) if chunks else torch.zeros(0)).numpy().astype(np.float32)


def missing(arrays: dict | None) -> tuple[str, ...]:
    """The per-digit values a projections dict lacks (all of them for None)."""
    return tuple(name for name in POINT_STATS if arrays is None or name not in arrays)


def find_classifier(root: Path, dataset: str):
    """The shipped classifier of ``dataset`` under the checkpoint root ``root``, or None when there is none (a
    registered data set never has one: ``classifier.NoClassifier``, nothing read)."""
    from .classifier import load_classifier
    from .store import CheckpointError

    try:
        return load_classifier(root, dataset)[0]
    except CheckpointError:
        return None


def pending(checkpoint, arrays: dict | None, test_images: Callable[[], torch.Tensor], device: str | None = None,
            force: bool = False) -> Callable[[], dict[str, np.ndarray]] | None:
    """What computes the per-digit values ``arrays`` lacks (all of them with ``force``; the confidence only with the
    classifier beside the checkpoint), as {name: [N] float32}; None when there is nothing it could add.
    ``test_images`` is called only when it computes."""
    wanted = POINT_STATS if force else missing(arrays)
    classifier = find_classifier(checkpoint.path.parent, checkpoint.train_config.dataset) \
        if "confidence" in wanted else None
    if not set(wanted) - ({"confidence"} if classifier is None else set()):
        return None  # nothing to add without the classifier (the map says what is missing)

    def compute() -> dict[str, np.ndarray]:
        from .store import load_model
        from .train import pick_device

        where = pick_device(device)
        stats = point_stats(load_model(checkpoint, where), test_images(),
                            None if classifier is None else classifier.to(where))
        return {name: stats[name] for name in wanted if name in stats}
    return compute


def ensure_point_stats(checkpoint, test_images: Callable[[], torch.Tensor], device: str | None = None,
                       report: Callable[[str], None] = print, force: bool = False) -> None:
    """Add the per-digit values projections.npz lacks (all of them with ``force``), keeping its maps as they are.

    Nothing happens without cached maps, or while another process computes them (its save would drop ours).
    ``test_images`` is called only when something is computed.
    """
    from .map_progress import MapWork
    from .projections import load_projections, save_projections

    arrays = load_projections(checkpoint)
    compute = None if arrays is None else pending(checkpoint, arrays, test_images, device, force)
    if compute is None:
        return  # a cached run stays quiet
    with MapWork(checkpoint.path.parent, checkpoint.name) as work:
        if work.busy:
            report(f"{checkpoint.name}: another process is computing its maps; run `project` again after it")
            return
        stats = compute()
        arrays = load_projections(checkpoint) or arrays  # as saved now, with whatever landed meanwhile
        save_projections(checkpoint, {**arrays, **stats})
    count = len(next(iter(stats.values())))
    report(f"{checkpoint.name}: per-digit {', '.join(stats)} of {count:,} test digits saved")
