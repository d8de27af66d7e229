"""Upscope: see what every upsampling method does to an image.

Thin entry point: parse arguments, then run the command line or the window.

Exit codes of the command line: 0 success, 2 a usage error (bad option, unknown method,
bad scale, an output that exists without ``--force``), 1 an input that cannot be read or
an output that cannot be written, and 1 when the window is asked for where there is no
display. Messages go to stderr and name the file or value.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import core

EXIT_OK, EXIT_INPUT, EXIT_USAGE = 0, 1, 2
EXIT_NO_DISPLAY = 1


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
        "--export the window opens; with no display it exits with 1.",
        allow_abbrev=False,  # a mistyped option is an error, not a guess (--result is not --results)
    )
    parser.add_argument("images", nargs="*", help="image files, or folders (the images directly inside them)")
    parser.add_argument("--list-methods", action="store_true",
                        help="print every method id with its family, accepted scales, description and backends, and exit")
    parser.add_argument("--list-backends", action="store_true", help="print the compute backends that run here (and why others do not) and exit")
    parser.add_argument("--backend", choices=("auto", "cpu", "opencl", "torch"),
                        help="where pixels are computed (default: UPSCOPE_BACKEND, else auto: a GPU when there is one)")
    parser.add_argument("--session", metavar="FILE", help="a saved session: its image and settings (options given here override them)")
    export = parser.add_argument_group("export (no window)")
    export.add_argument("--export", metavar="OUT",
                        help="write the comparison figure: OUT.png for one image; a folder for several, with one "
                        "figure per image named after its file (photo.jpg gives OUT/photo.jpg.png)")
    export.add_argument("--scale", metavar="S",
                        help=f"scale from 1 to {core.limits.max_scale:g}, e.g. 4 or 2.5, or Y,X for separate scales "
                        f"(default {defaults.scale:g})")
    export.add_argument("--methods", metavar="ID,ID",
                        help="method ids in display order, see --list-methods (default: "
                        + ", ".join(choice.id for choice in core.default_methods()) + ")")
    export.add_argument("--mode", choices=("upscale", "degrade"),
                        help=f"upscale the image as it is, or shrink it first and measure (default {defaults.mode})")
    export.add_argument("--downsample", metavar="ID",
                        help=f"downsampler of degrade mode: {', '.join(spec.id for spec in downsamplers)} "
                        f"({whole_only}: whole-number scales only; default {defaults.downsampler})")
    export.add_argument("--reference", metavar="ID",
                        help="a method id whose result is the reference of metrics and difference maps "
                        "(default: the original in degrade mode, none in upscale mode)")
    export.add_argument("--convention", choices=("all", "paper"),
                        help="metrics on all channels, or on luma with a border of the scale shaved "
                        "(default: all; paper for a paper figure)")
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
                        help="write every image's metrics to this CSV (several images: OUT/metrics.csv unless given); "
                        "no file when nothing was measured")
    export.add_argument("--results", metavar="DIR",
                        help="also write each result, difference map, metrics.csv and metrics.json into DIR "
                        "(several images: a sub-folder per image, named after its file)")
    export.add_argument("--jobs", metavar="N", type=int, help="images compared in parallel, at least 1 (default: one per core)")
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


def export_request(args: argparse.Namespace, session=None):  # noqa: ANN001, ANN201
    """The `core.ExportRequest` the options describe, over a session's settings."""
    import dataclasses
    from pathlib import Path

    import core

    settings = session.settings if session is not None else core.ComparisonSettings()
    changes = {}
    if args.scale is not None:
        changes["scale"] = parse_scale_text(args.scale)
    if args.methods is not None:
        changes["methods"] = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    for option, key in (("mode", "mode"), ("downsample", "downsampler"), ("reference", "reference"), ("convention", "convention")):
        if getattr(args, option) is not None:
            changes[key] = getattr(args, option)
    settings = dataclasses.replace(settings, **changes)
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
    for option, value in (("--magnify", args.magnify), ("--columns", args.columns), ("--jobs", args.jobs)):
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

    session = core.load_session(args.session) if args.session else None
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
    for outcome in report.failed:
        print(f"upscope: {outcome.error}", file=sys.stderr)
    done = len(report.outcomes) - len(report.failed)
    print(f"upscope: wrote {done} figure(s) in {report.seconds:.1f} s" + (f", metrics in {report.metrics_path}" if report.metrics_path else ""), file=sys.stderr)
    if any(outcome.usage for outcome in report.failed):
        return EXIT_USAGE
    return EXIT_INPUT if report.failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
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
        import core

        logging.basicConfig(format="upscope: %(message)s", level=logging.WARNING)  # a backend failure is told
        try:
            if args.backend:
                core.set_backend(args.backend)
            return run_export(args)
        except core.BackendError as exc:  # asked for by name and cannot run here
            print(f"upscope: backend {args.backend}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except core.ParameterError as exc:
            print(f"upscope: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except core.UpscopeError as exc:
            print(f"upscope: {exc}", file=sys.stderr)
            return EXIT_INPUT
    missing = missing_display()
    if missing:
        print(f"upscope: no display: {missing}; run under a desktop session, set QT_QPA_PLATFORM=offscreen for "
              "tests, or use --export for figures without a window", file=sys.stderr)
        return EXIT_NO_DISPLAY
    from gui import run_viewer

    return run_viewer(args.images, session=args.session)


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
