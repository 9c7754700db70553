"""A model's decoder as a list of layers that a plain interpreter (the page's JS) can run, traced with torch.fx.

``decoder_layers(model)`` traces ``model.decode`` (``torch.fx.symbolic_trace`` of a wrapper module),
runs the graph once on zeros to learn each step's shape, and turns it into a list of ops when it is
a straight chain of the supported layers. Each op is a JSON-ready dict; ``out`` is the shape of its
result for one image (no batch dimension), the latent vector [D] being the chain's input:

    {"op": "linear", "weight": "decoder.0.weight", "bias": "decoder.0.bias" | None, "out": [N]}
    {"op": "conv2d", "weight", "bias", "stride": [sy, sx], "padding": [py, px], "out": [C, H, W]}
    {"op": "conv_transpose2d", "weight", "bias", "stride", "padding", "output_padding": [oy, ox], "out"}
    {"op": "upsample", "scale": [sy, sx], "out"}          nearest neighbour, integer scale
    {"op": "relu" | "tanh" | "sigmoid", "out"}  and  {"op": "leaky_relu", "slope": s, "out"}
    {"op": "reshape", "out"}                              view, reshape, flatten, unflatten, squeeze...

Weights are named as in the model's state_dict and laid out as torch stores them (Linear [out, in],
Conv2d [out, in, kH, kW], ConvTranspose2d [in, out, kH, kW]). The last op's ``out`` holds 784
logits. Anything else (a branch, a skip connection, another layer or function) gives no list and a
one-phrase reason, and the caller decodes on the server. The list is checked by running it
(``run_layers``) against ``model.decode`` on random points: a list that does not reproduce decode
is never sent.
"""

from __future__ import annotations

import json
import math
import operator
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata
from torch.nn import functional as F

