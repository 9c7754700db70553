import math

import pytest
import torch

from tests.conftest import TINY_MODEL, TINY_TRAIN
from vae_core.config import ConfigError, TrainConfig
from vae_core.train import (
    TrainingDiverged,
    evaluate_elbo,
    new_training_state,
    state_from_tensors,
    state_to_tensors,
    train_vae,
)

CPU = torch.device("cpu")


def test_history_has_one_row_per_epoch_with_finite_terms(tiny_data):
    state = train_vae(TINY_MODEL, TINY_TRAIN, *tiny_data, device=CPU)
    assert [r.epoch for r in state.history] == [1, 2]
    for row in state.history:
        assert math.isclose(row.train_loss, row.train_recon + row.train_kl)
        assert math.isclose(row.test_loss, row.test_recon + row.test_kl)
        assert row.seconds > 0 and row.train_kl >= 0
    assert state.history[1].test_loss < state.history[0].test_loss
    assert not state.model.training


def test_training_is_deterministic_under_a_seed(tiny_data):
    first = train_vae(TINY_MODEL, TINY_TRAIN, *tiny_data, device=CPU)
    second = train_vae(TINY_MODEL, TINY_TRAIN, *tiny_data, device=CPU)
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [r.test_loss for r in first.history] == [r.test_loss for r in second.history]
    other_seed = train_vae(TINY_MODEL, TrainConfig(epochs=2, batch_size=32, seed=1), *tiny_data, device=CPU)
    assert other_seed.history[-1].test_loss != first.history[-1].test_loss


def test_resuming_from_saved_state_matches_an_uninterrupted_run(tiny_data):
    straight = train_vae(TINY_MODEL, TINY_TRAIN, *tiny_data, device=CPU)
    one_epoch = train_vae(TINY_MODEL, TrainConfig(epochs=1, batch_size=32), *tiny_data, device=CPU)
    tensors, meta = state_to_tensors(one_epoch)
    restored = state_from_tensors(tensors, meta, TINY_MODEL, TINY_TRAIN, CPU)
    resumed = train_vae(TINY_MODEL, TINY_TRAIN, *tiny_data, device=CPU, state=restored)
    assert [r.test_loss for r in resumed.history] == [r.test_loss for r in straight.history]


def test_nan_loss_stops_with_a_clear_error(tiny_data):
    train, test = tiny_data
    poisoned = train._replace(images=train.images.clone())
    poisoned.images[5, 10] = float("nan")
    with pytest.raises(TrainingDiverged, match="loss became nan"):
        train_vae(TINY_MODEL, TINY_TRAIN, poisoned, test, device=CPU)


def test_batch_larger_than_dataset_is_refused(tiny_data):
    with pytest.raises(ConfigError, match="larger than the 256 training images"):
        train_vae(TINY_MODEL, TrainConfig(batch_size=1000), *tiny_data, device=CPU)


def test_evaluate_elbo_is_repeatable_and_restores_mode(tiny_data):
    state = new_training_state(TINY_MODEL, TINY_TRAIN, CPU)
    state.model.train()
    first = evaluate_elbo(state.model, tiny_data[1].images)
    assert first == evaluate_elbo(state.model, tiny_data[1].images)
    assert state.model.training
    assert math.isclose(first["loss"], first["recon"] + first["kl"])
