"""Upscope: see what every upsampling method does to an image.

Thin entry point: parse arguments, then run the command line or the window.

Exit codes of the command line: 0 success, 2 a usage error (bad option, unknown method,
bad scale, an output that exists without ``--force``), 1 an input that cannot be read or
an output that cannot be written, 1 when the window is asked for where there is no
display, and 128 + the signal's number when stopped by SIGINT (130, Ctrl+C), SIGHUP (129)
or SIGTERM (143), with no partial file left. Messages go to stderr, one line each, and
name the file or value.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    import core

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
EXIT_NO_DISPLAY = 1

#: Signals that end an export cleanly: temporary files removed, workers stopped.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class WholeWordsHelpFormatter(argparse.HelpFormatter):
    """Wraps help text at spaces only, so ids such as bicubic-aa stay whole."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False)


def build_parser() -> argparse.ArgumentParser:
    import core

    defaults = core.ComparisonSettings()
    downsamplers = core.list_downsamplers()
    whole_only = " and ".join(spec.id for spec in downsamplers if spec.integer_only)
    parser = argparse.ArgumentParser(
        prog="upscope",
        formatter_class=WholeWordsHelpFormatter,
        description="Compare upsampling methods side by side: classic interpolation, "
        "neural-network layers and learned upsamplers. With --export, no window opens.",
        epilog="Exit codes of --export: 0 success; 1 an input that cannot be read or an output that cannot be "
        "written; 2 a usage error (a bad option or value, an output that exists without --force). Without "
        "--export the window opens; with no display it exits with 1. Stopped by Ctrl+C, SIGTERM or SIGHUP: "
        "128 + the signal's number (130, 143, 129), files already complete are kept and no partial file is left.",
        allow_abbrev=False,  # a mistyped option is an error, not a guess (--result is not --results)
    )
    parser.add_argument("images", nargs="*", help="image files, or folders (the images directly inside them)")
    parser.add_argument("--list-methods", action="store_true",
                        help="print every method id with its family, accepted scales, description and backends, and exit")
    parser.add_argument("--list-backends", action="store_true", help="print the compute backends that run here (and why others do not) and exit")
    parser.add_argument("--backend", choices=("auto", "cpu", "opencl", "torch"),
                        help="where pixels are computed (default: UPSCOPE_BACKEND, else auto: a GPU when there is one)")
    parser.add_argument("--session", metavar="FILE", help="a saved session: its image and settings (options given here override them)")
    comparison = parser.add_argument_group("the comparison (the window's settings, or what --export compares)")
    comparison.add_argument("--scale", metavar="S",
                        help=f"scale from 1 to {core.limits.max_scale:g}, e.g. 4 or 2.5, or Y,X for separate scales "
                        f"(default {defaults.scale:g})")
    comparison.add_argument("--methods", metavar="ID,ID",
                        help="method ids in display order, see --list-methods (default: "
                        + ", ".join(choice.id for choice in core.default_methods()) + ")")
    comparison.add_argument("--mode", choices=("upscale", "degrade"),
                        help=f"upscale the image as it is, or shrink it first and measure (default {defaults.mode})")
    comparison.add_argument("--downsample", metavar="ID",
                        help=f"downsampler of degrade mode: {', '.join(spec.id for spec in downsamplers)} "
                        f"({whole_only}: whole-number scales only; default {defaults.downsampler})")
    comparison.add_argument("--reference", metavar="ID",
                        help="a method id whose result is the reference of metrics and difference maps "
                        "(default: the original in degrade mode, none in upscale mode)")
    comparison.add_argument("--convention", choices=("all", "paper"),
                        help="metrics on all channels, or on luma with a border of the scale shaved "
                        "(default: all; paper for a paper figure)")
    export = parser.add_argument_group("export (no window)")
    export.add_argument("--export", metavar="OUT",
                        help="write the comparison figure: OUT.png for one image; a folder for several, with one "
                        "figure per image named after its file (photo.jpg gives OUT/photo.jpg.png)")
    export.add_argument("--crop", metavar="X,Y,W,H",
                        help="show this rectangle of the output (pixels: left, top, width, height), magnified, "
                        "instead of the whole image")
    export.add_argument("--magnify", metavar="N", type=int,
                        help="whole-number magnification of each tile, at least 1 (default: automatic)")
    export.add_argument("--columns", metavar="N", type=int, help="tiles per row, at least 1 (default: a near-square grid)")
    export.add_argument("--diff", action="store_true", help="add the difference maps with their colour bar")
    export.add_argument("--diff-kind", choices=("abs", "signed", "squared"), default="abs",
                        help="difference kind of --diff (default abs)")
    export.add_argument("--gain", metavar="G", type=float, default=1.0, help="difference-map gain, 1 to 64 (default 1)")
    export.add_argument("--table", action="store_true", help="add the metrics table under the grid")
    export.add_argument("--background", choices=("light", "dark"), default="light",
                        help="background of the figure (default light)")
    export.add_argument("--region", metavar="X,Y,W,H", action="append",
                        help="a region of interest in output pixels; give it once or twice to make a paper figure")
    export.add_argument("--paper", action="store_true", help="make the paper figure from the session's regions")
    export.add_argument("--metrics", metavar="OUT.csv",
                        help="write every image's metrics to this CSV file (several images: OUT/metrics.csv unless "
                        "given); no file when nothing was measured")
    export.add_argument("--results", metavar="DIR",
                        help="also write each result, difference map, metrics.csv and metrics.json into DIR "
                        "(several images: a sub-folder per image, named after its file)")
    export.add_argument("--jobs", metavar="N", type=int,
                        help="images compared in parallel, from 1 to 4 per core (default: one per core)")
    export.add_argument("--force", action="store_true", help="overwrite existing figures, metrics and results")
    return parser


