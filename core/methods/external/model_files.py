"""Model files as methods: ONNX networks and PyTorch checkpoints
(docs/METHODS.md#model-files).

A model file is read once, whole, as bytes (a regular file of at most
``core.limits.max_model_bytes``), hashed, and loaded from those bytes, so the hash is of
what runs. Loading never runs code from the file:

- ONNX files are protobuf data: onnxruntime parses them, nothing in them executes.
- ``.safetensors`` files are raw tensors with a JSON header.
- ``.pth``, ``.pt`` and ``.ckpt`` files are Python pickles, which can name any function
  to call while they load. They are read with ``torch.load(weights_only=True)``, whose
  unpickler accepts tensors, numbers, strings and plain containers only and refuses
  anything else *before* calling it; Upscope turns that refusal into a message.
  TorchScript archives (code by design) are refused the same way.

The network behind a checkpoint is recognised by spandrel from its weights' names and
shapes (ESRGAN, Real-ESRGAN Compact, SwinIR, HAT, DAT, OmniSR, SPAN, ...): the
architecture, scale and channels come from the file, not from the user.

Every model is then probed once: the scale of an ONNX model from the size of its output
on a small input, and, for both kinds, its *reach* (how far an input pixel's influence
spreads), from the change one perturbed pixel makes. The reach sets the overlap of the
tiles a large image runs in (`core.methods.external.tiles`).
"""

from __future__ import annotations

import copy
import hashlib
import io
import math
import pickle
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.common.errors import ImageError, ModelError, last_line, shown_path
from core.common.limits import limits
from core.common.torch_device import preferred_torch_device
from core.io.files import read_regular_file

#: File suffixes Upscope loads as models, and the format each one means.
MODEL_SUFFIXES = {
    ".onnx": "ONNX",
    ".pth": "PyTorch checkpoint",
    ".pt": "PyTorch checkpoint",
    ".ckpt": "PyTorch checkpoint",
    ".safetensors": "safetensors",
}
INSTALL_HINT = 'install the models extra: python3 -m pip install -e ".[models]"'
#: Side of the square input that probes a model whose input size is free.
PROBE_SIZE = 64
#: The widest overlap a tile gets. A model whose reach is wider (global pooling,
#: attention over the whole input) still runs in tiles, with this overlap, and says so.
MAX_HALO = 48
#: What a value of 1 in Upscope's units is in the model's: 1 for models that take
#: [0, 1], 255 for models trained on [0, 255].
VALUE_RANGES = {"0-1": 1.0, "0-255": 255.0}

Forward = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class ModelFacts:
    """What loading a model file learned. Shapes are NCHW; sizes in pixels."""

    path: str  # absolute
    format: str  # a value of MODEL_SUFFIXES
    architecture: str
    scale: int
    in_channels: int  # 1 or 3
    out_channels: int
    parameters: int | None  # None where the format does not tell (ONNX without the onnx package)
    sha256: str
    runtime: str  # e.g. "onnxruntime 1.32 (CPUExecutionProvider)"
    halo: int  # input pixels a tile reads beyond its edge
    reach_bounded: bool  # False: the reach was wider than the probe (tiles may differ slightly)
    fixed_size: tuple[int, int] | None  # an ONNX model whose input height and width are fixed
    value_range: str  # a key of VALUE_RANGES
    half: bool  # float16 is available (a CUDA device and an architecture that allows it)

    def summary(self) -> str:
        """One line for a method description: architecture, scale, channels, size, hash."""
        parameters = f", {self.parameters:,} parameters" if self.parameters is not None else ""
        fixed = f", fixed {self.fixed_size[1]}x{self.fixed_size[0]} input" if self.fixed_size else ""
        scale_units = "" if self.value_range == "0-1" else ", values 0-255"
        return (
            f"{self.architecture} ({self.format}), x{self.scale}, {self.in_channels} to {self.out_channels} "
            f"channels{parameters}{fixed}{scale_units}; SHA-256 {self.sha256[:16]}; {self.runtime}"
        )


