"""Checkpoint format versions: each older config.json is migrated on read, never rejected.

Version 1: model {latent_dim, hidden_dim, input_dim}, train {dataset, epochs, batch_size, lr, seed};
           every model was the MLP trained on the plain negative ELBO.
Version 2: model gains ``architecture`` ("mlp" | "conv"), train gains ``beta`` (the KL weight).
Version 3: gains ``source``: null for a model trained here, else where its weights came from
           ({kind: "import", format, file, sha256, imported, ...}: ``vae-explorer import``); an
           imported model has no history.json.
Version 4: model gains ``channels`` (1 grey, 3 RGB) and ``side`` (images side x side): every model before was
           trained on 28 x 28 grey images.

A migration takes the parsed config.json of version N and returns version N + 1; reading
applies them in order, so a version-1 checkpoint (the shipped ones, and every user's) loads
as it is, with no retraining. A version newer than ``FORMAT_VERSION`` is refused with the fix.
"""

from __future__ import annotations

from collections.abc import Callable

FORMAT_VERSION = 4
AUXILIARY_FORMAT_VERSION = 1  # the digit classifiers' config.json; unchanged since version 1


def _v1_to_v2(data: dict) -> dict:
    """Version 1 only knew the MLP with beta = 1: say so explicitly."""
    model, train = data.get("model"), data.get("train")
    migrated = {**data, "format_version": 2}
    if isinstance(model, dict):
        migrated["model"] = {**model, "architecture": "mlp"}
    if isinstance(train, dict):
        migrated["train"] = {**train, "beta": 1.0}
    return migrated


def _v2_to_v3(data: dict) -> dict:
    """Version 2 only knew models trained here: say so explicitly."""
    return {**data, "format_version": 3, "source": None}


def with_image_shape(model: dict) -> dict:
    """A stored model config written before images had a shape (a version-3 checkpoint's, a queued job's): every
    model then read 28 x 28 grey images."""
    return {"channels": 1, "side": 28, **model}


def _v3_to_v4(data: dict) -> dict:
    """Version 3 only knew 28 x 28 grey images: say so explicitly."""
    model = data.get("model")
    migrated = {**data, "format_version": 4}
    if isinstance(model, dict):
        migrated["model"] = with_image_shape(model)
    return migrated


MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


class FormatError(ValueError):
    """The config.json carries a version this code cannot read; the message names the fix."""


def migrate(data: dict, name: str) -> dict:
    """config.json of any known version -> the current version; ``name`` is the checkpoint's, for messages."""
    version = data.get("format_version")
    known = isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= FORMAT_VERSION
    if not known:
        raise FormatError(f"{name} has checkpoint format version {version!r}, this vae_core reads "
                          f"versions 1 to {FORMAT_VERSION}: upgrade vae-latent-explorer or retrain it")
    while data["format_version"] < FORMAT_VERSION:
        data = MIGRATIONS[data["format_version"]](data)
    return data
