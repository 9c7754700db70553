"""Class arithmetic's cached arrays: the class means and the strips decoded from them."""

from __future__ import annotations

from dashboard.shell import cache
from dashboard.shell.cache import per_checkpoint


@per_checkpoint(shared=True, reads_data=True, max_entries=32)
def class_means_for(checkpoint):
    """[10, D] mean posterior mean of each class over the test set (cached means, else the test images), or None."""
    from vae_core import exports, latent

    arrays = cache.projections_for(checkpoint)
    if arrays is not None:
        return latent.class_means(arrays["mu"], arrays["labels"])
    split, _ = cache.test_split(checkpoint.train_config.dataset)
    if split is None:
        return None
    return latent.class_means(exports.encode_test_set(cache.model_for(checkpoint), split.images)[0], split.labels)


@per_checkpoint(reads_data=True)
def morph(checkpoint, first: int, last: int, steps: int):
    """Decoded images [steps, 28, 28] from class ``first``'s mean to class ``last``'s."""
    from vae_core import figures

    return figures.morph_images(cache.model_for(checkpoint), class_means_for(checkpoint), int(first), int(last),
                                int(steps))


@per_checkpoint(reads_data=True)
def direction(checkpoint, start, first: int, last: int, steps: int, strength: float):
    """Decoded images [steps, 28, 28]: start [D] plus up to ``strength`` x (mean of ``last`` - mean of ``first``)."""
    from vae_core import figures

    return figures.direction_images(cache.model_for(checkpoint), start, class_means_for(checkpoint), int(first),
                                    int(last), int(steps), float(strength))