class LoadedModel:
    """A loaded model: `facts`, and `forward`, which maps an ``(N, C, h, w)`` float32
    batch in the model's units to ``(N, C', h * s, w * s)`` float32."""

    def __init__(self, facts: ModelFacts, forward: Forward, forward_half: Forward | None = None) -> None:
        self.facts = facts
        self._forward = forward
        self._forward_half = forward_half

    def forward(self, batch: np.ndarray, *, half: bool = False) -> np.ndarray:
        """The network on ``batch``, in float16 when ``half`` (and the model allows it)."""
        run = self._forward_half if half and self._forward_half is not None else self._forward
        return run(batch)


def read_model_file(path: str | Path) -> tuple[bytes, str]:
    """The bytes of a model file and their SHA-256 (hex). `ModelError` for a file that is
    missing, not a regular file, too large, or of a suffix Upscope does not load."""
    shown = shown_path(path)
    suffix = Path(path).suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        known = ", ".join(MODEL_SUFFIXES)
        raise ModelError(f"{shown}: not a model file Upscope loads (the name ends in {suffix or 'no suffix'}; known: {known})")
    try:
        data = bytes(read_regular_file(path, "model file", limits.max_model_bytes))
    except ImageError as exc:
        raise ModelError(str(exc)) from None
    if not data:
        raise ModelError(f"{shown}: the file is empty")
    return data, hashlib.sha256(data).hexdigest()


def load_model_file(path: str | Path, *, value_range: str = "0-1") -> LoadedModel:
    """Load an ONNX model or a PyTorch checkpoint from ``path`` (see the module's text).

    ``value_range`` is ``"0-1"`` (the usual) or ``"0-255"``: what the network takes and
    returns for black to white. Raises `ModelError` naming the file and the reason: not
    a regular file, a suffix Upscope does not load, damaged, refused for running code,
    an architecture spandrel does not know (with the ones it knows), an ONNX graph that
    is not one image in and one image out, an output that is not a whole multiple of
    the input, or the library it needs not installed.
    """
    if value_range not in VALUE_RANGES:
        raise ModelError(f"value range {value_range!r}: must be one of {', '.join(VALUE_RANGES)}")
    data, digest = read_model_file(path)
    absolute = str(Path(path).resolve())
    if Path(path).suffix.lower() == ".onnx":
        return _load_onnx(absolute, data, digest, value_range)
    return _load_checkpoint(absolute, data, digest, value_range)


# ONNX ----------------------------------------------------------------------------------

