"""``--export``: the options turned into a `core.ExportRequest`, the batch run with a
progress bar and clean stops on signals, and one line per outcome on stderr."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import core

from cli import EXIT_INPUT, EXIT_OK, EXIT_USAGE
from cli.progress import TerminalProgress

#: Signals that end an export cleanly: temporary files removed, workers stopped.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


#: Options that describe the comparison itself (the window takes them too).
COMPARISON_OPTIONS = ("scale", "methods", "mode", "downsample", "reference", "convention")


#: Options of the exported files only.
FIGURE_OPTIONS = (
    "crop", "magnify", "columns", "diff", "table", "spectrum", "region", "paper", "metrics", "results", "jobs", "force",
)


def comparison_settings(args: argparse.Namespace, base):  # noqa: ANN001, ANN201
    """``base`` (`core.ComparisonSettings`) with the comparison options given on the
    command line; None values leave ``base``'s."""
    import dataclasses

    changes: dict[str, object] = {}
    if args.scale is not None:
        changes["scale"] = parse_scale_text(args.scale)
    added = getattr(args, "added_methods", [])
    if args.methods is not None:
        named = parse_methods_text(args.methods)
        ids = {m if isinstance(m, str) else m.id for m in named}
        changes["methods"] = named + tuple(m for m in added if m not in ids)
    elif added:
        present = {choice.id for choice in base.method_choices()}
        changes["methods"] = tuple(base.methods) + tuple(m for m in added if m not in present)
    for option, key in (
        ("mode", "mode"),
        ("downsample", "downsampler"),
        ("reference", "reference"),
        ("convention", "convention"),
    ):
        if getattr(args, option) is not None:
            changes[key] = getattr(args, option)
    return dataclasses.replace(base, **changes)


def export_request(args: argparse.Namespace, session=None):  # noqa: ANN001, ANN201
    """The `core.ExportRequest` the options describe, over a session's settings."""
    from dataclasses import replace
    from pathlib import Path

    import core

    settings = comparison_settings(args, session.settings if session is not None else core.ComparisonSettings())
    regions = tuple(core.Region.parse(r, "--region") for r in args.region or ())
    if not regions and args.paper:
        if session is None or not session.regions:
            raise core.ParameterError("--paper needs regions: give --region X,Y,W,H, or a --session that has some")
        regions = session.regions
    if regions:
        grid_only = [name for name, given in (("--crop", args.crop), ("--diff", args.diff), ("--table", args.table),
                                              ("--spectrum", args.spectrum)) if given]
        if grid_only:
            raise core.ParameterError(
                f"{', '.join(grid_only)}: options of the comparison grid, which a paper figure (--region, --paper) "
                "does not draw; leave them out, or the regions"
            )
        if not args.convention:  # one convention for every row of the metrics: the paper figure's
            settings = replace(settings, convention="paper")
    figure = core.GridOptions(
        crop=core.Region.parse(args.crop, "--crop") if args.crop else None,
        magnification=args.magnify,
        columns=args.columns,
        include_diff=args.diff,
        include_metrics=args.table,
        include_spectrum=args.spectrum,
        background=args.background,
        diff_kind=args.diff_kind,
        diff_gain=args.gain,
    )
    if not 1 <= args.gain <= 64:
        raise core.ParameterError(f"--gain must be from 1 to 64; got {args.gain}")
    for option, value in (("--magnify", args.magnify), ("--columns", args.columns)):
        if value is not None and value < 1:
            raise core.ParameterError(f"{option} must be at least 1; got {value}")
    return core.ExportRequest(
        settings=settings,
        figure=figure,
        regions=regions,
        convention=settings.convention if args.convention or regions else "paper",
        results_dir=Path(args.results) if args.results else None,
        force=args.force,
    )


def parse_methods_text(text: str) -> tuple:
    """``"nearest, bicubic[a=-0.5]"`` -> ``("nearest", MethodChoice("bicubic", {"a": -0.5}))``.

    A method's parameters go in brackets after its id, ``name=value`` separated by commas
    (``transposed-conv[kernel=box,kernel_size=3]``); a value is read as JSON where it can
    be (numbers, ``[[1, 2], [3, 4]]`` for a kernel), else as text. One method may come
    twice with different parameters; an empty list, or the same method with the same
    parameters twice, is refused (the core checks ids and parameters)."""
    import core

    items = _split_top_level(text, "--methods")
    if not items:
        raise core.ParameterError(f"--methods needs at least one method id (see --list-methods); got {text!r}")
    choices = [_method_choice(item) for item in items]
    keys = [(c.id, repr(sorted(c.params.items()))) if isinstance(c, core.MethodChoice) else (c, "[]") for c in choices]
    twice = sorted({key[0] for key in keys if keys.count(key) > 1})
    if twice:
        raise core.ParameterError(
            f"--methods names {', '.join(twice)} more than once with the same parameters (a parameter at its "
            "default counts as not given); give each method once"
        )
    return tuple(choices)


