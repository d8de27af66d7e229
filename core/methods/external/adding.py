"""The user's own methods: model files, result images and Python plugins, added while
Upscope runs and usable anywhere a method id is (docs/METHODS.md#your-own-methods).

- `add_model` loads an ONNX model or a PyTorch checkpoint (`model_files`) and registers
  it as a method of family ``model``.
- `add_result` registers an image made by another tool (family ``result``): its panel
  shows that image, measured against the same reference as every other method.
- `load_plugin` runs a Python file whose functions register themselves with
  `register_method`, the decorator Upscope's own methods use; `load_installed_plugins`
  does the same for the modules of installed packages named in the ``upscope.methods``
  entry-point group. Their methods (family ``plugin``) are guarded: one that raises,
  returns the wrong shape or type, or does not finish within
  ``core.limits.plugin_seconds`` fails in its own panel, and the comparison runs on.

Each method keeps a `MethodSource` (path, SHA-256, options) so a session can add it again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.common.arrays import as_hwc, data_range
from core.common.errors import ImageError, ParameterError, PluginError, UnsupportedScaleError, shown_path
from core.io.files import open_regular_file
from core.io.read import load_image
from core.methods.external.model_files import VALUE_RANGES, LoadedModel, load_model_file
from core.methods.external.plugin_process import Origin, PluginProcess, import_plugin, where_in
from core.methods.external.tiles import DEFAULT_TILE, model_upsample
from core.methods.registry import (
    MethodSource,
    MethodSpec,
    Param,
    add_method,
    free_method_id,
    get_method,
    list_methods,
    registered_ids,
    remove_method,
    replace_method,
    unregister_methods,
)

_models: dict[str, LoadedModel] = {}
_processes: dict[str, PluginProcess] = {}  # by the plugin's path (or entry point)
_results: dict[str, np.ndarray] = {}
_lock = threading.Lock()

PRECISIONS = ("auto", "float32", "float16")


def user_methods() -> list[MethodSpec]:
    """The methods added while Upscope runs (models, result images, plugins), in order."""
    return [spec for spec in list_methods() if spec.source is not None]


def forget_method(method_id: str) -> None:
    """Remove a method added while Upscope runs, and free what it held (a loaded
    network, a result image). `ParameterError` for an unknown id or one of Upscope's own."""
    spec = remove_method(method_id)
    with _lock:
        _models.pop(method_id, None)
        _results.pop(method_id, None)
        source = spec.source
        key = None if source is None or source.kind != "plugin" else source.path
        if key is not None and not any(s.source is not None and s.source.path == key for s in user_methods()):
            process = _processes.pop(key, None)
            if process is not None:
                process.stop()  # no method of the plugin is left


def split_label(text: str) -> tuple[str | None, str]:
    """``"LABEL=PATH"`` as ``(LABEL, PATH)``; a plain path as ``(None, PATH)``. Only text
    before the first ``=`` that holds no path separator counts as a label, so a path
    with ``=`` in a folder name stays whole."""
    label, sep, rest = text.partition("=")
    if sep and label and "/" not in label and "\\" not in label and rest:
        return label, rest
    return None, text


# Model files ---------------------------------------------------------------------------

def add_model(path: str | Path, label: str | None = None, *, value_range: str = "0-1",
              method_id: str | None = None) -> str:
    """Load the model file at ``path`` and register it as a method; returns its id
    (from ``label``, else the file's name; made unique), or ``method_id`` when given and
    free (a worker process registering the model its parent named). The same file added
    again with the same options returns the id it already has. `ModelError` names the file
    and the reason when it cannot be loaded (see `load_model_file`)."""
    model = load_model_file(path, value_range=value_range)
    facts = model.facts
    options = (("value_range", value_range),)
    for spec in user_methods():
        source = spec.source
        if source is not None and source.kind == "model" and source.sha256 == facts.sha256 \
                and source.path == facts.path and source.options == options and (label is None or label == spec.label):
            return spec.id
    shown = label or Path(path).stem
    method_id = method_id if method_id is not None and free_method_id(method_id) == method_id else free_method_id(shown)
    reach = (
        f"tiles overlap by {facts.halo} pixels, its reach"
        if facts.reach_bounded
        else f"it looks wider than {facts.halo} pixels (tiles overlap by that much and may differ slightly from one run)"
    )
    spec = MethodSpec(
        id=method_id,
        label=shown,
        family="model",
        description=f"Model file {Path(path).name}: {facts.summary()}. Large images run in tiles; {reach}.",
        function=functools.partial(_run_model, method_id),
        scales="integer",
        params=(
            Param("tile", "int", DEFAULT_TILE, "input pixels per side of a tile (0: the whole image at once)",
                  minimum=0, maximum=1 << 16),
            Param("precision", "choice", "auto", "float16 where the device and the network allow it (auto: on a "
                  "CUDA GPU when the architecture supports it), or always float32", choices=PRECISIONS),
        ),
        reference=f"{facts.architecture}, {facts.path}",
        trained_scales=(facts.scale,),
        source=MethodSource("model", facts.path, facts.sha256, options),
    )
    with _lock:
        add_method(spec)
        _models[method_id] = model
    return method_id


