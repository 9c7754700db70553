"""What the latent size does, in numbers: likelihood, active units, sample quality, memorisation.

``vae-explorer evaluate`` computes these per checkpoint once and caches them as
``metrics.json`` beside the weights (``--force`` recomputes; other settings than the
cached ones also recompute). Losses are in nats per test image, with the project's
convention: Bernoulli cross-entropy on levels in [0, 1] summed over the image's values (784 for MNIST;
C x S x S for a registered data set, whose images ``explore.as_pictures`` folds).

metrics.json (``METRICS_VERSION`` 1)::

    metrics_version       1
    checkpoint            directory name;  dataset, latent_dim
    settings              {iw_samples K, samples N, seed, classifier (directory name)}
    elbo                  {loss, recon, kl}: negative ELBO and its terms, full test set
                          (recon averaged over the K importance samples, KL analytic)
    nll_iw                importance-weighted NLL estimate with K samples (Burda et al. 2016);
                          never above elbo.loss in expectation (a tighter bound)
    kl_per_dim            [D] mean KL of each latent dimension over the test set
    posterior_mean_variance [D] variance over test images of each dimension's posterior mean
    active_units          count of dimensions whose posterior_mean_variance > active_threshold
    active_threshold      0.01 (Burda et al. 2016)
    samples               N prior samples z ~ N(0, I) (seeded), decoded to mean images:
        mean_top_probability  mean over samples of the classifier's highest class probability
        class_counts          [10] samples per predicted class
        class_entropy         entropy (nats) of class_counts / N; log 10 = 2.303 is even coverage
        frechet_distance      Frechet distance of classifier features, samples vs test images
    reconstructions       {classifier_accuracy}: classifier accuracy on decode(mu(x)) of test
                          images, against their labels; classifier_test_accuracy on the
                          originals is stored beside it for reference
    memorisation          nearest training image (L2 in pixel space, [0, 1] grey levels):
        samples_mean_nn_distance  mean over samples of the distance to the nearest training image
        test_mean_nn_distance     the same for test images
        recon_mean_nn_distance    the same for reconstructions of test images (also mean images,
                                  so smooth like the samples: the fairer baseline)
        ratio_to_test, ratio_to_recon   samples / test and samples / recon; well below 1 = copying
        queries                   how many images of each kind were searched
        nearest_train_index, nearest_train_distance   [<= 100] for the first samples
                                  (``prior_samples(model, n, seed)`` regenerates them)
    linear_probe          {train_accuracy, test_accuracy}: logistic regression from the
                          posterior means of training images to labels
    seconds               wall time of the evaluation

A data set with no classifier (a registered one: ``classifier.has_classifier``) has ``settings.classifier``
null, ``without_classifier`` (the sentence saying so), no ``samples`` and no ``reconstructions``; every other
metric is computed as above (memorisation in pixel space, across all channels).

Everything takes tensors already in memory: ``Reference`` holds the data, classifier
and model-independent statistics shared by all checkpoints of a dataset.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from . import explore, store
from .classifier import DigitClassifier, classify, predict_proba
from .data import Split
from .defaults import EVALUATION_SEED, IW_SAMPLES, PRIOR_SAMPLES
from .losses import bernoulli_nll, gaussian_kl_per_dim
from .models import VariationalAutoencoder
from .projections import encode_means

METRICS_VERSION = 1
ACTIVE_THRESHOLD = 0.01  # Burda et al. 2016, section 5.2
DEFAULT_IW_SAMPLES = IW_SAMPLES
DEFAULT_SAMPLES = PRIOR_SAMPLES
DEFAULT_SEED = EVALUATION_SEED
IW_ROWS = 10_000  # images x importance samples decoded at once: ~31 MB of logits
NN_QUERIES = 2_000  # images of each kind searched for their nearest training image
NN_BATCH = 256  # queries per distance block: 256 x 60,000 floats = 61 MB
NN_EXAMPLES = 100  # per-sample nearest neighbours kept in metrics.json
LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Settings:
    """What a cached metrics.json was computed with; other settings mean a recomputation."""

    iw_samples: int = DEFAULT_IW_SAMPLES
    samples: int = DEFAULT_SAMPLES
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        from .config import ConfigError

        for name, flag in (("iw_samples", "--iw-samples"), ("samples", "--samples")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}: pass {flag} 1 or more")


# --- likelihood ------------------------------------------------------------------------------

@dataclass
class LikelihoodEstimate:
    """Per-image estimates over N images, float64, nats.

    nll: [N] -log (1/K sum_k w_k), the importance-weighted bound on -log p(x).
    elbo_mc: [N] -(1/K) sum_k log w_k, the negative ELBO from the same samples (>= nll).
    recon: [N] -(1/K) sum_k log p(x|z_k).
    kl: [N] analytic KL(q(z|x) || N(0, I)).
    """

    nll: torch.Tensor
    elbo_mc: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


@torch.no_grad()
def importance_weighted(model: VariationalAutoencoder, images: torch.Tensor, k: int = DEFAULT_IW_SAMPLES,
                        seed: int = DEFAULT_SEED) -> LikelihoodEstimate:
    """Importance-weighted NLL (Burda et al. 2016, eq. 8) of images [N, C x S x S] (MNIST: 784) with K samples.

    log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x), z_k ~ q(z|x). The log-mean-exp
    over k runs in float64 so K in the thousands loses nothing to rounding.
    """
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    per_chunk = max(1, IW_ROWS // k)
    parts = [_iw_chunk(model, images[i:i + per_chunk].to(device), k, generator)
             for i in range(0, len(images), per_chunk)]
    return LikelihoodEstimate(*(torch.cat(column) for column in zip(*parts, strict=True)))


def _iw_chunk(model: VariationalAutoencoder, x: torch.Tensor, k: int,
              generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """x [B, C x S x S] -> (nll, elbo_mc, recon, kl), each [B] float64 on CPU."""
    mu, logvar = model.encode(x)
    eps = torch.randn((k, *mu.shape), generator=generator, device=x.device, dtype=mu.dtype)
    z = mu + eps * torch.exp(0.5 * logvar)  # [K, B, D]
    logits = model.decode(z.reshape(-1, z.shape[-1])).reshape(k, *x.shape)
    log_px = -bernoulli_nll(logits, x)
    log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
    log_qz = -0.5 * (eps.pow(2) + logvar + LOG_2PI).sum(-1)  # (z - mu) / sigma = eps
    log_w = (log_px + log_pz - log_qz).double()  # [K, B]
    nll = math.log(k) - torch.logsumexp(log_w, dim=0)
    kl = gaussian_kl_per_dim(mu, logvar).sum(-1).double()
    return nll.cpu(), (-log_w.mean(0)).cpu(), (-log_px.double().mean(0)).cpu(), kl.cpu()


# --- latent usage ----------------------------------------------------------------------------

def active_units(mu: torch.Tensor, threshold: float = ACTIVE_THRESHOLD) -> tuple[int, torch.Tensor]:
    """mu [N, D] posterior means -> (count of dimensions with variance > threshold, variances [D])."""
    variance = mu.double().var(dim=0, unbiased=False)
    return int((variance > threshold).sum()), variance


@torch.no_grad()
def kl_per_dimension(model: VariationalAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """images [N, C x S x S] -> mean KL of each latent dimension over the images, [D] float64."""
    device = next(model.parameters()).device
    total = torch.zeros(model.config.latent_dim, dtype=torch.float64)
    for start in range(0, len(images), IW_ROWS):
        mu, logvar = model.encode(images[start:start + IW_ROWS].to(device))
        total += gaussian_kl_per_dim(mu, logvar).double().sum(0).cpu()
    return total / len(images)


# --- samples and their quality ---------------------------------------------------------------

@torch.no_grad()
def prior_samples(model: VariationalAutoencoder, n: int, seed: int = DEFAULT_SEED) -> torch.Tensor:
    """n mean images decoded from ``explore.prior_samples`` (seeded): [n, C x S x S] in [0, 1] (MNIST: [n, 784]),
    flattened channels first as the data sets' images are, CPU."""
    z = explore.prior_samples(model.config.latent_dim, n, seed)
    device = next(model.parameters()).device
    return torch.cat([as_flat(model.decode_images(z[i:i + IW_ROWS].to(device))).cpu()
                      for i in range(0, n, IW_ROWS)])