def _split_top_level(text: str, option: str) -> list[str]:
    """``text`` split at the commas outside brackets, each part stripped, empty parts dropped."""
    import core

    parts, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise core.ParameterError(f"{option}: a ']' without its '[' in {text!r}")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth != 0:
        raise core.ParameterError(f"{option}: a '[' without its ']' in {text!r}")
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _method_choice(item: str):
    """One item of ``--methods``: an id, or ``id[name=value,...]`` as a `core.MethodChoice`."""
    import json

    import core

    if "[" not in item:
        return item
    method_id, _, rest = item.partition("[")
    if not rest.endswith("]"):
        raise core.ParameterError(f"--methods: {item!r} must end with ']' after its parameters")
    params = {}
    for pair in _split_top_level(rest[:-1], f"--methods {method_id}"):
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise core.ParameterError(f"--methods {method_id}: parameters are name=value; got {pair!r}")
        if name.strip() in params:
            raise core.ParameterError(f"--methods {method_id}: parameter {name.strip()!r} is given twice; give it once")
        try:
            params[name.strip()] = json.loads(value)
        except ValueError:
            params[name.strip()] = value.strip()
    method_id = method_id.strip()
    try:  # a parameter given at its default is no parameter: bicubic[a=-0.75] is bicubic
        defaults = {p.name: p.default for p in core.get_method(method_id).params if p.default is not None}
    except core.ParameterError:
        defaults = {}  # an unknown id: the core names it
    changed = {name: value for name, value in params.items() if not (name in defaults and defaults[name] == value)}
    return core.MethodChoice(method_id, changed) if changed else method_id


def parse_scale_text(text: str) -> float | tuple[float, float]:
    """``"4"`` -> 4.0, ``"4,3"`` -> (4.0, 3.0); the core checks the values."""
    import core

    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        raise core.ParameterError(f"--scale must be a number or Y,X; got {text!r}") from None
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise core.ParameterError(f"--scale must be a number or Y,X; got {text!r}")


def run_export(args: argparse.Namespace) -> int:
    """The headless command line: make the figures, report, return the exit code (1
    when a method of ``--model``, ``--result`` or ``--plugin`` could not be added, even
    if the figures of the others were written)."""
    import core

    session = read_session(args.session) if args.session else None
    for note in session.notes if session is not None else ():
        print(f"upscope: {args.session}: {one_line(note)}", file=sys.stderr)  # a changed or missing added file
        args.own_methods_status = EXIT_INPUT
    inputs = list(args.images)
    if not inputs and session is not None and session.image is not None:
        inputs = [session.image]
    if not inputs:
        raise core.ParameterError("--export needs an image, a folder, or a --session with an image")
    request = export_request(args, session)
    metrics = args.metrics
    if metrics is None and (len(inputs) > 1 or os.path.isdir(inputs[0])):
        metrics = os.path.join(args.export, "metrics.csv")  # a batch always gets its table
    report = core.export_images(
        inputs, args.export, request, metrics_path=metrics, jobs=args.jobs, progress=TerminalProgress(sys.stderr)
    )
    for line in report_lines(report):
        print(f"upscope: {one_line(line)}", file=sys.stderr)
    if any(outcome.usage for outcome in report.failed):
        return EXIT_USAGE
    failed = report.failed or report.metrics_error or getattr(args, "own_methods_status", EXIT_OK) != EXIT_OK
    return EXIT_INPUT if failed else EXIT_OK


def read_session(path: str):  # noqa: ANN201
    """`core.load_session`, with what the JSON reader itself cannot take (nesting too
    deep, a number too long) reported as `core.ImageError` naming the file."""
    import core

    try:
        return core.load_session(path)
    except core.UpscopeError:
        raise
    except OSError as exc:  # a folder on the way that may not be searched, say
        raise core.ImageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except RecursionError:
        raise core.ImageError(f"{path}: not a session file (nested too deeply to read)") from None
    except (ValueError, TypeError) as exc:
        # Python's own words, up to its advice about interpreter settings
        raise core.ImageError(f"{path}: not a session file ({one_line(exc).split('; ')[0]})") from None