TRACE_BATCH = 2  # images in the shape-learning run: a reshape that mixes images changes this leading size
MAX_VALUES = 1 << 20  # per image and layer: the page keeps two buffers of the largest layer per model
CHECK_POINTS = 8
CHECK_TOLERANCE = 1e-4  # on logits, relative to their scale: float32 rounding, not a different function
RESHAPES = {"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "contiguous"}
ACTIVATIONS = {F.relu: "relu", torch.relu: "relu", torch.tanh: "tanh", F.tanh: "tanh", torch.sigmoid: "sigmoid",
               F.sigmoid: "sigmoid"}


class Unsupported(Exception):
    """The decoder is not a chain the page runs; the message says why, as a phrase after 'a decoder which'."""


@dataclass(frozen=True)
class Layers:
    """A decoder's ops (None when the page cannot run it) and, then, why not."""

    ops: list[dict] | None
    reason: str | None = None

    def tensor_names(self) -> list[str]:
        """The weights and biases the ops read, in their order: what the payload sends."""
        return [op[key] for op in self.ops or [] for key in ("weight", "bias") if op.get(key)]


class _Decode(nn.Module):
    """forward(z) = model.decode(z), so torch.fx traces decode alone; module names gain a 'model.' prefix."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.model.decode(z)


def _linear(name: str, out: int) -> dict:
    return {"op": "linear", "weight": f"{name}.weight", "bias": f"{name}.bias", "out": [out]}


def _deconv(name: str, out: list[int]) -> dict:
    return {"op": "conv_transpose2d", "weight": f"{name}.weight", "bias": f"{name}.bias", "stride": [2, 2],
            "padding": [1, 1], "output_padding": [0, 0], "out": out}


def _built_in_ops(model: nn.Module) -> list[dict] | None:
    """The built-in decoders' op lists, as tracing gives them (the tests compare both), without tracing:
    torch.fx patches ``nn.Module.__call__`` for every thread while it traces, so a trace in one session would
    break the forward passes that other sessions of the server run at that moment."""
    from .models.conv import CHANNELS, ConvVAE
    from .models.mlp import VAE
    from .shapes import conv_features

    config = model.config
    if type(model) is VAE:
        hidden = config.hidden_dim
        return [_linear("decoder_hidden", hidden), {"op": "relu", "out": [hidden]},
                _linear("decoder_out", config.input_dim)]
    if type(model) is ConvVAE:
        (first, second), quarter, half = CHANNELS, config.side // 4, config.side // 2
        features = conv_features(config.side)
        return [_linear("decoder_in", features), {"op": "relu", "out": [features]},
                {"op": "reshape", "out": [second, quarter, quarter]},
                _deconv("decoder_deconv1", [first, half, half]), {"op": "relu", "out": [first, half, half]},
                _deconv("decoder_deconv2", list(config.image_shape)), {"op": "reshape", "out": [config.input_dim]}]
    return None


_TRACE_LOCK = threading.Lock()  # one trace at a time in this process
TRACE_TIMEOUT_S = 120  # a child process tracing one decoder
MAX_TRACE_OUTPUT = 1 << 20  # bytes of the child's answer: an op list is a few kilobytes


def decoder_layers(model: nn.Module, trace: bool = False, checkpoint_path: Path | None = None) -> Layers:
    """The op list of ``model.decode`` (see the module's docstring), or None and the reason.

    The built-in architectures have theirs declared; ``trace`` traces them too (the tests compare both).
    Another decoder is traced here, or, given the checkpoint it was loaded from, in a child process: torch.fx
    patches ``nn.Module`` for every thread while it traces, so a server with other sessions decoding never
    traces in its own process. Either list is checked here by running it.
    """
    try:
        ops = None if trace else _built_in_ops(model)
        if ops is None:
            ops = _ops_traced_apart(checkpoint_path) if checkpoint_path is not None else _ops_traced_here(model)
        _check_sizes(ops, model.config.input_dim)
        _check_reproduces(model, ops)
    except Unsupported as why:
        return Layers(None, str(why))
    return Layers(ops)


def _ops_traced_here(model: nn.Module) -> list[dict]:
    with _TRACE_LOCK:
        graph_module = _traced(model)
    return [op for node in _chain(graph_module.graph) if (op := _op(node, graph_module)) is not None]


def _ops_traced_apart(checkpoint_path: Path) -> list[dict]:
    """The op list that ``python -m vae_core.layer_list CHECKPOINT`` prints (it sees this process's import path,
    so it finds the same architectures)."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    try:
        done = subprocess.run([sys.executable, "-m", "vae_core.layer_list", str(checkpoint_path)], env=environment,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=TRACE_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise Unsupported(f"took over {TRACE_TIMEOUT_S} s to trace") from error
    lines = done.stdout.decode(errors="replace").strip().splitlines() if len(done.stdout) <= MAX_TRACE_OUTPUT else []
    try:
        answer = json.loads(lines[-1])
    except (IndexError, ValueError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("unsupported"), str):
        raise Unsupported(answer["unsupported"][:200])
    ops = answer.get("ops") if isinstance(answer, dict) else None
    if not isinstance(ops, list) or not all(isinstance(op, dict) and isinstance(op.get("op"), str) for op in ops):
        raise Unsupported(f"could not be traced in a separate process (exit status {done.returncode})")
    return ops


def _traced(model: nn.Module) -> fx.GraphModule:
    """decode's graph, each node's output shape in ``meta['tensor_meta']`` (from a run on zeros [2, D])."""
    latent_dim = model.config.latent_dim
    try:
        graph_module = fx.symbolic_trace(_Decode(model))
        parameter = next(model.parameters())
        with torch.no_grad():
            ShapeProp(graph_module).propagate(torch.zeros(TRACE_BATCH, latent_dim, dtype=parameter.dtype,
                                                          device=parameter.device))
    except Exception as error:  # fx refuses data-dependent control flow and more, in many exception types
        raise Unsupported(f"cannot be traced by torch.fx ({type(error).__name__})") from error
    return graph_module


def _is_tensor(node: fx.Node) -> bool:
    return isinstance(node.meta.get("tensor_meta"), TensorMetadata)


def _chain(graph: fx.Graph) -> list[fx.Node]:
    """The tensor-valued nodes, each taking exactly the one before it (the input first), the last returned.

    Nodes of other values (a size read for a view) are allowed around them; a branch or a skip is not.
    """
    nodes = list(graph.nodes)
    previous = next(node for node in nodes if node.op == "placeholder")
    chain = []
    for node in nodes:
        if node.op in ("placeholder", "output") or not _is_tensor(node):
            continue
        inputs = [arg for arg in node.all_input_nodes if _is_tensor(arg)]
        if inputs != [previous]:
            raise Unsupported(f"is not a straight chain of layers (at {node.name}: a branch, a skip or a stored "
                              "tensor)")
        chain.append(node)
        previous = node
    output = next(node for node in nodes if node.op == "output")
    if output.args[0] is not previous:
        raise Unsupported("does not return the end of its chain of layers")
    return chain


def _shape(node: fx.Node) -> list[int]:
    """The node's output shape for one image; the leading (batch) size must be the trace's."""
    shape = list(node.meta["tensor_meta"].shape)
    if not shape or shape[0] != TRACE_BATCH or not node.meta["tensor_meta"].dtype.is_floating_point:
        raise Unsupported(f"mixes the images of a batch or leaves floats at {node.name}")
    return shape[1:]


def _op(node: fx.Node, graph_module: fx.GraphModule) -> dict | None:
    """The op of one chain node, None for one that changes nothing (Identity, Dropout in eval, contiguous)."""
    previous = next(arg for arg in node.all_input_nodes if _is_tensor(arg))
    shapes = (_shape(previous) if previous.op != "placeholder" else list(previous.meta["tensor_meta"].shape[1:]),
              _shape(node))
    if node.op == "call_module":
        module = graph_module.get_submodule(node.target)
        op = _module_op(node.target.removeprefix("model."), module, *shapes)
    elif node.op == "call_function":
        op = _function_op(node, *shapes)
    elif node.op == "call_method":
        op = _method_op(node)
    else:
        raise Unsupported(f"reads {node.op} {node.target}")
    return None if op is None else {**op, "out": shapes[1]}


def _pair(value) -> list[int]:
    return [int(v) for v in value] if isinstance(value, (tuple, list)) else [int(value)] * 2


def _module_op(name: str, module: nn.Module, before: list[int], after: list[int]) -> dict | None:
    """The op of a layer module named ``name`` in the model."""
    simple = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Flatten: "reshape", nn.Unflatten: "reshape"}
    kind = type(module)
    if kind in simple:
        return {"op": simple[kind]}
    if kind is nn.LeakyReLU:
        return {"op": "leaky_relu", "slope": float(module.negative_slope)}
    if kind is nn.Identity or (isinstance(module, nn.Dropout) and not module.training):
        return None
    if kind is nn.Linear:
        return {"op": "linear", **_weights(name, module)}
    if kind in (nn.Conv2d, nn.ConvTranspose2d):
        return _conv_op(name, module)
    if kind is nn.Upsample and module.mode == "nearest":
        return _upsample_op(before, after)
    raise Unsupported(f"uses {kind.__name__}{'' if kind is not nn.Upsample else f' ({module.mode})'}")


def _weights(name: str, module: nn.Module) -> dict:
    return {"weight": f"{name}.weight", "bias": f"{name}.bias" if module.bias is not None else None}


def _conv_op(name: str, module: nn.Conv2d | nn.ConvTranspose2d) -> dict:
    plain = (module.groups == 1 and tuple(module.dilation) == (1, 1) and module.padding_mode == "zeros"
             and not isinstance(module.padding, str))
    if not plain:
        raise Unsupported(f"uses a {type(module).__name__} with groups, dilation, string or non-zero padding")
    op = {"weight": f"{name}.weight", "bias": f"{name}.bias" if module.bias is not None else None,
          "stride": _pair(module.stride), "padding": _pair(module.padding)}
    if isinstance(module, nn.ConvTranspose2d):
        return {"op": "conv_transpose2d", **op, "output_padding": _pair(module.output_padding)}
    return {"op": "conv2d", **op}


def _upsample_op(before: list[int], after: list[int]) -> dict:
    """Nearest-neighbour upsampling by whole factors: [C, H, W] -> [C, sy H, sx W]."""
    whole = len(before) == len(after) == 3 and before[0] == after[0] and all(
        a % b == 0 for a, b in zip(after[1:], before[1:], strict=True))
    if not whole:
        raise Unsupported(f"upsamples {before} to {after}, not by whole factors")
    return {"op": "upsample", "scale": [after[1] // before[1], after[2] // before[2]]}


def _function_op(node: fx.Node, before: list[int], after: list[int]) -> dict:
    """The op of a function call (F.relu, torch.tanh, F.leaky_relu, torch.flatten, F.interpolate, ...)."""
    target = node.target
    if target in ACTIVATIONS:
        return {"op": ACTIVATIONS[target]}
    if target is F.leaky_relu:
        slope = node.kwargs.get("negative_slope", node.args[1] if len(node.args) > 1 else 0.01)
        return {"op": "leaky_relu", "slope": float(slope)}
    if target in (torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze):
        return {"op": "reshape"}
    if target is F.interpolate and node.kwargs.get("mode", "nearest") == "nearest":
        return _upsample_op(before, after)
    if target in (operator.mul, operator.truediv, operator.add, operator.sub):
        raise Unsupported(f"does arithmetic ({target.__name__}) between its layers")
    raise Unsupported(f"calls {getattr(target, '__name__', target)}")


def _method_op(node: fx.Node) -> dict | None:
    """The op of a tensor method (h.view(...), h.relu(), h.flatten(1), ...)."""
    if node.target == "contiguous":
        return None
    if node.target in RESHAPES:
        return {"op": "reshape"}
    if node.target in ("relu", "tanh", "sigmoid"):
        return {"op": node.target}
    raise Unsupported(f"calls .{node.target}()")


def _check_sizes(ops: list[dict], pixels: int) -> None:
    """The list ends in one logit per image value (``pixels``: channels x side x side) and no layer is too big."""
    if not ops or math.prod(ops[-1]["out"]) != pixels:
        raise Unsupported(f"does not end in {pixels} logits")
    largest = max(math.prod(op["out"]) for op in ops)
    if largest > MAX_VALUES:
        raise Unsupported(f"has a layer of {largest:,} values per image, more than the page's {MAX_VALUES:,}")


def run_layers(ops: list[dict], tensors: dict[str, torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    """z [B, D] -> logits [B, 784] by the op list: what the page's interpreter computes, here in torch."""
    h = z
    for op in ops:
        h = _RUN[op["op"]](h, op, tensors)
    return h.reshape(len(z), -1)


def _parameters(op: dict, tensors: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
    return tensors[op["weight"]], tensors[op["bias"]] if op["bias"] else None


_RUN = {
    "linear": lambda h, op, t: F.linear(h, *_parameters(op, t)),
    "conv2d": lambda h, op, t: F.conv2d(h, *_parameters(op, t), stride=op["stride"], padding=op["padding"]),
    "conv_transpose2d": lambda h, op, t: F.conv_transpose2d(h, *_parameters(op, t), stride=op["stride"],
                                                            padding=op["padding"],
                                                            output_padding=op["output_padding"]),
    "upsample": lambda h, op, t: F.interpolate(h, scale_factor=op["scale"], mode="nearest"),
    "relu": lambda h, op, t: F.relu(h),
    "leaky_relu": lambda h, op, t: F.leaky_relu(h, op["slope"]),
    "tanh": lambda h, op, t: torch.tanh(h),
    "sigmoid": lambda h, op, t: torch.sigmoid(h),
    "reshape": lambda h, op, t: h.reshape(len(h), *op["out"]),
}


@torch.no_grad()
def _check_reproduces(model: nn.Module, ops: list[dict]) -> None:
    """Run the ops and ``decode`` on the same random points [8, D]; a list that differs is unsupported."""
    tensors = dict(model.state_dict())
    parameter = next(model.parameters())
    generator = torch.Generator().manual_seed(0)
    z = (1.5 * torch.randn(CHECK_POINTS, model.config.latent_dim, generator=generator)).to(parameter)
    expected = model.decode(z).reshape(CHECK_POINTS, -1)
    try:
        got = run_layers(ops, tensors, z)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as error:  # a list naming what is not there
        raise Unsupported("traces to layers that do not reproduce its decode") from error
    scale = 1.0 + expected.abs().max().item()
    if got.shape != expected.shape or (got - expected).abs().max().item() > CHECK_TOLERANCE * scale:
        raise Unsupported("traces to layers that do not reproduce its decode")


def _print_traced(checkpoint_path: str) -> None:
    """The child's side of ``_ops_traced_apart``: one JSON line, {"ops": [...]} or {"unsupported": reason}."""
    from .store import load_model, read_checkpoint

    try:
        answer = {"ops": _ops_traced_here(load_model(read_checkpoint(Path(checkpoint_path))))}
    except Unsupported as why:
        answer = {"unsupported": str(why)}
    print(json.dumps(answer))


if __name__ == "__main__":
    _print_traced(sys.argv[1])
