"""Tiny networks made inside the tests, with random weights: an ESPCN-like ONNX model
exported by PyTorch, spandrel architectures saved as checkpoints, and ONNX graphs that
are wrong on purpose. Nothing is downloaded."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest


def torch_module():
    return pytest.importorskip("torch")


def espcn_like(scale: int = 2, channels: int = 3, seed: int = 0):
    """A random-weight ESPCN-like network: convolutions, then pixel shuffle."""
    torch = torch_module()
    nn = torch.nn
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(channels, 12, 5, padding=2), nn.Tanh(),
        nn.Conv2d(12, 8, 3, padding=1), nn.Tanh(),
        nn.Conv2d(8, channels * scale * scale, 3, padding=1), nn.PixelShuffle(scale),
    ).eval()


class Scaled:
    """``net`` for values 0-255: ``255 * net(x / 255)``."""

    def __new__(cls, net):
        torch = torch_module()

        class _Scaled(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = net

            def forward(self, x):
                return self.net(x / 255.0) * 255.0

        return _Scaled().eval()


def export_onnx(module, path: Path, channels: int = 3, fixed: tuple[int, int] | None = None) -> Path:
    """``module`` as a single-file ONNX model with free height and width (or ``fixed``)."""
    torch = torch_module()
    pytest.importorskip("onnx")
    side = fixed or (16, 16)
    dynamic = None if fixed else {"x": {2: "h", 3: "w"}, "y": {2: "H", 3: "W"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, torch.rand(1, channels, *side), str(path), input_names=["x"], output_names=["y"],
                          dynamic_axes=dynamic, dynamo=False, opset_version=17)
    return path


def spandrel_model(kind: str, scale: int = 2, seed: int = 0):
    """A random-weight network of a spandrel architecture: ``compact`` (Real-ESRGAN
    Compact) or ``rrdb`` (ESRGAN's RRDB network), small."""
    torch = torch_module()
    pytest.importorskip("spandrel")
    torch.manual_seed(seed)
    if kind == "compact":
        from spandrel.architectures.Compact import Compact

        return Compact(num_in_ch=3, num_out_ch=3, num_feat=8, num_conv=2, upscale=scale).eval()
    from spandrel.architectures.ESRGAN import ESRGAN

    return ESRGAN(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=scale).eval()


def save_checkpoint(module, path: Path) -> Path:
    """``module``'s state dict as ``.pth`` (torch.save) or ``.safetensors``."""
    torch = torch_module()
    if path.suffix == ".safetensors":
        safetensors_torch = pytest.importorskip("safetensors.torch")
        safetensors_torch.save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(path))
    else:
        torch.save(module.state_dict(), str(path))
    return path


def forward(module, image: np.ndarray, clamp: bool = False) -> np.ndarray:
    """PyTorch's own forward pass of ``module`` on ``(H, W, C)`` float ``image``:
    ``(h, w, C)`` float64 (clamped to [0, 1] where spandrel's call clamps)."""
    torch = torch_module()
    with torch.no_grad():
        out = module(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)))
    if clamp:
        out = out.clamp(0, 1)
    return out[0].permute(1, 2, 0).double().numpy()


def onnx_graph(path: Path, *, inputs: int = 1, rank: int | None = 4, resize: float = 2.0) -> Path:
    """A hand-made ONNX graph: ``inputs`` float inputs of ``rank`` (None: no shape at
    all) summed and resized by ``resize`` (nearest) -- for the refusals."""
    onnx = pytest.importorskip("onnx")
    helper, tp = onnx.helper, onnx.TensorProto
    shape = None if rank is None else ["n", 3, "h", "w"][:rank] if rank <= 4 else ["a"] * rank
    names = [f"x{i}" for i in range(inputs)]
    nodes = []
    last = names[0]
    for i, name in enumerate(names[1:]):
        nodes.append(helper.make_node("Add", [last, name], [f"s{i}"]))
        last = f"s{i}"
    scales = helper.make_tensor("scales", tp.FLOAT, [4], [1.0, 1.0, resize, resize])
    nodes.append(helper.make_node("Resize", [last, "", "scales"], ["y"], mode="nearest"))
    graph = helper.make_graph(
        nodes, "made", [helper.make_tensor_value_info(n, tp.FLOAT, shape) for n in names],
        [helper.make_tensor_value_info("y", tp.FLOAT, None)], initializer=[scales],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path
