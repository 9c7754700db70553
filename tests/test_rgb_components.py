"""RGB pictures and any side in our components' payloads and JS (issue 21, "your own images").

The live decoder's weights say the image's shape and the page's interpreter (run by Node) decodes RGB models of
side 16 and 32 as torch does; base.js draws levels, channels first, as RGBA pixels; the server's picture for a
decoder the page cannot run is sent channels first too; the map's thumbnails (a PNG sheet, or gzipped levels) carry
their shape and hold the data set's images, and ``payloads`` builds them from a registered RGB set.
The same in a real browser: tests/test_browser_rgb.py.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from dashboard.components import live_decoder, sprites
from tests.conftest import missing_prerequisite
from tests.rgb_support import register_tinted
from tests.test_live_decoder import BASE_JS, JS, TOLERANCE, node_pixels, parse_payload, random_points
from vae_core import explore
from vae_core.config import ModelConfig
from vae_core.data import load_split
from vae_core.layer_list import Layers
from vae_core.models import build_model

SHAPES = [("conv", 3, 32), ("mlp", 3, 16), ("conv", 1, 16), ("mlp", 3, 8)]


def model_of(architecture: str, channels: int, side: int, latent_dim: int = 4):
    torch.manual_seed(side + channels)
    config = ModelConfig.for_images(latent_dim, channels, side, hidden_dim=32, architecture=architecture)
    return build_model(config).eval()


def levels_of(model, z: np.ndarray) -> np.ndarray:
    """What the server shows, as levels channels first [N, C x S x S] (the layout of the decoder's logits)."""
    pictures = explore.to_uint8(model.decode_images(torch.from_numpy(z)).numpy())
    return (pictures if pictures.ndim == 3 else pictures.transpose(0, 3, 1, 2)).reshape(len(z), -1)


def run_node(folder: Path, script: str, files: dict[str, bytes | str]) -> object:
    """Run ``script`` (an ES module beside live_decoder.js and base.js, as they are served) with Node; its JSON."""
    node = shutil.which("node")
    if node is None:
        missing_prerequisite("node not found: install Node.js (apt-get install nodejs) for the JS unit test")
    for source in (JS, BASE_JS):
        shutil.copy(source, folder / source.name)
    (folder / "package.json").write_text('{"type": "module"}')
    (folder / "run.mjs").write_text(script)
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    done = subprocess.run([node, "run.mjs"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the live decoder -------------------------------------------------------------------------


@pytest.mark.parametrize(("architecture", "channels", "side"), SHAPES)
def test_the_weights_say_the_shape_and_the_page_decodes_it_as_torch_does(architecture, channels, side, tmp_path):
    model = model_of(architecture, channels, side)
    payload = live_decoder.weights_payload(model, "m")
    header, _ = parse_payload(payload)
    assert (header["channels"], header["side"]) == (channels, side)
    assert header["layers"][-1]["out"] == [channels * side * side]
    z = random_points(4, side)
    browser = node_pixels(tmp_path, payload, z)
    expected = levels_of(model, z).astype(int)
    assert browser.shape == expected.shape == (len(z), channels * side * side)
    assert np.abs(browser - expected).max() <= TOLERANCE


def test_mnists_weights_still_say_one_channel_of_28(shipped_root):
    from vae_core import store

    checkpoint = store.scan(shipped_root)[0][0]
    header, _ = parse_payload(live_decoder.weights_payload(store.load_model(checkpoint), checkpoint.name))
    assert (header["channels"], header["side"]) == (1, 28)


DRAW_SCRIPT = """
import { readFileSync } from "node:fs";
import { drawPicture, drawGrey } from "./base.js";
import "./live_decoder.js";
// A canvas as far as the drawing functions use one: its size, and the ImageData last put on it.
const canvas = () => ({
  width: 28, height: 28,
  getContext() {
    const owner = this;
    return { createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(4 * w * h) }),
             putImageData: (image) => { owner.drawn = image; } };
  },
});
const seen = (c) => [c.width, c.height, Array.from(c.drawn.data)];
const cases = JSON.parse(readFileSync("cases.json", "utf8"));
const out = cases.map(([levels, channels, side]) => {
  const drawn = canvas(), guessed = canvas();
  drawPicture(drawn, levels, channels, side);
  globalThis.__vaeLiveDecoder.drawDigit(guessed, levels); // no model: the shape its count implies
  return [seen(drawn), seen(guessed)];
});
const grey = canvas();
drawGrey(grey, cases[0][0]);
process.stdout.write(JSON.stringify({ out, grey: seen(grey) }));
"""


def test_the_page_draws_levels_channels_first_as_rgba_pixels(tmp_path):
    rng = np.random.default_rng(0)
    cases = [(1, 28), (3, 32), (3, 16), (1, 8)]
    levels = [rng.integers(0, 256, size=c * s * s) for c, s in cases]
    answer = run_node(tmp_path, DRAW_SCRIPT, {"cases.json": json.dumps(
        [[v.tolist(), c, s] for v, (c, s) in zip(levels, cases, strict=True)])})
    for (channels, side), values, (drawn, guessed) in zip(cases, levels, answer["out"], strict=True):
        assert drawn == guessed
        width, height, rgba = drawn
        assert (width, height) == (side, side)
        rgba = np.asarray(rgba).reshape(side, side, 4)
        planes = values.reshape(channels, side, side)
        expected = np.stack([planes[0]] * 3 if channels == 1 else list(planes), axis=-1)
        assert np.array_equal(rgba[..., :3], expected) and (rgba[..., 3] == 255).all()
    assert answer["grey"] == answer["out"][0][0]  # drawGrey: MNIST's 28 x 28 grey, as before


PARSE_SCRIPT = """
import { readFileSync } from "node:fs";
import { parseWeights } from "./live_decoder.js";
try {
  const model = parseWeights(new Uint8Array(readFileSync("weights.bin")));
  process.stdout.write(JSON.stringify([model.channels, model.side, model.pixels]));
} catch (error) {
  process.stdout.write(JSON.stringify(String(error.message)));
}
"""


def test_a_decoder_that_does_not_end_in_the_stated_shape_is_refused(tmp_path):
    payload = live_decoder.weights_payload(model_of("mlp", 1, 28), "m")
    assert run_node(tmp_path, PARSE_SCRIPT, {"weights.bin": payload}) == [1, 28, 784]
    wrong = payload.replace(b'"side": 28', b'"side": 14', 1)  # the same length: the layout stays valid
    assert run_node(tmp_path, PARSE_SCRIPT, {"weights.bin": wrong}) == (
        "the decoder does not end in 1 x 14 x 14 logits")
    rgb = live_decoder.weights_payload(model_of("conv", 3, 32), "m")
    assert run_node(tmp_path, PARSE_SCRIPT, {"weights.bin": rgb}) == [3, 32, 3072]


def test_the_servers_picture_is_sent_channels_first(monkeypatch):
    from dashboard.shell import cache, payloads

    model = model_of("conv", 3, 16)
    monkeypatch.setattr(payloads, "decoder_layers_for", lambda checkpoint: Layers(None, "is not one we run"))
    monkeypatch.setattr(cache, "model_for", lambda checkpoint: model)
    digit = payloads.server_digit(None, [0.5, -1.0, 2.0, 0.0])
    assert digit.point == [0.5, -1.0, 2.0, 0.0]
    assert digit.note == live_decoder.server_note("is not one we run")
    expected = levels_of(model, np.asarray([digit.point], dtype=np.float32))[0]
    assert digit.grey == expected.tolist() and len(digit.grey) == 3 * 16 * 16
    picture = explore.to_uint8(explore.decode(model, torch.tensor([digit.point])))[0]  # [16, 16, 3]
    assert np.array_equal(np.asarray(digit.grey).reshape(3, 16, 16).transpose(1, 2, 0), picture)


# --- the map's thumbnails ---------------------------------------------------------------------


def read_sprite(payload: bytes) -> tuple[dict, bytes]:
    assert payload[:4] == sprites.MAGIC
    (length,) = struct.unpack("<I", payload[4:8])
    return json.loads(payload[8:8 + length]), payload[8 + length:]


def flat_images(count: int, channels: int, side: int, seed: int = 0) -> np.ndarray:
    """[count, C x S x S] in [0, 1], channels first, on the 255 grid (so the uint8 round trip is exact)."""
    return np.random.default_rng(seed).integers(0, 256, size=(count, channels * side * side)) / 255.0


@pytest.mark.parametrize(("channels", "side"), [(3, 16), (3, 32), (1, 16), (1, 28)])
def test_the_png_sheet_says_its_shape_and_holds_each_image_in_colour(channels, side):
    images = flat_images(250, channels, side)
    header, body = read_sprite(sprites.sprite_payload(images, "sheet", channels, side))
    assert header == {"id": "sheet", "count": 250, "columns": 100, "channels": channels, "side": side}
    sheet = Image.open(io.BytesIO(body))
    assert sheet.mode == ("L" if channels == 1 else "RGB") and sheet.size == (100 * side, 3 * side)
    sheet = np.asarray(sheet)
    for k in (0, 99, 100, 249):
        tile = sheet[(k // 100) * side:(k // 100 + 1) * side, (k % 100) * side:(k % 100 + 1) * side]
        planes = np.rint(images[k] * 255).reshape(channels, side, side)
        assert np.array_equal(tile, planes[0] if channels == 1 else planes.transpose(1, 2, 0)), k
    assert not sheet[2 * side:, 50 * side:].any()  # after the last image: black


@pytest.mark.parametrize(("channels", "side"), [(3, 16), (3, 32), (1, 28)])
def test_the_gzipped_sheet_says_its_shape_and_holds_the_levels_channels_first(channels, side):
    images = flat_images(30, channels, side, seed=1)
    header, body = read_sprite(sprites.gzip_sprite_payload(images, "train", channels, side))
    assert header == {"id": "train", "count": 30, "format": "grey-gzip" if channels == 1 else "rgb-gzip",
                      "channels": channels, "side": side}
    levels = np.frombuffer(gzip.decompress(body), dtype=np.uint8)
    assert np.array_equal(levels, np.rint(images * 255).reshape(-1))


def test_mnists_sheet_is_the_grey_28_x_28_sheet_it_was():
    """The map's callers pass MNIST's test images as [N, 28, 28]: the same PNG as before shapes were stated."""
    images = flat_images(120, 1, 28, seed=2)
    _, body = read_sprite(sprites.sprite_payload(images.reshape(-1, 28, 28), "mnist"))
    sheet = np.asarray(Image.open(io.BytesIO(body)))
    old = np.zeros((200, 28, 28), dtype=np.uint8)
    old[:120] = np.rint(images * 255).reshape(-1, 28, 28)
    assert np.array_equal(sheet, old.reshape(2, 100, 28, 28).transpose(0, 2, 1, 3).reshape(56, 2800))


def test_the_payloads_build_the_sheets_of_a_registered_rgb_set(tmp_path, monkeypatch):
    from dashboard.shell import payloads

    root = tmp_path / "checkpoints"
    register_tinted(root, "tinted16", 16, tmp_path / "folder")
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "no-data"))
    payloads._sprite.clear()
    payloads._train_sprite.clear()
    for (sprite_id, payload), train in ((payloads.sprite_for("tinted16"), False),
                                        (payloads.train_sprite_for("tinted16"), True)):
        split = load_split("tinted16", train=train, checkpoint_dir=root)
        expected = np.rint(split.images.numpy() * 255).astype(np.uint8)  # [N, 3 x 16 x 16], channels first
        header, body = read_sprite(payload())
        assert (header["id"], header["count"], header["channels"], header["side"]) == (
            sprite_id, len(expected), 3, 16)
        if train:
            assert header["format"] == "rgb-gzip"
            assert np.array_equal(np.frombuffer(gzip.decompress(body), dtype=np.uint8), expected.reshape(-1))
        else:
            sheet = np.asarray(Image.open(io.BytesIO(body)))
            assert sheet.shape == (16, 100 * 16, 3)
            tile = sheet[:, 7 * 16:8 * 16]
            assert np.array_equal(tile, expected[7].reshape(3, 16, 16).transpose(1, 2, 0))
            assert np.abs(tile[..., 0].astype(int) - tile[..., 2]).max() > 100  # tinted: red is not blue


def test_a_set_registered_again_is_read_again_not_served_from_memory(tmp_path, monkeypatch):
    from dashboard.shell import cache, payloads
    from vae_core import user_data

    root = tmp_path / "checkpoints"
    register_tinted(root, "tinted16", 16, tmp_path / "folder")
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(root))
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "no-data"))
    before_id, before_payload = payloads.sprite_for("tinted16")
    before_sheet, (before_split, _) = before_payload(), cache.test_split("tinted16")
    # The same folder split with another seed: other test images under the same name (a running app keeps its caches).
    user_data.register(root, "tinted16", tmp_path / "folder", side=16, seed=1, replace=True)
    after_id, after_payload = payloads.sprite_for("tinted16")
    after_split, _ = cache.test_split("tinted16")
    expected = load_split("tinted16", train=False, checkpoint_dir=root).images
    assert torch.equal(after_split.images, expected) and not torch.equal(before_split.images, expected)
    assert after_id != before_id and read_sprite(after_payload())[1] != read_sprite(before_sheet)[1]
    assert read_sprite(after_payload())[0]["id"] == after_id