@torch.no_grad()
def reconstructions(model: VariationalAutoencoder, images: torch.Tensor) -> torch.Tensor:
    """images [N, C x S x S] -> mean images decoded from the posterior means, [N, C x S x S]."""
    mu = encode_means(model, images)
    device = next(model.parameters()).device
    return torch.cat([as_flat(model.decode_images(mu[i:i + IW_ROWS].to(device))).cpu()
                      for i in range(0, len(mu), IW_ROWS)])


def class_histogram(probabilities: torch.Tensor) -> tuple[list[int], float]:
    """probabilities [N, 10] -> (counts per predicted class [10], entropy in nats of counts / N)."""
    counts = torch.bincount(probabilities.argmax(dim=1), minlength=10).double()
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum().item()
    return [int(c) for c in counts], entropy


def gaussian_statistics(features: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """features [N, F] -> (mean [F], covariance [F, F]) in float64."""
    array = features.double().numpy()
    return array.mean(axis=0), np.cov(array, rowvar=False)


def frechet_distance(features_a: torch.Tensor, features_b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets [N, F] and [M, F]."""
    return frechet_from_statistics(*gaussian_statistics(features_a), *gaussian_statistics(features_b))


def frechet_from_statistics(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """||m_a - m_b||^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2)) (Dowson and Landau 1982; Heusel et al. 2017).

    tr (C_a C_b)^(1/2) is the sum of square roots of the eigenvalues of C_a^(1/2) C_b C_a^(1/2),
    a symmetric PSD matrix: ``eigh`` gives them real and stable, where a general matrix square
    root of C_a C_b can turn complex through rounding.
    """
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return max(float(distance), 0.0)  # rounding can leave -1e-12 for identical sets


# --- memorisation ----------------------------------------------------------------------------

def as_flat(images: torch.Tensor) -> torch.Tensor:
    """Images as pictures or flattened -> [B, C x S x S] float32, channels first as the data sets' images are:
    [B, 784] or [B, 28, 28] -> [B, 784]; [B, S, S, 3] (``decode_images``' RGB) and [B, C, S, S] as well."""
    images = torch.as_tensor(images)
    if images.dim() < 2:
        raise ValueError(f"expected a batch of images, got shape {list(images.shape)}")
    if images.dim() == 4 and images.shape[-1] == 3 and images.shape[1] == images.shape[2]:  # channels last
        images = images.movedim(-1, 1)
    return images.flatten(1).float()


@torch.no_grad()
def nearest_neighbours(queries: torch.Tensor, references: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The nearest reference of each query in L2: (index [B] int64, distance [B] float32).

    queries [B, C x S x S] or pictures (``as_flat``); references [N, C x S x S]. Blocks of ``NN_BATCH`` queries use
    ||q - r||^2 = ||q||^2 + ||r||^2 - 2 q.r (one matmul); the winner's distance is then
    recomputed directly, so an exact match reports 0, not rounding noise.
    """
    queries, references = as_flat(queries), as_flat(references)
    reference_norms = references.pow(2).sum(1)
    indices = []
    for start in range(0, len(queries), NN_BATCH):
        block = queries[start:start + NN_BATCH]
        # ||q||^2 is the same for every reference of a query, so it does not change the argmin
        scores = torch.addmm(reference_norms, block, references.T, beta=1.0, alpha=-2.0)
        indices.append(scores.argmin(dim=1))
    index = torch.cat(indices) if indices else torch.zeros(0, dtype=torch.int64)
    distance = (queries - references[index]).norm(dim=1)
    return index, distance


def nearest_training_image(images: torch.Tensor, train_images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For images [B, S, S], [B, S, S, 3] or flattened [B, C x S x S] (MNIST: [B, 28, 28] or [B, 784]):
    (nearest training images as pictures [B, S, S] or [B, S, S, 3], distances [B])."""
    index, distance = nearest_neighbours(images, train_images)
    return explore.as_pictures(as_flat(train_images)[index]), distance


# --- linear probe ----------------------------------------------------------------------------

def linear_probe(train_mu: torch.Tensor, train_labels: torch.Tensor, test_mu: torch.Tensor,
                 test_labels: torch.Tensor) -> dict[str, float]:
    """Logistic regression from posterior means [N, D] to labels [N]; accuracy on both splits."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # tol 1e-3: ~30 lbfgs steps instead of ~110 for D = 50, within 0.1 point of the converged accuracy
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200, tol=1e-3))
    probe.fit(train_mu.double().numpy(), train_labels.numpy())
    return {"train_accuracy": float(probe.score(train_mu.double().numpy(), train_labels.numpy())),
            "test_accuracy": float(probe.score(test_mu.double().numpy(), test_labels.numpy()))}


# --- one checkpoint --------------------------------------------------------------------------

@dataclass
class Reference:
    """Model-independent inputs shared by every checkpoint of one dataset (computed once).

    ``classifier`` None: the data set has none (``without_classifier`` says so); the classifier's statistics are
    None then, and the metrics that need them are skipped.
    """

    train: Split
    test: Split
    classifier: DigitClassifier | None
    classifier_name: str | None
    test_feature_statistics: tuple[np.ndarray, np.ndarray] | None = field(repr=False)
    classifier_test_accuracy: float | None
    test_mean_nn_distance: float
    without_classifier: str | None = None


def build_reference(train: Split, test: Split, classifier: DigitClassifier | None, classifier_name: str | None,
                    without_classifier: str | None = None) -> Reference:
    """Classifier features of the test set (with a classifier) and the test images' nearest-neighbour distances.

    ``classifier`` None: ``without_classifier`` is the sentence metrics.json keeps to say why there is none.
    """
    _, distance = nearest_neighbours(test.images[:NN_QUERIES], train.images)
    if classifier is None:
        note = without_classifier or "no classifier for this data set: the metrics that need one are skipped"
        return Reference(train, test, None, None, None, None, distance.double().mean().item(), note)
    probabilities, features = classify(classifier, test.images)
    accuracy = (probabilities.argmax(1) == test.labels).double().mean().item()
    return Reference(train, test, classifier, classifier_name, gaussian_statistics(features),
                     accuracy, distance.double().mean().item())


def _sample_metrics(samples: torch.Tensor, reference: Reference) -> dict:
    probabilities, features = classify(reference.classifier, samples)
    counts, entropy = class_histogram(probabilities)
    fd = frechet_from_statistics(*gaussian_statistics(features), *reference.test_feature_statistics)
    return {"mean_top_probability": probabilities.max(dim=1).values.double().mean().item(),
            "class_counts": counts, "class_entropy": entropy, "frechet_distance": fd}


def _memorisation(samples: torch.Tensor, recons: torch.Tensor, reference: Reference) -> dict:
    index, distance = nearest_neighbours(samples[:NN_QUERIES], reference.train.images)
    _, recon_distance = nearest_neighbours(recons[:NN_QUERIES], reference.train.images)
    samples_mean = distance.double().mean().item()
    recon_mean = recon_distance.double().mean().item()
    return {
        "samples_mean_nn_distance": samples_mean,
        "test_mean_nn_distance": reference.test_mean_nn_distance,
        "recon_mean_nn_distance": recon_mean,
        "ratio_to_test": samples_mean / reference.test_mean_nn_distance,
        "ratio_to_recon": samples_mean / recon_mean,
        "queries": min(NN_QUERIES, len(samples)),
        "nearest_train_index": index[:NN_EXAMPLES].tolist(),
        "nearest_train_distance": [round(d, 4) for d in distance[:NN_EXAMPLES].tolist()],
    }


def evaluate_model(model: VariationalAutoencoder, reference: Reference, settings: Settings = Settings()) -> dict:
    """Every metric of the module docstring except the checkpoint's name and the timing (without a classifier:
    those that do not need one)."""
    test = reference.test
    estimate = importance_weighted(model, test.images, settings.iw_samples, settings.seed)
    recon, kl = estimate.recon.mean().item(), estimate.kl.mean().item()
    test_mu = encode_means(model, test.images)
    count, variance = active_units(test_mu)
    samples = prior_samples(model, settings.samples, settings.seed)
    recons = reconstructions(model, test.images)
    metrics = {
        "elbo": {"loss": recon + kl, "recon": recon, "kl": kl},
        "nll_iw": estimate.nll.mean().item(),
        "kl_per_dim": kl_per_dimension(model, test.images).tolist(),
        "posterior_mean_variance": variance.tolist(),
        "active_units": count,
        "active_threshold": ACTIVE_THRESHOLD,
    }
    if reference.classifier is not None:
        recon_accuracy = (predict_proba(reference.classifier, recons).argmax(1) == test.labels).double().mean()
        metrics["samples"] = _sample_metrics(samples, reference)
        metrics["reconstructions"] = {"classifier_accuracy": recon_accuracy.item(),
                                      "classifier_test_accuracy": reference.classifier_test_accuracy}
    return metrics | {
        "memorisation": _memorisation(samples, recons, reference),
        "linear_probe": linear_probe(encode_means(model, reference.train.images), reference.train.labels,
                                     test_mu, test.labels),
    }


def evaluate_checkpoint(checkpoint: store.Checkpoint, reference: Reference, settings: Settings = Settings(),
                        device: str | torch.device = "cpu") -> dict:
    """Compute the metrics of one checkpoint and write them to its metrics.json; returns them."""
    started = time.perf_counter()
    model = store.load_model(checkpoint, device)
    metrics = {
        "metrics_version": METRICS_VERSION,
        "checkpoint": checkpoint.name,
        "dataset": checkpoint.train_config.dataset,
        "latent_dim": checkpoint.model_config.latent_dim,
        "settings": {"iw_samples": settings.iw_samples, "samples": settings.samples,
                     "seed": settings.seed, "classifier": reference.classifier_name},
        **({} if reference.without_classifier is None else {"without_classifier": reference.without_classifier}),
        **evaluate_model(model, reference, settings),
    }
    metrics["seconds"] = time.perf_counter() - started
    store.write_json_artifact(checkpoint, store.METRICS_FILE, metrics)
    return metrics


def load_metrics(checkpoint: store.Checkpoint, settings: Settings | None = None) -> dict | None:
    """The cached metrics.json of ``checkpoint``, or None when absent, unreadable, of another
    version, or (when ``settings`` is given) computed with other settings."""
    metrics = store.read_json_artifact(checkpoint, store.METRICS_FILE)
    if not isinstance(metrics, dict) or metrics.get("metrics_version") != METRICS_VERSION:
        return None
    if settings is not None:
        cached = metrics.get("settings") or {}
        wanted = {"iw_samples": settings.iw_samples, "samples": settings.samples, "seed": settings.seed}
        if any(cached.get(key) != value for key, value in wanted.items()):
            return None
    return metrics


# One line per headline metric for tables and plots: (key path, label, what a better value is).
SUMMARY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("nll_iw", "NLL (IW)", "lower: the model gives test digits more probability"),
    ("elbo.loss", "negative ELBO", "lower: the bound the VAE is trained on"),
    ("elbo.recon", "reconstruction", "lower: decoded digits are closer to their inputs"),
    ("elbo.kl", "KL", "the information the code carries about each image; more is not better per se"),
    ("active_units", "active units", "how many latent dimensions are used at all"),
    ("samples.frechet_distance", "Frechet distance", "lower: samples look like test digits overall"),
    ("samples.mean_top_probability", "classifier confidence", "higher: samples look like some digit"),
    ("samples.class_entropy", "class coverage (nats)", "closer to log 10 = 2.303: every digit is generated"),
    ("reconstructions.classifier_accuracy", "recon accuracy", "higher: reconstructions keep the digit"),
    ("memorisation.ratio_to_recon", "NN ratio", "near 1 is healthy; well below 1 would mean copying"),
    ("linear_probe.test_accuracy", "probe accuracy", "higher: digit identity is linearly readable from mu"),
)


def metric_value(metrics: dict, path: str) -> float | None:
    """``metric_value(m, "elbo.loss")``: a nested value by dotted path, None when missing."""
    value: object = metrics
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, (int, float)) else None


def summary_row(metrics: dict) -> dict:
    """A flat row: latent_dim and every ``SUMMARY_METRICS`` value, keyed by its path."""
    return {"latent_dim": metrics.get("latent_dim"),
            **{path: metric_value(metrics, path) for path, _, _ in SUMMARY_METRICS}}
