"""Traversals' cached figure: every informative dimension moved around a start point."""

from __future__ import annotations

from dashboard.shell import cache, points
from dashboard.shell.cache import per_checkpoint


@per_checkpoint(reads_data=True, max_entries=32)
def traversal_for(checkpoint, start, rows: int, columns: int):
    """The decoded traversal (``vae_core.figures.Traversal``) of the ``rows`` most informative dims around start [D].

    Rows follow ``cache.latent_order_for`` and mark ``points.collapsed_dims``, as the explorer's sliders do.
    """
    from vae_core import figures, latent

    order, scores, note = cache.latent_order_for(checkpoint)
    collapsed = points.collapsed_dims(checkpoint.model_config.latent_dim, cache.metrics_for(checkpoint), scores)
    ranking = latent.DimensionRanking(order, scores, frozenset(collapsed), note)
    return figures.traversal(cache.model_for(checkpoint), start, ranking, int(rows), int(columns))
