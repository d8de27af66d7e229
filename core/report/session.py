"""Session files: a small JSON file that reopens the same comparison.

A session holds the image path, the `ComparisonSettings`, the regions of interest, the
view (centre and zoom) and how difference maps are shown. The image path is stored
relative to the session file when the image lies in the same folder tree, so a folder
of images and sessions can be moved as a whole.

Methods the user added (model files, result images, plugin files) are stored with their
path (relative, like the image's) and SHA-256; reopening the session adds them again
first, flags a file that changed since (its hash differs) and drops, with a note, one
that cannot be added any more.

A session file is input like any other: `load_session` checks every value (kinds, ranges,
method ids and their parameters) and names the file and key of the first bad one; nothing
out of range is clamped silently.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.common.errors import ImageError, ParameterError, UpscopeError, shown_path
from core.common.limits import limits
from core.common.region import Region
from core.common.vocabulary import DIFF_KINDS
from core.comparison.results import result_key
from core.comparison.settings import ComparisonSettings, MethodChoice
from core.io.files import read_regular_file
from core.io.write import write_text
from core.methods.downsamplers import get_downsampler
from core.methods.external.adding import add_model, add_result, file_sha256, load_plugin, user_methods
from core.methods.registry import get_method

SESSION_FORMAT = "upscope-session"
SESSION_VERSION = 1
MAX_SESSION_BYTES = 16 * 1024 * 1024
"""A session file is a few kilobytes; a larger file is refused before it is read."""
#: The zooms a session's view may hold, in screen pixels per image pixel.
VIEW_ZOOM_RANGE = (1 / 1024, 1024.0)


@dataclass(frozen=True)
class View:
    """The viewer's view: image point ``(cx, cy)`` at the centre, ``zoom`` screen pixels
    per image pixel."""

    cx: float
    cy: float
    zoom: float


@dataclass(frozen=True)
class AddedMethod:
    """A method the user added, as a session stores it: ``kind`` ``model``, ``result`` or
    ``plugin``; the absolute ``path`` and ``sha256`` of its file; the ``label`` and ``id``
    it had (a plugin's ids are its own); the options it was added with."""

    kind: str
    path: str
    sha256: str | None
    label: str
    id: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Session:
    """Everything that reopens a comparison. ``image`` is an absolute path or None (a
    chart or a pasted image cannot be reopened from a file). ``view`` None means fit."""

    image: str | None
    settings: ComparisonSettings = field(default_factory=ComparisonSettings)
    regions: tuple[Region, ...] = ()
    view: View | None = None
    show_difference: bool = False
    diff_kind: str = "abs"
    diff_gain: float = 1.0
    added: tuple[AddedMethod, ...] = ()
    #: What reopening found: a changed or missing file of an added method.
    notes: tuple[str, ...] = ()


def added_methods() -> tuple[AddedMethod, ...]:
    """The methods added while Upscope runs that a session can add again (those from a
    file: an array given to `add_result` or an installed plugin is not saved)."""
    added: list[AddedMethod] = []
    for spec in user_methods():  # a plugin's methods one by one, so each can be left out alone
        source = spec.source
        if source is None or source.path is None or source.path.startswith("entry point "):
            continue
        added.append(AddedMethod(source.kind, source.path, source.sha256, spec.label, spec.id, source.options))
    return tuple(added)


def settings_to_dict(settings: ComparisonSettings) -> dict[str, Any]:
    """`ComparisonSettings` as plain JSON values."""
    scale = settings.scale
    return {
        "mode": settings.mode,
        "scale": list(scale) if isinstance(scale, (tuple, list)) else scale,
        "downsampler": settings.downsampler,
        "methods": [{"id": c.id, "params": dict(c.params)} for c in settings.method_choices()],
        "reference": settings.reference,
        "convention": settings.convention,
    }


def settings_from_dict(data: Any, where: str = "settings") -> ComparisonSettings:
    """The inverse of `settings_to_dict`; missing keys take their defaults. Raises
    `ParameterError` naming the key for a value of the wrong kind or out of range (a
    scale outside 1 to ``core.limits.max_scale``, NaN), an unknown mode, convention,
    downsampler or method id, a method listed twice, or a parameter its method refuses."""
    if not isinstance(data, dict):
        raise ParameterError(f"{where} must be an object; got {_shown(data)}")
    defaults = ComparisonSettings()
    scale = data.get("scale", defaults.scale)
    if isinstance(scale, list) and len(scale) == 2:
        scale = (scale[0], scale[1])
    wanted = f"{where}.scale must be a number from 1 to {limits.max_scale:g}, or [y, x] of two"
    if not (_is_number(scale) or (isinstance(scale, tuple) and all(_is_number(s) for s in scale))):
        raise ParameterError(f"{wanted}; got {_shown(scale)}")
    if not all(1 <= value <= limits.max_scale for value in (scale if isinstance(scale, tuple) else (scale,))):
        raise ParameterError(f"{wanted}; got {_shown(scale)}")
    methods = data.get("methods")
    if methods is None:
        choices = defaults.method_choices()
    elif isinstance(methods, list):
        choices = tuple(_choice(m, f"{where}.methods[{i}]") for i, m in enumerate(methods))
    else:
        raise ParameterError(f"{where}.methods must be a list; got {type(methods).__name__}")
    keys = [result_key(c.id, c.params) for c in choices]  # one method may come twice with other parameters
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise ParameterError(f"{where}.methods lists {twice[0]!r} more than once with the same parameters")
    text = {}
    for key in ("mode", "downsampler", "convention"):
        value = data.get(key, getattr(defaults, key))
        if not isinstance(value, str):
            raise ParameterError(f"{where}.{key} must be a string; got {_shown(value)}")
        text[key] = value
    if text["mode"] not in ("upscale", "degrade"):
        raise ParameterError(f"{where}.mode must be 'upscale' or 'degrade'; got {_shown(text['mode'])}")
    if text["convention"] not in ("all", "paper"):
        raise ParameterError(f"{where}.convention must be 'all' or 'paper'; got {_shown(text['convention'])}")
    try:
        get_downsampler(text["downsampler"])
    except ParameterError as exc:
        raise ParameterError(f"{where}.downsampler: {exc}") from None
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        raise ParameterError(f"{where}.reference must be a method id or null; got {_shown(reference)}")
    if reference is not None:
        try:
            get_method(reference)
        except ParameterError as exc:
            raise ParameterError(f"{where}.reference: {exc}") from None
    return ComparisonSettings(
        mode=text["mode"],  # type: ignore[arg-type]
        scale=scale,
        downsampler=text["downsampler"],
        methods=choices,
        reference=reference,
        convention=text["convention"],  # type: ignore[arg-type]
    )


def session_to_dict(session: Session, base: Path | None = None) -> dict[str, Any]:
    """``session`` as JSON values; the image path relative to ``base`` where it can be."""
    return {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "image": None if session.image is None else _relative(session.image, base),
        "settings": settings_to_dict(session.settings),
        "regions": [[r.x, r.y, r.width, r.height] for r in session.regions],
        "view": None if session.view is None else {"cx": session.view.cx, "cy": session.view.cy, "zoom": session.view.zoom},
        "difference": {"show": session.show_difference, "kind": session.diff_kind, "gain": session.diff_gain},
        "added": [
            {"kind": a.kind, "path": _relative(a.path, base), "sha256": a.sha256, "label": a.label, "id": a.id,
             "options": dict(a.options)}
            for a in session.added
        ],
    }


def save_session(path: str | os.PathLike, session: Session, *, overwrite: bool = True) -> Path:
    """Write ``session`` as JSON to ``path`` (atomically)."""
    path = Path(path)
    data = session_to_dict(session, path.resolve().parent)
    return write_text(path, json.dumps(data, indent=2) + "\n", overwrite=overwrite)


def load_session(path: str | os.PathLike) -> Session:
    """Read a session file. Raises `ImageError` when the file cannot be read (missing, not
    a regular file: a named pipe or a device is refused without reading; over
    `MAX_SESSION_BYTES`) or is not JSON, `ParameterError` naming the file and key for a
    value of the wrong kind."""
    path = Path(path)
    raw = read_regular_file(path, "session file", MAX_SESSION_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImageError(f"{shown_path(path)}: not a session file (not UTF-8 text: {exc.reason} at byte {exc.start:,})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImageError(f"{shown_path(path)}: not a session file (invalid JSON at line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise ImageError(f"{shown_path(path)}: not a session file (its JSON is nested too deeply to read)") from None
    except ValueError:  # Python refuses integers of more than 4300 digits
        raise ImageError(f"{shown_path(path)}: not a session file (it holds a number too long to read)") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise ImageError(f"{shown_path(path)}: not an Upscope session file (no \"format\": \"{SESSION_FORMAT}\")")
    if data.get("version") != SESSION_VERSION:
        raise ImageError(
            f"{shown_path(path)}: session version {data.get('version')!r} is not supported "
            f"(this Upscope reads {SESSION_VERSION})"
        )
    where = shown_path(path)
    image = data.get("image")
    if image is not None and not isinstance(image, str):
        raise ParameterError(f"{where}: image must be a path or null; got {_shown(image)}")
    if image is not None and (not image or "\0" in image):
        raise ParameterError(f"{where}: image must be a path (not empty, no NUL character); got {_shown(image)}")
    if image is not None and not os.path.isabs(image):
        image = str((path.resolve().parent / image).resolve())
    regions = data.get("regions") or []
    if not isinstance(regions, list) or not all(
        isinstance(r, list) and len(r) == 4 and all(isinstance(v, int) and not isinstance(v, bool) for v in r) for r in regions
    ):
        raise ParameterError(f"{where}: regions must be a list of [x, y, width, height] whole numbers; got {_shown(regions)}")
    largest = limits.max_output_pixels  # no side of an image can be longer
    for index, region in enumerate(regions):
        if any(abs(v) > largest for v in region):
            raise ParameterError(f"{where}: regions[{index}] has a value over {largest}; got {_shown(region)}")
    view = data.get("view")
    if view is not None:
        if not (isinstance(view, dict) and all(_is_number(view.get(k)) for k in ("cx", "cy", "zoom"))):
            raise ParameterError(f"{where}: view must be {{cx, cy, zoom}} (finite numbers) or null; got {_shown(view)}")
        for key in ("cx", "cy"):
            if not 0 <= view[key] <= largest:
                raise ParameterError(
                    f"{where}: view.{key} must be from 0 to {largest} (a point of the image); got {_shown(view[key])}"
                )
        low, high = VIEW_ZOOM_RANGE
        if not low <= view["zoom"] <= high:
            raise ParameterError(
                f"{where}: view.zoom must be from 1/{1 / low:g} to {high:g} screen pixels per image pixel; "
                f"got {_shown(view['zoom'])}"
            )
        view = View(float(view["cx"]), float(view["cy"]), float(view["zoom"]))
    diff = data.get("difference") or {}
    if not isinstance(diff, dict):
        raise ParameterError(f"{where}: difference must be an object; got {_shown(diff)}")
    gain = diff.get("gain", 1.0)
    if not _is_number(gain) or not 1 <= gain <= 64:
        raise ParameterError(f"{where}: difference.gain must be a number from 1 to 64; got {_shown(gain)}")
    kind = diff.get("kind", "abs")
    if not isinstance(kind, str) or kind not in DIFF_KINDS:
        raise ParameterError(f"{where}: difference.kind must be one of {', '.join(DIFF_KINDS)}; got {_shown(kind)}")
    added, ids, notes = _add_again(data.get("added") or [], path, where)
    settings_data = data.get("settings", {})
    if isinstance(settings_data, dict) and isinstance(settings_data.get("methods"), list):
        settings_data = dict(settings_data, methods=_renamed(settings_data["methods"], ids))
    return Session(
        image=image,
        settings=settings_from_dict(settings_data, f"{where}: settings"),
        regions=tuple(Region(*r).checked(f"{where}: region") for r in regions),
        view=view,
        show_difference=bool(diff.get("show", False)),
        diff_kind=kind,
        diff_gain=float(gain),
        added=added,
        notes=tuple(notes),
    )


def _add_again(entries: Any, path: Path, where: str) -> tuple[tuple[AddedMethod, ...], dict[str, str | None], list[str]]:
    """Add a session's methods again. Returns what was added, the new id of every saved
    id (None for one that could not be added) and a note per changed or missing file."""
    if not isinstance(entries, list):
        raise ParameterError(f"{where}: added must be a list; got {_shown(entries)}")
    added: list[AddedMethod] = []
    ids: dict[str, str | None] = {}
    notes: list[str] = []
    plugins: dict[str, list[str] | None] = {}  # a plugin file is loaded once for all its methods
    for index, entry in enumerate(entries):
        item = _added_entry(entry, f"{where}: added[{index}]", path)
        if item.kind == "plugin" and item.path in plugins:
            loaded = plugins[item.path]
            ids[item.id] = item.id if loaded is not None and item.id in loaded else None
            if ids[item.id] is not None:
                added.append(item)
            continue
        file = shown_path(item.path)
        try:
            digest = file_sha256(item.path)
            if item.sha256 and digest != item.sha256:
                notes.append(f"{item.label}: {file} has changed since the session was saved (its SHA-256 differs)")
            new_ids = {item.id: _add_one(item, plugins)}
        except UpscopeError as exc:  # an unreadable file (ImageError) or one that cannot be added
            notes.append(f"{item.label}: {exc}; it is left out")
            ids[item.id] = None
            if item.kind == "plugin":
                plugins[item.path] = None
            continue
        if new_ids.get(item.id) is None:
            notes.append(f"{item.label}: {file} no longer registers the method {item.id}; it is left out")
            ids[item.id] = None
            continue
        ids.update(new_ids)
        added.append(replace(item, sha256=digest, id=new_ids[item.id] or item.id))
    return tuple(added), ids, notes


def _add_one(item: AddedMethod, plugins: dict[str, list[str] | None]) -> str | None:
    """Add ``item`` again; its id now (None: its plugin no longer registers it). A
    plugin's file is remembered in ``plugins`` with the ids it registered."""
    if item.kind == "model":
        return add_model(item.path, item.label, value_range=dict(item.options).get("value_range", "0-1"))
    if item.kind == "result":
        return add_result(item.label, item.path)
    registered = load_plugin(item.path)
    plugins[item.path] = registered
    return item.id if item.id in registered else None


def _added_entry(entry: Any, where: str, session_path: Path) -> AddedMethod:
    if not isinstance(entry, dict):
        raise ParameterError(f"{where} must be an object; got {_shown(entry)}")
    kind, file, label, method_id = (entry.get(k) for k in ("kind", "path", "label", "id"))
    if kind not in ("model", "result", "plugin"):
        raise ParameterError(f"{where}.kind must be model, result or plugin; got {_shown(kind)}")
    for key, value in (("path", file), ("label", label), ("id", method_id)):
        if not isinstance(value, str) or not value or "\0" in value:
            raise ParameterError(f"{where}.{key} must be a non-empty text; got {_shown(value)}")
    digest = entry.get("sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        raise ParameterError(f"{where}.sha256 must be 64 hex digits or null; got {_shown(digest)}")
    options = entry.get("options") or {}
    if not isinstance(options, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        raise ParameterError(f"{where}.options must be an object of texts; got {_shown(options)}")
    file, label, method_id = str(file), str(label), str(method_id)
    absolute = file if os.path.isabs(file) else str((session_path.resolve().parent / file).resolve())
    return AddedMethod(str(kind), absolute, digest, label, method_id, tuple(sorted(options.items())))


def _renamed(methods: list[Any], ids: dict[str, str | None]) -> list[Any]:
    """A session's method list with added methods' ids as they are now; those that could
    not be added again are dropped (a note says why)."""
    renamed: list[Any] = []
    for item in methods:
        method_id = item if isinstance(item, str) else item.get("id") if isinstance(item, dict) else None
        if not isinstance(method_id, str) or method_id not in ids:
            renamed.append(item)
        elif ids[method_id] is not None:
            renamed.append(ids[method_id] if isinstance(item, str) else dict(item, id=ids[method_id]))
    return renamed


def _choice(item: Any, where: str) -> MethodChoice:
    """A method of a session: a known id, with parameters its method accepts."""
    if isinstance(item, str):
        method_id, params = item, {}
    elif isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("params", {}), dict):
        method_id, params = item["id"], dict(item.get("params", {}))
    else:
        raise ParameterError(f'{where} must be a method id or {{"id": ..., "params": {{...}}}}; got {_shown(item)}')
    try:
        spec = get_method(method_id)
        spec.resolve_params(params)
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None
    except (ValueError, TypeError, OverflowError):  # e.g. a ragged or non-numeric kernel
        for param in spec.params:
            try:
                param.validate(method_id, params.get(param.name, param.default))
            except (ValueError, TypeError, OverflowError) as exc:
                what = "a rectangular array of numbers" if param.kind in ("kernel", "array") else f"a valid {param.kind}"
                raise ParameterError(
                    f"{where}: {method_id}: parameter '{param.name}' must be {what}; got {_shown(params.get(param.name))}"
                ) from exc
        raise
    return MethodChoice(method_id, params)


def _is_number(value: Any) -> bool:
    """Whether ``value`` is a finite JSON number (an integer too large for a float is not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _shown(value: Any, most: int = 80) -> str:
    """``repr(value)`` cut to ``most`` characters, for messages (a session may hold a list
    of a million entries or a number of thousands of digits)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long to write out
        return "a number too long to show"
    except RecursionError:
        return "a value nested too deeply to show"
    return text if len(text) <= most else text[: most - 3] + "..."


def _relative(image: str, base: Path | None) -> str:
    absolute = Path(image).resolve()
    if base is not None:
        try:
            return absolute.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(absolute)
