"""t-SNE in a second process: the same map as in this one, and a failed child is one clear error."""

from __future__ import annotations

import numpy as np
import pytest

from vae_core.tsne_process import TsneProcess, tsne_2d


def test_the_child_maps_the_points_as_this_process_does():
    points = np.random.default_rng(0).normal(size=(120, 5))
    with TsneProcess(points, seed=3) as pending:
        there = pending.result()
    assert there.shape == (120, 2)
    assert np.allclose(there, tsne_2d(points, seed=3), atol=1e-6)
    assert not pending.folder.exists()  # its files go with it


def test_a_failed_child_raises_one_line_its_error():
    expected = (r"^the t-SNE process exited with status 1: "  # scikit-learn 1.4 names no numbers
                r"ValueError: perplexity (\(30.0\) )?must be less than n_samples( \(3\))?$")
    with TsneProcess(np.zeros((3, 2)), seed=0) as pending, pytest.raises(RuntimeError, match=expected):
        pending.result()  # perplexity 30 needs more than 3 points


def test_an_unfinished_child_is_killed_when_the_parent_gives_up():
    points = np.random.default_rng(1).normal(size=(3000, 10))
    with pytest.raises(KeyboardInterrupt), TsneProcess(points, seed=0) as pending:
        raise KeyboardInterrupt
    assert pending.process.returncode is not None and not pending.folder.exists()
