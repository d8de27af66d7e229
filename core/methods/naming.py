"""Methods as people read them: a method's label with the parameters that differ from
its defaults ("Bicubic (a=-0.5)"), the one spelling panel titles, tables and files use."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from core.common.errors import ParameterError
from core.methods.registry import get_method


def param_value_text(value: Any) -> str | None:
    """A parameter value as a person writes it (``-0.5``, ``7``, ``box``, ``3x3 array`` for
    a kernel); None for values that are none of these."""
    shape = _array_shape(value)
    if shape is not None:
        return "x".join(str(n) for n in shape) + " array"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return None


def _array_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a 1-D or 2-D array of numbers given as an array or nested lists."""
    if isinstance(value, (list, tuple)) and value and all(isinstance(row, (list, tuple)) for row in value):
        return (len(value), len(value[0]))
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and 1 <= len(shape) <= 2 and not isinstance(value, (str, bytes)):
        return tuple(int(n) for n in shape)
    return None


def changed_params_text(method_id: str, params: Mapping[str, Any]) -> str:
    """The entries of ``params`` that differ from method ``method_id``'s defaults, as
    ``"a=-0.5"`` (several joined by ``", "``, in the method's parameter order); ``""``
    when none differs. Parameters the pipeline fills in (max-unpool's recorded positions)
    are left out; for an unknown method every plain value given is listed."""
    try:
        spec_params = [p for p in get_method(method_id).params if p.user]
    except ParameterError:
        listed = (f"{name}={param_value_text(value)}" for name, value in params.items() if param_value_text(value) is not None)
        return ", ".join(listed)
    parts = []
    for param in spec_params:
        if param.name not in params:
            continue
        value = params[param.name]
        text = param_value_text(value)
        if text is None or value is None or (param.default is not None and _equal(value, param.default)):
            continue
        parts.append(f"{param.name}={text}")
    return ", ".join(parts)


def method_title(method_id: str, params: Mapping[str, Any]) -> str:
    """The method's label followed by its changed parameters: ``"Bicubic (a=-0.5)"``."""
    try:
        label = get_method(method_id).label
    except ParameterError:
        label = method_id
    changed = changed_params_text(method_id, params)
    return f"{label} ({changed})" if changed else label


def _equal(value: Any, default: Any) -> bool:
    """``value == default`` that an array never makes ambiguous (an array is not a default)."""
    if _array_shape(value) is not None:
        return False
    return bool(value == default)


def choice_key(method_id: str, params: Mapping[str, Any]) -> str:
    """What one run of a method is called within a comparison: its id, then the
    parameters that differ from the defaults in brackets, as ``--methods`` takes them
    (``"bicubic"``, ``"bicubic[a=-0.5]"``); an array parameter adds a short digest of its
    values, so two kernels of one shape differ. One method with other parameters is
    another key; the same parameters are the same key."""
    changed = changed_params_text(method_id, params)
    if not changed:
        return method_id
    key = f"{method_id}[{changed.replace(', ', ',')}]"
    arrays = [repr(np.asarray(v).tolist()) for v in params.values() if _array_shape(v) is not None]
    if arrays:
        key += "#" + hashlib.sha1("|".join(arrays).encode()).hexdigest()[:8]
    return key