def list_methods_text() -> str:
    """One block per method: id, family, accepted scales, description."""
    import core

    lines = []
    for spec in core.list_methods():
        lines.append(f"{spec.id:<18} {spec.label} [{spec.family}, {accepted_scales(spec)}]")
        lines.append(f"{'':<18} {spec.description}")
        lines.append(f"{'':<18} {core.backends_sentence(spec.id)}")
    return "\n".join(lines)


def accepted_scales(spec: core.MethodSpec) -> str:
    """The scales ``spec`` takes, as --list-methods says them."""
    if spec.trained_scales:
        return ", ".join(f"x{s}" for s in spec.trained_scales) + " only"
    return "whole-number scales" if spec.scales == "integer" else "any scale"


def list_backends_text() -> str:
    """Each backend that runs here with its device, then those that do not, with why."""
    import core

    lines = [f"{info.name:<8} {info.summary()}" for info in core.available_backends()]
    lines += [f"{name:<8} unavailable: {reason}" for name, reason in core.unavailable_backends().items()]
    lines.append(f"in use: {core.current_backend().info().summary()}")
    return "\n".join(lines)


#: Options that describe the comparison itself (the window takes them too).
COMPARISON_OPTIONS = ("scale", "methods", "mode", "downsample", "reference", "convention")
#: Options of the exported files only.
FIGURE_OPTIONS = ("crop", "magnify", "columns", "diff", "table", "region", "paper", "metrics", "results", "jobs", "force")


def comparison_settings(args: argparse.Namespace, base):  # noqa: ANN001, ANN201
    """``base`` (`core.ComparisonSettings`) with the comparison options given on the
    command line; None values leave ``base``'s."""
    import dataclasses

    changes = {}
    if args.scale is not None:
        changes["scale"] = parse_scale_text(args.scale)
    if args.methods is not None:
        changes["methods"] = parse_methods_text(args.methods)
    for option, key in (("mode", "mode"), ("downsample", "downsampler"), ("reference", "reference"), ("convention", "convention")):
        if getattr(args, option) is not None:
            changes[key] = getattr(args, option)
    return dataclasses.replace(base, **changes)


def export_request(args: argparse.Namespace, session=None):  # noqa: ANN001, ANN201
    """The `core.ExportRequest` the options describe, over a session's settings."""
    from pathlib import Path

    import core

    settings = comparison_settings(args, session.settings if session is not None else core.ComparisonSettings())
    regions = tuple(core.Region.parse(r, "--region") for r in args.region or ())
    if not regions and args.paper:
        if session is None or not session.regions:
            raise core.ParameterError("--paper needs regions: give --region X,Y,W,H, or a --session that has some")
        regions = session.regions
    figure = core.GridOptions(
        crop=core.Region.parse(args.crop, "--crop") if args.crop else None,
        magnification=args.magnify,
        columns=args.columns,
        include_diff=args.diff,
        include_metrics=args.table,
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
        convention=settings.convention if args.convention else "paper",
        results_dir=Path(args.results) if args.results else None,
        force=args.force,
    )


