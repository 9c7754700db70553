"""Defaults of the slow steps and thresholds the pages share, in a module that imports nothing heavy.

The CLI builds its help from these without importing torch, so `vae-explorer --help`
starts at once; the modules that do the work (projections, classifier, evaluate)
import them from here.
"""

DEFAULT_TSNE_POINTS = 5000  # t-SNE maps a fixed random subset of the test means
TSNE_PERPLEXITY = 30.0
# sklearn's default is 1,000 (250 of them early exaggeration); from 500 the map of 5,000 test means
# keeps its trustworthiness, and below 400 it loses it (benchmarks/map_speed.py prints both).
TSNE_ITERATIONS = 500
# Barnes-Hut's accuracy (sklearn's default 0.5): at 0.8 the gradient costs about 0.6x the CPU with the same
# trustworthiness (0.9894 at z = 10, 0.978 at z = 50; benchmarks/map_speed.py prints both).
TSNE_ANGLE = 0.8

CLASSIFIER_EPOCHS = 5
CLASSIFIER_BATCH_SIZE = 64  # twice the steps of 128 per epoch: +0.1 point at equal epochs for this small net

IW_SAMPLES = 100  # importance samples per test image for the NLL estimate
PRIOR_SAMPLES = 10_000  # prior samples judged by the classifier
EVALUATION_SEED = 0

KL_COLLAPSED = 0.01  # nats: a dimension whose average KL is below this is unused (when metrics.json has no flags)
UNSURE = 0.6  # a classifier's top probability below which a reading also names the runner-up


def tsne_description(points: int = DEFAULT_TSNE_POINTS) -> str:
    """The settings that decide how long t-SNE takes, in words."""
    return (f"{points:,} points, perplexity {TSNE_PERPLEXITY:g}, {TSNE_ITERATIONS:,} iterations "
            f"(Barnes-Hut, angle {TSNE_ANGLE:g})")