def _load_onnx(path: str, data: bytes, digest: str, value_range: str) -> LoadedModel:
    shown = shown_path(path)
    try:
        import onnxruntime
    except ImportError:
        raise ModelError(f"{shown}: running ONNX models needs onnxruntime, which is not installed; {INSTALL_HINT}") from None
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise here
    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
    providers = [p for p in wanted if p in onnxruntime.get_available_providers()]
    try:
        session = onnxruntime.InferenceSession(data, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own types for every kind of bad file
        raise ModelError(f"{shown}: not an ONNX model onnxruntime can load ({last_line(exc)})") from None
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        names = ", ".join(i.name for i in inputs)
        raise ModelError(
            f"{shown}: has {len(inputs)} input(s) ({names}) and {len(outputs)} output(s); Upscope runs "
            "networks with one image in and one image out"
        )
    spec = inputs[0]
    shape = spec.shape
    if not isinstance(shape, (list, tuple)) or len(shape) != 4:
        rank = "no fixed rank" if not isinstance(shape, (list, tuple)) or not shape else f"rank {len(shape)} ({shape})"
        raise ModelError(f"{shown}: its input '{spec.name}' has {rank}; Upscope runs NCHW images (rank 4)")
    if spec.type not in ("tensor(float)", "tensor(float16)"):
        raise ModelError(f"{shown}: its input '{spec.name}' is {spec.type}; Upscope runs float32 or float16 networks")
    dtype = np.float16 if spec.type == "tensor(float16)" else np.float32
    fixed_size = _fixed_size(shown, spec.name, shape)
    channel_dim = shape[1]
    if isinstance(channel_dim, int) and channel_dim not in (1, 3):
        raise ModelError(f"{shown}: its input has {channel_dim} channels; Upscope runs models of 1 (grey) or 3 (RGB)")

    def forward(batch: np.ndarray) -> np.ndarray:
        # One image at a time: exporters often fix the batch dimension at 1.
        outs = [session.run(None, {spec.name: image[None].astype(dtype, copy=False)})[0] for image in batch]
        return np.asarray(outs[0] if len(outs) == 1 else np.concatenate(outs), dtype=np.float32)

    probe_side = fixed_size or (PROBE_SIZE, PROBE_SIZE)
    channels = _onnx_channels(shown, forward, channel_dim, probe_side)
    scale, out_channels = _probe_scale(shown, forward, channels, probe_side)
    halo, bounded = _measure_reach(forward, channels, scale, probe_side, VALUE_RANGES[value_range])
    provider = session.get_providers()[0]
    facts = ModelFacts(
        path=path, format="ONNX", architecture=_onnx_name(data) or "ONNX network", scale=scale,
        in_channels=channels, out_channels=out_channels, parameters=_onnx_parameters(data), sha256=digest,
        runtime=f"onnxruntime {onnxruntime.__version__} ({provider})", halo=halo, reach_bounded=bounded,
        fixed_size=fixed_size, value_range=value_range, half=False,
    )
    return LoadedModel(facts, forward)


def _fixed_size(shown: str, name: str, shape: list[Any] | tuple[Any, ...]) -> tuple[int, int] | None:
    height, width = shape[2], shape[3]
    fixed = [isinstance(v, int) and v > 0 for v in (height, width)]
    if all(fixed):
        return int(height), int(width)
    if any(fixed):
        raise ModelError(
            f"{shown}: its input '{name}' fixes one side only ({shape}); Upscope runs models whose height and "
            "width are both free or both fixed"
        )
    return None


def _onnx_channels(shown: str, forward: Forward, channel_dim: Any, side: tuple[int, int]) -> int:
    """The input channels: from the graph, or by trying 3 then 1 where it leaves them free."""
    if isinstance(channel_dim, int):
        return channel_dim
    for channels in (3, 1):
        try:
            forward(np.zeros((1, channels, *side), np.float32))
            return channels
        except Exception:  # the other channel count is tried next
            continue
    raise ModelError(f"{shown}: runs on neither a 3-channel nor a 1-channel image")


def _onnx_name(data: bytes) -> str | None:
    """The graph's own name where the onnx package is installed to read it."""
    model = _onnx_proto(data)
    if model is None:
        return None
    name = model.graph.name or model.producer_name
    return f"ONNX network '{name}'" if name else None


def _onnx_parameters(data: bytes) -> int | None:
    """The number of weights in the graph's initialisers (None without the onnx package)."""
    model = _onnx_proto(data)
    if model is None:
        return None
    return int(sum(math.prod(init.dims) for init in model.graph.initializer))


def _onnx_proto(data: bytes) -> Any:
    try:
        import onnx
    except ImportError:
        return None
    try:
        return onnx.load_from_string(data)
    except Exception:  # only a description is lost; onnxruntime has loaded it
        return None


# PyTorch checkpoints -------------------------------------------------------------------

def _load_checkpoint(path: str, data: bytes, digest: str, value_range: str) -> LoadedModel:
    shown = shown_path(path)
    try:
        import torch
    except ImportError:
        raise ModelError(f"{shown}: running PyTorch checkpoints needs PyTorch and spandrel; {INSTALL_HINT}") from None
    state = _state_dict(shown, torch, data, Path(path).suffix.lower())  # refused here if it names code
    spandrel = _spandrel(shown)
    try:
        state = spandrel.canonicalize_state_dict(state)
        descriptor = spandrel.ModelLoader("cpu").load_from_state_dict(state)
    except spandrel.UnsupportedModelError:
        known = ", ".join(sorted({support.architecture.name for support in spandrel.MAIN_REGISTRY.architectures()}))
        raise ModelError(
            f"{shown}: spandrel does not recognise the network in this checkpoint (its weights match no "
            f"architecture it knows: {known})"
        ) from None
    except Exception as exc:  # an architecture's loader failing on odd weights
        raise ModelError(f"{shown}: spandrel could not build the network ({last_line(exc)})") from None
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise ModelError(
            f"{shown}: is a {descriptor.architecture.name} model for {descriptor.purpose.lower()}, which takes an "
            "image and a mask; Upscope runs image-to-image models"
        )
    if descriptor.input_channels not in (1, 3) or descriptor.output_channels != descriptor.input_channels:
        raise ModelError(
            f"{shown}: the {descriptor.architecture.name} network takes {descriptor.input_channels} channel(s) and "
            f"returns {descriptor.output_channels}; Upscope runs models that take and return 1 (grey) or 3 (RGB)"
        )
    device = preferred_torch_device(torch)
    descriptor = descriptor.to(torch.device(device)).eval()
    half_descriptor: list[Any] = []  # made on first use: a float16 copy of the weights
    lock = threading.Lock()

    def run(model: Any, batch: np.ndarray, dtype: Any) -> np.ndarray:
        outputs = []
        for image in batch:  # spandrel's call takes one image at a time
            tensor = torch.from_numpy(np.ascontiguousarray(image[None])).to(model.device, dtype)
            with torch.inference_mode():
                outputs.append(model(tensor).float().cpu().numpy())
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def forward(batch: np.ndarray) -> np.ndarray:
        return run(descriptor, batch, torch.float32)

    def forward_half(batch: np.ndarray) -> np.ndarray:
        with lock:
            if not half_descriptor:
                half_descriptor.append(copy.deepcopy(descriptor).half())
        return run(half_descriptor[0], batch, torch.float16)

    half = device == "cuda" and bool(descriptor.supports_half)
    requirements = descriptor.size_requirements
    side = max(PROBE_SIZE, requirements.minimum)
    side += -side % requirements.multiple_of
    halo, bounded = _measure_reach(forward, descriptor.input_channels, descriptor.scale, (side, side),
                                   VALUE_RANGES[value_range])
    parameters = sum(int(p.numel()) for p in descriptor.model.parameters())
    facts = ModelFacts(
        path=path, format=MODEL_SUFFIXES[Path(path).suffix.lower()], architecture=descriptor.architecture.name,
        scale=int(descriptor.scale), in_channels=int(descriptor.input_channels),
        out_channels=int(descriptor.output_channels), parameters=parameters, sha256=digest,
        runtime=f"PyTorch {torch.__version__.split('+')[0]} on {device}", halo=halo, reach_bounded=bounded,
        fixed_size=None, value_range=value_range, half=half,
    )
    return LoadedModel(facts, forward, forward_half if half else None)


def _spandrel(shown: str) -> Any:
    try:
        import spandrel
    except ImportError:
        raise ModelError(f"{shown}: running PyTorch checkpoints needs spandrel, which is not installed; {INSTALL_HINT}") from None
    except Exception as exc:  # spandrel imports torchvision, which fails against a mismatched torch
        raise ModelError(f"{shown}: spandrel is installed but cannot be imported ({last_line(exc)})") from None
    return spandrel


def _state_dict(shown: str, torch: Any, data: bytes, suffix: str) -> dict[str, Any]:
    """The weights of a checkpoint, read without running anything from it."""
    if suffix == ".safetensors":
        try:
            from safetensors.torch import load as load_safetensors
        except ImportError:
            raise ModelError(f"{shown}: reading .safetensors files needs the safetensors package; {INSTALL_HINT}") from None
        try:
            return dict(load_safetensors(data))
        except Exception as exc:  # safetensors raises its own error type for bad headers
            raise ModelError(f"{shown}: not a readable safetensors file ({last_line(exc)})") from None
    if _is_torchscript(data):
        raise ModelError(
            f"{shown}: is a TorchScript archive, which is code; Upscope loads weights only. Save the network's "
            "state dict instead (torch.save(model.state_dict(), ...)) or use .safetensors"
        )
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL " not in str(exc):  # a damaged pickle, not one that names code
            raise ModelError(f"{shown}: not a readable PyTorch checkpoint (damaged, or not a checkpoint)") from None
        raise ModelError(
            f"{shown}: refused: loading it would call {_forbidden_global(exc)}, which is code named by the file, "
            "not weights. Upscope reads pickle checkpoints with weights only; if you trust the file, re-save "
            "its state dict (torch.save(model.state_dict(), ...)) or convert it to .safetensors"
        ) from None
    except Exception as exc:  # a damaged zip, a truncated pickle, not a checkpoint at all
        raise ModelError(f"{shown}: not a readable PyTorch checkpoint ({last_line(exc)})") from None
    if not isinstance(loaded, dict):
        raise ModelError(f"{shown}: holds a {type(loaded).__name__}, not a dictionary of weights")
    return loaded


def _is_torchscript(data: bytes) -> bool:
    """Whether ``data`` is a TorchScript archive: a zip with a ``code/`` folder of Python
    source beside its weights (a plain checkpoint zip has only ``data.pkl`` and ``data/``)."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return False
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return any("/code/" in name for name in archive.namelist())


def _forbidden_global(exc: BaseException) -> str:
    """The name the weights-only unpickler refused, from its message ("Unsupported global:
    GLOBAL os.system was not an allowed global..."), or a general phrase."""
    text = str(exc)
    marker = "GLOBAL "
    if marker in text:
        return text.split(marker, 1)[1].split()[0]
    return "a function"


# Probing -------------------------------------------------------------------------------

def _probe_input(channels: int, side: tuple[int, int], unit: float, seed: int = 0) -> np.ndarray:
    """A smooth random probe in the model's units: noise blurred a little, like a photograph."""
    rng = np.random.default_rng(seed)
    return (rng.random((1, channels, *side), dtype=np.float32) * 0.8 + 0.1) * np.float32(unit)


def _probe_scale(shown: str, forward: Forward, channels: int, side: tuple[int, int]) -> tuple[int, int]:
    """The whole-number scale and output channels of a model, from one run on a probe."""
    try:
        out = forward(_probe_input(channels, side, 1.0))
    except Exception as exc:  # onnxruntime's errors for a graph that fails at run time
        raise ModelError(f"{shown}: fails on a {side[1]}x{side[0]} probe image ({last_line(exc)})") from None
    if out.ndim != 4 or out.shape[0] != 1:
        raise ModelError(f"{shown}: returns shape {out.shape} for one {side[1]}x{side[0]} image; Upscope needs NCHW")
    height, width = out.shape[2:]
    if height % side[0] or width % side[1] or height // side[0] != width // side[1] or height < side[0]:
        raise ModelError(
            f"{shown}: returns {width}x{height} for a {side[1]}x{side[0]} input, not a whole multiple of it; "
            "Upscope runs models that enlarge by a whole number"
        )
    if out.shape[1] != channels:
        raise ModelError(
            f"{shown}: takes {channels} channel(s) and returns {out.shape[1]}; Upscope runs models that return "
            "the channels they take"
        )
    return height // side[0], int(out.shape[1])


def _measure_reach(forward: Forward, channels: int, scale: int, side: tuple[int, int], unit: float) -> tuple[int, bool]:
    """The tile overlap a model needs: how far (in input pixels) one input pixel's change
    moves the output, measured by perturbing the probe's centre pixel, plus a margin of
    2. Returns ``(halo, bounded)``: ``bounded`` is False when the change reached the
    probe's edge (the network looks at the whole image), the halo then `MAX_HALO`."""
    base = _probe_input(channels, side, unit)
    bumped = base.copy()
    cy, cx = side[0] // 2, side[1] // 2
    bumped[:, :, cy, cx] += np.float32(0.3 * unit)
    plain = forward(base)
    change = np.abs(forward(bumped) - plain).max(axis=(0, 1))
    moved = np.argwhere(change > 1e-6 * max(1.0, float(np.abs(plain).max())))
    if moved.size == 0:
        return 2, True
    rows = (moved[:, 0] // scale) - cy
    cols = (moved[:, 1] // scale) - cx
    reach = int(max(np.abs(rows).max(), np.abs(cols).max()))
    edge = min(cy, cx, side[0] - 1 - cy, side[1] - 1 - cx)
    if reach >= edge - 1:
        return MAX_HALO, False
    return min(MAX_HALO, reach + 2), True