def parse_methods_text(text: str) -> tuple[str, ...]:
    """``"nearest, bicubic"`` -> ``("nearest", "bicubic")``; an empty list or an id given
    twice is refused (the core checks that the ids exist)."""
    import core

    methods = tuple(m.strip() for m in text.split(",") if m.strip())
    if not methods:
        raise core.ParameterError(f"--methods needs at least one method id (see --list-methods); got {text!r}")
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise core.ParameterError(f"--methods names {', '.join(twice)} more than once; give each method once")
    return methods


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
    """The headless command line: make the figures, report, return the exit code."""
    import core

    session = read_session(args.session) if args.session else None
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
        inputs, args.export, request, metrics_path=metrics, jobs=args.jobs, progress=core.TerminalProgress(sys.stderr)
    )
    for line in report_lines(report):
        print(f"upscope: {one_line(line)}", file=sys.stderr)
    if any(outcome.usage for outcome in report.failed):
        return EXIT_USAGE
    return EXIT_INPUT if report.failed or report.metrics_error else EXIT_OK


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
            lines.append(f"{outcome.image}: written before that: {', '.join(str(p) for p in outcome.written)}; "
                         "its other files were not written")
    if report.metrics_error:
        lines.append(one_line(report.metrics_error))
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
    import core

    logging.basicConfig(format="upscope: %(message)s", level=logging.WARNING)  # a backend failure is told
    with stop_signals_raise_interrupt() as received:
        try:
            if args.backend:
                core.set_backend(args.backend)
            return run_export(args)
        except KeyboardInterrupt:
            signum = received[0] if received else signal.SIGINT
            said = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
            after_bar = "\n" if getattr(sys.stderr, "isatty", lambda: False)() else ""  # off the progress bar's line
            print(f"{after_bar}upscope: {said}; files already complete are kept, no partial file is left", file=sys.stderr)
            return 128 + signum
        except core.BackendError as exc:  # asked for by name and cannot run here
            print(f"upscope: backend {args.backend}: {one_line(exc)}", file=sys.stderr)
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


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except KeyboardInterrupt:  # Ctrl+C while the core loads, or while a list is printed
        print("upscope: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT


def run(argv: list[str] | None) -> int:
    """What the arguments ask for: a list, an export, or the window."""
    args = build_parser().parse_args(argv)
    if args.list_methods:
        print(list_methods_text())
        return EXIT_OK
    if args.backend:
        # The variable makes the choice the session's, for the viewer and every worker.
        os.environ["UPSCOPE_BACKEND"] = args.backend
    if args.list_backends:
        print(list_backends_text())
        return EXIT_OK
    if args.export:
        return export_with_messages(args)
    missing = missing_display()
    if missing:
        print(f"upscope: no display: {missing}; run under a desktop session, set QT_QPA_PLATFORM=offscreen for "
              "tests, or use --export for figures without a window", file=sys.stderr)
        return EXIT_NO_DISPLAY
    settings = window_settings(args)
    if isinstance(settings, int):
        return settings
    from gui import run_viewer

    return run_viewer(args.images, session=args.session, settings=settings)


def window_settings(args: argparse.Namespace):  # noqa: ANN201
    """The comparison options given for the window, checked (None when none was given),
    or the exit code of a usage error. Options of exported files are named as ignored."""
    ignored = [f"--{name}" for name in FIGURE_OPTIONS if getattr(args, name) not in (None, False, [])]
    if ignored:
        print(f"upscope: {', '.join(ignored)} apply to --export only; ignored in the window", file=sys.stderr)
    if all(getattr(args, name) is None for name in COMPARISON_OPTIONS):
        return None
    import core

    try:
        settings = comparison_settings(args, core.ComparisonSettings())
        core.check_settings(settings)
    except core.ParameterError as exc:
        print(f"upscope: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return settings


def missing_display() -> str | None:
    """Why the window cannot open here (Linux with no display server named and no Qt
    platform chosen), or None. Qt itself would abort with a core dump."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "neither DISPLAY nor WAYLAND_DISPLAY is set"


if __name__ == "__main__":
    sys.exit(main())