def report_lines(report: core.BatchReport) -> list[str]:
    """What an export did, for stderr: each failure, the files written for a failed image
    before its failure, then one summary line (figures and other files written, the
    metrics file, the images that failed)."""
    lines = []
    for outcome in report.failed:
        lines.append(one_line(outcome.error))
        if outcome.written:
            lines.append(
                f"{outcome.image}: written before that: {', '.join(str(p) for p in outcome.written)}; "
                "its other files were not written"
            )
    if report.metrics_error:
        lines.append(one_line(report.metrics_error))
    if report.metrics_unwritten:
        lines.append(one_line(report.metrics_unwritten))
    figures = len(report.figures)
    others = sum(len(o.written) for o in report.outcomes) - figures
    summary = f"wrote {figures} figure(s)" + (f" and {others} results file(s)" if others else "")
    summary += f" in {report.seconds:.1f} s"
    if report.metrics_path:
        summary += f", metrics in {report.metrics_path}"
    if report.failed:
        summary += f"; {len(report.failed)} of {len(report.outcomes)} image(s) failed"
    lines.append(summary)
    return lines


def one_line(message: object) -> str:
    """``message`` on one line: a newline (in a file name, say) is written ``\\n``."""
    return str(message).replace("\r", "\\r").replace("\n", "\\n") or type(message).__name__


@contextlib.contextmanager
def stop_signals_raise_interrupt() -> Iterator[list[int]]:
    """While inside, SIGINT, SIGTERM and SIGHUP raise `KeyboardInterrupt` in the main
    thread, so the paths that remove temporary files and stop worker processes run; the
    list yielded gets the signal's number. Once one arrived the others are ignored, so the
    clean-up is not cut short. The previous handlers come back on leaving."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield received
        return

    def stop(signum: int, frame: object) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        received.append(signum)
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def export_with_messages(args: argparse.Namespace) -> int:
    """`run_export` with every failure as one line on stderr and its exit code: usage
    errors 2; unreadable inputs, unwritable outputs and anything unexpected 1; a stop
    signal 128 + its number."""
    return with_messages(args, lambda: run_export(args))


def with_messages(args: argparse.Namespace, work: Callable[[], int]) -> int:
    """Run ``work`` (after choosing ``args.backend``) with every failure as one line on
    stderr and its exit code, as `export_with_messages` says."""
    import core

    logging.basicConfig(format="upscope: %(message)s", level=logging.WARNING)  # a backend failure is told
    with stop_signals_raise_interrupt() as received:
        try:
            if args.backend:
                core.set_backend(args.backend)
            return work()
        except KeyboardInterrupt:
            signum = received[0] if received else signal.SIGINT
            said = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
            after_bar = "\n" if getattr(sys.stderr, "isatty", lambda: False)() else ""  # off the progress bar's line
            print(f"{after_bar}upscope: {said}; files already complete are kept, no partial file is left", file=sys.stderr)
            return 128 + signum
        except core.BackendError as exc:  # asked for by name and cannot run here
            print(f"upscope: backend {args.backend}: {one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except core.OutputExistsError as exc:
            names = ", ".join(str(p) for p in exc.paths[:3]) + (" ..." if len(exc.paths) > 3 else "")
            print(f"upscope: {one_line(names)}: already exists; add --force to overwrite", file=sys.stderr)
            return EXIT_USAGE
        except core.ParameterError as exc:
            print(f"upscope: {one_line(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except core.UpscopeError as exc:
            print(f"upscope: {one_line(exc)}", file=sys.stderr)
            return EXIT_INPUT
        except MemoryError:
            print("upscope: not enough memory; try fewer methods, a smaller scale or fewer --jobs", file=sys.stderr)
            return EXIT_INPUT
        except OSError as exc:  # the system refused something no check foresaw
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"upscope: {one_line(where + (exc.strerror or str(exc)))}", file=sys.stderr)
            return EXIT_INPUT
        except Exception as exc:  # a bug: still one line, and the exit code of a failure
            print(f"upscope: internal error ({type(exc).__name__}: {one_line(exc)}); please report it", file=sys.stderr)
            return EXIT_INPUT
