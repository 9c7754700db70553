"""The explorer's cached pictures: the manifold grid, the interpolation strip."""

from __future__ import annotations

from dashboard.shell import cache, images, points
from dashboard.shell.cache import per_checkpoint


@per_checkpoint()
def manifold_png(checkpoint, base, dims: tuple[int, int], steps: int) -> bytes:
    """PNG of the decoded grid over two latent dimensions, the others held at ``base`` [D] (a tensor)."""
    return images.manifold_png(cache.model_for(checkpoint), tuple(base.tolist()), (int(dims[0]), int(dims[1])),
                               int(steps))


@per_checkpoint(reads_data=True)
def interpolation_png(checkpoint, first: int, last: int, steps: int, factor: int) -> bytes:
    """PNG strip decoded along the line between two test digits' posterior means."""
    split, _ = cache.test_split(checkpoint.train_config.dataset)
    model, arrays = cache.model_for(checkpoint), cache.projections_for(checkpoint)
    start, end = points.test_means(model, split, arrays, [int(first), int(last)])
    return images.interpolation_png(model, start, end, int(steps), int(factor))