def _run_model(method_id: str, image: np.ndarray, size: tuple[int, int], *, tile: int, precision: str) -> np.ndarray:
    with _lock:
        model = _models.get(method_id)
    if model is None:
        raise ParameterError(f"{method_id}: this model was removed")
    if precision == "float16" and not model.facts.half:
        raise ParameterError(
            f"{method_id}: float16 needs a CUDA GPU and an architecture that allows it; this model runs with "
            f"{model.facts.runtime}"
        )
    half = precision == "float16" or (precision == "auto" and model.facts.half)
    return model_upsample(model, image, size, tile=tile, half=half)


def loaded_model(method_id: str) -> LoadedModel:
    """The loaded network behind a model method (`ParameterError` for another id)."""
    with _lock:
        model = _models.get(method_id)
    if model is None:
        raise ParameterError(f"{method_id}: not a model added from a file")
    return model


# Result images -------------------------------------------------------------------------

def add_result(label: str, image_or_path: np.ndarray | str | Path) -> str:
    """Register an image made by another tool as the method ``label`` (made unique);
    returns its id. A path is read by `load_image` (same formats and dtypes); an array
    is taken as it is (``(H, W)`` or ``(H, W, C)``, uint8, uint16 or float32). Its panel
    shows the image as it is, so its size must be the comparison's output size (in
    degrade mode, the cropped ground truth's); another size is refused by name when the
    comparison runs. The same file (same content) added again with the same label returns
    the id it already has."""
    if not label or not label.strip():
        raise ParameterError("a result image needs a label")
    if isinstance(image_or_path, np.ndarray):
        image, path, digest = as_hwc(image_or_path), None, None
        name = f"an array of {image.shape[1]}x{image.shape[0]}"
    else:
        path = str(Path(image_or_path).resolve())
        digest = file_sha256(image_or_path)
        for added in user_methods():  # the same file added again (a session reopened) keeps its id
            source = added.source
            if source is not None and source.kind == "result" and (source.path, source.sha256) == (path, digest) \
                    and added.label == label:
                return added.id
        image = as_hwc(load_image(image_or_path))
        name = Path(image_or_path).name
    method_id = free_method_id(label)
    spec = MethodSpec(
        id=method_id,
        label=label,
        family="result",
        description=(
            f"Result image {name} ({image.shape[1]}x{image.shape[0]}, {image.shape[2]} channel(s), {image.dtype}), "
            "made by another tool; shown as it is and measured against the same reference."
        ),
        function=functools.partial(_show_result, method_id),
        reference=path or "",
        source=MethodSource("result", path, digest),
    )
    with _lock:
        add_method(spec)
        _results[method_id] = image
    return method_id


