"""Architectures that installed packages register (tests/plugin_arch, through a real entry point, never pip-installed):
the registry, the CLI, the store's checks, the layer list the page runs and the JS interpreter on it.

The pages (AppTest) and the server's digit for a decoder the page cannot run are in ``test_dashboard_plugins.py``;
live decoding in chromium in ``test_browser_plugin.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from dashboard.components import live_decoder
from tests import plugin_arch
from tests.conftest import write_fake_mnist, write_tiny_checkpoint
from tests.plugin_arch.leaky import LeakyVAE
from tests.plugin_arch.upconv import UpConvVAE
from tests.test_live_decoder import TOLERANCE, node_pixels, parse_payload, random_points, server_pixels
from vae_core import architectures, store
from vae_core.config import ConfigError, ModelConfig, TrainConfig
from vae_core.layer_list import decoder_layers, run_layers
from vae_core.models import VAEOutput, build_model
from vae_core.shapes import parameter_shapes

TINY = ["--hidden-dim", "16", "--epochs", "1", "--batch-size", "32", "--quiet"]


def run_cli(folder, *args: str) -> subprocess.CompletedProcess:
    """`vae-explorer ...` in a process that finds the test package through PYTHONPATH, as an installed one."""
    return subprocess.run([sys.executable, "-m", "vae_core", *args], capture_output=True, text=True, timeout=300,
                          env=plugin_arch.environment(folder), cwd=plugin_arch.REPO)


def seeded(config: ModelConfig, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(config).eval()


def test_an_entry_point_adds_an_architecture_built_like_the_others(plugin_site):
    assert architectures.names() == ("mlp", "conv", "leaky", "residual", "upconv")  # built-ins first
    leaky = seeded(ModelConfig(2, hidden_dim=16, architecture="leaky"))
    plain = seeded(ModelConfig(3, architecture="upconv"))  # a plain nn.Module: forward and the rest are added
    assert type(leaky) is LeakyVAE and isinstance(plain, UpConvVAE) and plain.config.latent_dim == 3
    for model, latent_dim in ((leaky, 2), (plain, 3)):
        out = model(torch.rand(5, 784))
        assert isinstance(out, VAEOutput) and out.logits.shape == (5, 784) and out.z.shape == (5, latent_dim)
        assert model.decode_images(torch.zeros(2, latent_dim)).shape == (2, 28, 28)
        shapes = {name: tuple(t.shape) for name, t in model.state_dict().items()}
        assert parameter_shapes(model.config) == shapes  # from the class on the meta device: no weights
    assert store.run_name(leaky.config, TrainConfig()) == "mnist-leaky-z2-h16-e12-b128-lr0.001-s0"


def test_broken_plugins_are_one_line_each_and_the_rest_work(install_plugins, tmp_path, tiny_data):
    folder = install_plugins(plugin_arch.GOOD | plugin_arch.BROKEN)
    lines = architectures.problems()
    assert len(lines) == 3 and all("\n" not in line for line in lines), lines
    by_name = {name: next(line for line in lines if f"entry point {name} = " in line)
               for name in ("missing", "nodecode", "conv")}
    assert "ModuleNotFoundError" in by_name["missing"] and "tests.plugin_arch.nowhere:Nope" in by_name["missing"]
    assert "NoDecode has no decode method of its own" in by_name["nodecode"]
    assert "'conv' is a built-in architecture" in by_name["conv"]
    assert architectures.names() == ("mlp", "conv", "leaky", "missing", "nodecode", "residual", "upconv")
    with pytest.raises(ConfigError) as refused:
        build_model(ModelConfig(2, architecture="nodecode"))
    assert str(refused.value) == by_name["nodecode"]
    checkpoint = write_tiny_checkpoint(tmp_path / "ck", *tiny_data, architecture="leaky", with_projections=False)
    assert store.scan(tmp_path / "ck") == ([checkpoint], [])  # the working plugin trains, saves and lists

    data = write_fake_mnist(tmp_path / "data")
    done = run_cli(folder, "train", "--arch", "nodecode", "--latent-dims", "2", *TINY, "--data-dir", str(data),
                   "--checkpoint-dir", str(tmp_path / "cli"))
    assert done.returncode == 2 and done.stderr.strip() == f"vae-explorer train: error: {by_name['nodecode']}"
    listed = run_cli(folder, "list", "--checkpoint-dir", str(tmp_path / "ck"))
    assert listed.returncode == 0 and "Traceback" not in listed.stderr
    assert sorted(listed.stderr.strip().splitlines()) == sorted(lines) and checkpoint.name in listed.stdout


def test_the_cli_lists_trains_and_loads_a_plugin_architecture(plugin_site, tmp_path):
    helped = ("import sys, runpy; sys.argv = ['vae-explorer', 'train', '--help']\n"
              "try:\n    runpy.run_module('vae_core', run_name='__main__')\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('torch', 'tests.plugin_arch.leaky') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", helped], capture_output=True, text=True, timeout=60,
                          env=plugin_arch.environment(plugin_site), cwd=plugin_arch.REPO)
    assert "mlp, conv, leaky, residual or upconv" in " ".join(done.stdout.split())
    assert done.stderr.strip().splitlines()[-1] == "[]"  # names from the metadata: neither torch nor the plugin

    data, root = write_fake_mnist(tmp_path / "data"), tmp_path / "ck"
    done = run_cli(plugin_site, "train", "--arch", "leaky", "--latent-dims", "2", *TINY, "--maps", "later",
                   "--data-dir", str(data), "--checkpoint-dir", str(root))
    assert done.returncode == 0, done.stderr
    assert "mnist-leaky-z2-h16-e1-b32-lr0.001-s0: trained, test loss" in done.stderr
    listed = run_cli(plugin_site, "list", "--json", "--checkpoint-dir", str(root))
    rows = json.loads(listed.stdout)
    assert [(r["architecture"], r["latent_dim"]) for r in rows["checkpoints"]] == [("leaky", 2)]
    assert rows["problems"] == rows["architecture_problems"] == []
    [checkpoint], _ = store.scan(root)
    model = store.load_model(checkpoint)
    assert type(model) is LeakyVAE and model.decode(torch.zeros(1, 2)).shape == (1, 784)


def test_a_plugin_checkpoint_is_checked_from_its_header_before_any_weights_are_read(plugin_site, tmp_path, tiny_data,
                                                                                    monkeypatch):
    checkpoint = write_tiny_checkpoint(tmp_path, *tiny_data, architecture="leaky", with_projections=False)
    other = seeded(ModelConfig(2, hidden_dim=8, architecture="leaky"))
    store.save_file(other.state_dict(), checkpoint.path / store.MODEL_FILE)  # hidden 8 where config.json says 16

    def no_weights(*args, **kwargs):
        raise AssertionError("weights were read before the shapes were checked")

    monkeypatch.setattr(store, "load_file", no_weights)
    checkpoints, [problem] = store.scan(tmp_path)
    assert checkpoints == [] and problem.path == checkpoint.path
    assert re.search(r"has shape \(8,?.*\) but config.json \(latent 2\) needs \(16,?.*\): config and weights come "
                     "from different models", problem.message), problem.message


def test_a_checkpoint_of_an_architecture_no_longer_installed_is_one_line(install_plugins, tmp_path, tiny_data):
    folder = install_plugins()
    checkpoint = write_tiny_checkpoint(tmp_path / "ck", *tiny_data, architecture="leaky", with_projections=False)
    write_tiny_checkpoint(tmp_path / "ck", *tiny_data, with_projections=False)
    (folder / plugin_arch.DIST / "entry_points.txt").write_text("[vae_explorer.architectures]\n")  # uninstalled
    architectures.refresh()
    checkpoints, [problem] = store.scan(tmp_path / "ck")
    assert [c.model_config.architecture for c in checkpoints] == ["mlp"] and problem.path == checkpoint.path
    assert "unknown architecture 'leaky': choose --arch mlp or conv" in problem.message


# --- the layer list the page runs -----------------------------------------------------------------------------


def without_shapes(ops: list[dict]) -> list[dict]:
    return [{key: value for key, value in op.items() if key != "out"} for op in ops]


def test_the_layer_list_is_the_decoders_module_chain():
    model = LeakyVAE(ModelConfig(2, hidden_dim=16, architecture="mlp")).eval()  # the class alone: no registry
    expected = []
    for index, module in enumerate(model.decoder):
        if isinstance(module, nn.Linear):
            expected.append({"op": "linear", "weight": f"decoder.{index}.weight", "bias": f"decoder.{index}.bias"})
        elif isinstance(module, nn.LeakyReLU):
            expected.append({"op": "leaky_relu", "slope": module.negative_slope})
        else:
            expected.append({"op": {nn.Tanh: "tanh"}[type(module)]})
    layers = decoder_layers(model)
    assert without_shapes(layers.ops) == expected and layers.reason is None
    assert [op["out"] for op in layers.ops] == [[16], [16], [16], [16], [784]]


def test_a_conv_plugin_traces_through_every_layer_kind_the_page_runs(plugin_site):
    model = seeded(ModelConfig(3, architecture="upconv"))
    layers = decoder_layers(model)
    assert [op["op"] for op in layers.ops] == [
        "linear", "relu", "reshape", "upsample", "conv2d", "leaky_relu", "conv_transpose2d", "sigmoid", "reshape",
        "tanh", "conv2d", "reshape"]
    deconv = layers.ops[6]
    assert (deconv["stride"], deconv["padding"], deconv["output_padding"], deconv["out"]) == (
        [2, 2], [1, 1], [1, 1], [4, 28, 28])
    assert layers.ops[3]["scale"] == [2, 2] and layers.ops[5]["slope"] == pytest.approx(0.1)
    z = torch.randn(6, 3)
    with torch.no_grad():
        assert torch.allclose(run_layers(layers.ops, model.state_dict(), z), model.decode(z), atol=1e-5)


def test_a_servers_plugin_decoder_is_traced_in_a_child_process_never_in_its_own(plugin_site, tmp_path, monkeypatch):
    """torch.fx patches nn.Module for every thread while it traces: given the checkpoint, the list comes from a child
    process (which finds the plugin through this process's import path) and is checked here by running it."""
    from torch import fx

    model = seeded(ModelConfig(3, architecture="upconv"))
    history = [dict.fromkeys(store.HISTORY_KEYS, 1.0)]
    checkpoint = store.save_checkpoint(tmp_path, model, TrainConfig(epochs=1), history)
    here = decoder_layers(model)

    def no_trace_here(*args, **kwargs):
        raise AssertionError("traced in the server's process")

    monkeypatch.setattr(fx, "symbolic_trace", no_trace_here)
    apart = decoder_layers(store.load_model(checkpoint).eval(), checkpoint_path=checkpoint.path)
    assert apart.reason is None and apart.ops == here.ops
    (checkpoint.path / "config.json").write_text("{}")  # the child cannot read it: no list, one phrase, no crash
    broken = decoder_layers(model, checkpoint_path=checkpoint.path)
    assert broken.ops is None and broken.reason.startswith("could not be traced in a separate process (exit status")


class Elu(LeakyVAE):
    """A decoder with a layer the page does not run."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder[4](self.decoder[2](nn.functional.elu(self.decoder[0](z))))


class Branchy(LeakyVAE):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z) if z.sum() > 0 else -self.decoder(z)


@pytest.mark.parametrize(("cls", "architecture", "reason"), [
    (None, "residual", "is not a straight chain of layers (at add: a branch, a skip or a stored tensor)"),
    (Elu, None, "calls elu"),
    (Branchy, None, "cannot be traced by torch.fx (TraceError)"),
])
def test_a_decoder_the_page_cannot_run_gets_no_list_and_says_why(plugin_site, cls, architecture, reason):
    config = ModelConfig(2, hidden_dim=16, architecture=architecture or "mlp")
    model = seeded(config) if cls is None else cls(config).eval()
    layers = decoder_layers(model)
    assert layers.ops is None and layers.reason == reason
    header, tensors = parse_payload(live_decoder.weights_payload(model, "m"))
    assert header["layers"] is None and header["server"] == reason and header["tensors"] == [] and tensors == {}
    assert live_decoder.server_note(reason).endswith(f"the page cannot run this decoder, which {reason}.")


@pytest.mark.parametrize("settings", [{"latent_dim": 2, "hidden_dim": 32, "architecture": "leaky"},
                                      {"latent_dim": 5, "architecture": "upconv"}])
def test_the_pages_interpreter_equals_decode_on_the_plugins(plugin_site, tmp_path, settings):
    """The module the browser runs, run by Node on the plugin's layer list: 100 random points, within 2/255."""
    config = ModelConfig(**settings)  # built in the test: the plugins are registered only while it runs
    model = seeded(config, seed=config.latent_dim)
    z = random_points(config.latent_dim, 7)
    pixels = node_pixels(tmp_path, live_decoder.weights_payload(model, "plugin"), z)
    difference = np.abs(pixels - server_pixels(model, z).astype(int))
    assert pixels.shape == (len(z), 784) and difference.max() <= TOLERANCE, difference.max()