def _show_result(method_id: str, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The stored result in ``image``'s channel layout and units, if it is ``size``."""
    with _lock:
        result = _results.get(method_id)
    if result is None:
        raise ParameterError(f"{method_id}: this result image was removed")
    height, width = result.shape[:2]
    if (height, width) != tuple(size):
        raise UnsupportedScaleError(
            f"the result image is {width}x{height}, but this comparison's results are "
            f"{size[1]}x{size[0]}; choose the scale it was made at (in degrade mode the ground truth is cropped to a "
            "multiple of the scale), or crop or resize the result to that size"
        )
    colour = 1 if image.shape[2] <= 2 else 3
    result_colour = result[:, :, : (1 if result.shape[2] <= 2 else 3)].astype(np.float32)
    if result_colour.shape[2] != colour:
        if colour == 1:
            raise ParameterError(
                "the result image is in colour and the compared image is grey; "
                "save the result as grey to compare them"
            )
        result_colour = np.repeat(result_colour, 3, axis=2)
    out = result_colour * np.float32(data_range(image.dtype) / data_range(result.dtype))
    if image.shape[2] in (2, 4):  # the compared image has alpha
        alpha = (
            result[:, :, -1].astype(np.float32) * np.float32(data_range(image.dtype) / data_range(result.dtype))
            if result.shape[2] in (2, 4)
            else np.full(result.shape[:2], data_range(image.dtype), np.float32)
        )
        out = np.concatenate([out, alpha[:, :, None]], axis=2)
    return out


def file_sha256(path: str | Path) -> str:
    """The SHA-256 (hex) of a regular file, read in pieces."""
    handle, _ = open_regular_file(path, "file")
    digest = hashlib.sha256()
    with handle:
        for piece in iter(lambda: handle.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


# Plugins -------------------------------------------------------------------------------

def load_plugin(path: str | Path) -> list[str]:
    """Run the Python file at ``path``, whose functions register themselves with
    ``register_method`` (``from core import register_method``), and return the ids of
    the methods it registered. Loading the same file again replaces its methods. Its
    methods are guarded (see the module's text). `PluginError` names the file and the
    reason when it cannot be run (a syntax error with its line, an exception while it
    loads, no method registered)."""
    shown = shown_path(path)
    try:
        open_regular_file(path, "Python file")[0].close()
    except ImageError as exc:
        raise PluginError(str(exc)) from None
    absolute = str(Path(path).resolve())
    for spec in user_methods():  # loading it again: its previous methods go first
        if spec.source is not None and spec.source.kind == "plugin" and spec.source.path == absolute:
            forget_method(spec.id)
    module_name = f"upscope_plugin_{hashlib.sha256(absolute.encode()).hexdigest()[:12]}"
    digest = file_sha256(path)
    origin: Origin = ("file", absolute)
    added = _registering(shown, origin, lambda: import_plugin(origin, module_name))
    return _adopt(added, MethodSource("plugin", absolute, digest), shown, origin, module_name)


def load_installed_plugins() -> tuple[list[str], list[str]]:
    """Import every module named in the ``upscope.methods`` entry-point group of the
    installed packages (each registers its methods on import, or names a function that
    does when called). Returns the ids added and one message per plugin that failed;
    a failure never stops the others."""
    ids: list[str] = []
    problems: list[str] = []
    for entry in importlib.metadata.entry_points(group="upscope.methods"):
        if any(spec.source is not None and spec.source.path == f"entry point {entry.value}" for spec in user_methods()):
            continue  # loaded already
        where = f"plugin {entry.name} ({entry.value})"
        origin: Origin = ("entry", entry.value)
        try:
            added = _registering(where, origin, functools.partial(import_plugin, origin, ""))
            ids += _adopt(added, MethodSource("plugin", f"entry point {entry.value}", None), where, origin, "")
        except PluginError as exc:
            problems.append(str(exc))
    return ids, problems


def _registering(where: str, origin: Origin, run: Callable[[], None]) -> list[str]:
    """Run ``run`` (a plugin's import) and return the ids of the methods it registered;
    its exceptions become a `PluginError` naming ``where`` (and the line, for a syntax
    error). Methods it registered before failing are removed again."""
    before = set(registered_ids())
    try:
        run()
    except SyntaxError as exc:
        _drop_new(before)
        raise PluginError(f"{where}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:
        _drop_new(before)
        raise PluginError(f"{where}: raised {type(exc).__name__} while loading: {exc}{where_in(exc, origin)}") from None
    added = [method_id for method_id in registered_ids() if method_id not in before]
    if not added:
        raise PluginError(f"{where}: registered no method (decorate its functions with core.register_method)")
    return added


def _drop_new(before: set[str]) -> None:
    unregister_methods(set(registered_ids()) - before)


def _adopt(ids: list[str], source: MethodSource, where: str, origin: Origin, module_name: str) -> list[str]:
    """The plugin's freshly registered methods, marked as its own and run in the
    plugin's process (`PluginProcess`), their results checked."""
    process = PluginProcess(origin, module_name)
    with _lock:
        _processes[source.path or where] = process
    for method_id in ids:
        spec = get_method(method_id)
        replace_method(replace(
            spec,
            family="plugin",
            function=functools.partial(_guarded_call, process, f"{spec.id} ({where})", spec.id),
            description=f"{spec.description} (from {where})",
            source=source,
        ))
    return ids


def _guarded_call(process: PluginProcess, who: str, method_id: str, image: np.ndarray,
                  size: tuple[int, int], **params: Any) -> np.ndarray:
    """``method_id`` of the plugin on ``image`` in the plugin's process; its exception,
    its process dying, a result that is not an ``(h, w, C)`` array of numbers of
    ``size``, or its not finishing within ``core.limits.plugin_seconds`` become a
    `PluginError` naming the plugin and the method."""
    value = process.call(who, method_id, image, size, params)
    return _checked_result(value, image, size, who)


def _checked_result(value: Any, image: np.ndarray, size: tuple[int, int], who: str) -> np.ndarray:
    expected = (size[0], size[1], image.shape[2])
    if not isinstance(value, np.ndarray):
        raise PluginError(f"{who}: returned {type(value).__name__}, not a NumPy array of shape {expected}")
    result = value[:, :, None] if value.ndim == 2 else value
    if result.shape != expected:
        raise PluginError(f"{who}: returned shape {value.shape}; this image needs {expected}")
    if result.dtype.kind not in "uif" and result.dtype != np.bool_:
        raise PluginError(f"{who}: returned an array of {value.dtype}; it must hold numbers")
    if result.dtype.kind == "f" and not np.all(np.isfinite(result)):
        raise PluginError(f"{who}: returned NaN or infinite values")
    return result.astype(np.float32) if result.dtype not in (image.dtype, np.float32) else result


def model_value_ranges() -> tuple[str, ...]:
    """The value ranges a model can be added with (`add_model`'s ``value_range``)."""
    return tuple(VALUE_RANGES)

