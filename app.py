"""Upscope: see what every upsampling method does to an image.

Thin entry point: parse the arguments, then run the headless command line (`cli`) or the
window (`gui`). The exit codes are `cli`'s.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import textwrap

from cli import EXIT_NO_DISPLAY, EXIT_OK, EXIT_USAGE
from cli.evaluate import add_evaluate_options, run_evaluate
from cli.export import export_with_messages, with_messages
from cli.listing import list_backends_text, list_methods_text
from cli.own_methods import add_own_method_options, add_own_methods
from cli.window import missing_display, window_settings


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
        "128 + the signal's number (130, 143, 129), files already complete are kept and no partial file is left. "
        "Exit codes of --evaluate: 0 when every image at every scale ran (what could not be measured is listed); 1 a "
        "unit that failed, a model file that did not load, or a cluster that cannot be reached; 2 a usage error.",
        allow_abbrev=False,  # a mistyped option is an error, not a guess (--result is not --results)
    )
    parser.add_argument("images", nargs="*", help="image files, or folders (the images directly inside them)")
    parser.add_argument("--list-methods", action="store_true",
                        help="print every method id with its family, accepted scales, description and backends, and exit")
    parser.add_argument(
        "--list-backends", action="store_true", help="print the compute backends that run here (and why others do not) and exit"
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "cpu", "opencl", "torch"),
        help="where pixels are computed (default: UPSCOPE_BACKEND, else auto: a GPU when there is one)",
    )
    parser.add_argument(
        "--session", metavar="FILE", help="a saved session: its image and settings (options given here override them)"
    )
    comparison = parser.add_argument_group("the comparison (the window's settings, or what --export compares)")
    comparison.add_argument(
        "--scale",
        metavar="S",
        help=f"scale from 1 to {core.limits.max_scale:g}, e.g. 4 or 2.5, or Y,X for separate scales (default {defaults.scale:g})",
    )
    comparison.add_argument(
        "--methods",
        metavar="ID,ID",
        help="method ids in display order, each with its parameters in brackets if any, as in "
        "bicubic[a=-0.5] or transposed-conv[kernel=box,kernel_size=3]; see --list-methods (default: "
        + ", ".join(choice.id for choice in core.default_methods())
        + ")",
    )
    comparison.add_argument(
        "--mode",
        choices=("upscale", "degrade"),
        help=f"upscale the image as it is, or shrink it first and measure (default {defaults.mode})",
    )
    comparison.add_argument(
        "--downsample",
        metavar="ID",
        help=f"downsampler of degrade mode: {', '.join(spec.id for spec in downsamplers)} "
        f"({whole_only}: whole-number scales only; default {defaults.downsampler})",
    )
    comparison.add_argument(
        "--reference",
        metavar="ID",
        help="a method id whose result is the reference of metrics and difference maps "
        "(default: the original in degrade mode, none in upscale mode)",
    )
    comparison.add_argument(
        "--convention",
        choices=("all", "paper"),
        help="metrics on all channels, or on luma with a border of the scale shaved (default: all; paper for a "
        "paper figure and for --evaluate)",
    )
    export = parser.add_argument_group("export (no window)")
    export.add_argument(
        "--export",
        metavar="OUT",
        help="write the comparison figure: OUT.png for one image; a folder for several, with one "
        "figure per image named after its file (photo.jpg gives OUT/photo.jpg.png)",
    )
    export.add_argument(
        "--crop",
        metavar="X,Y,W,H",
        help="show this rectangle of the output (pixels: left, top, width, height), magnified, instead of the whole image",
    )
    export.add_argument(
        "--magnify", metavar="N", type=int, help="whole-number magnification of each tile, at least 1 (default: automatic)"
    )
    export.add_argument("--columns", metavar="N", type=int, help="tiles per row, at least 1 (default: a near-square grid)")
    export.add_argument("--diff", action="store_true", help="add the difference maps with their colour bar")
    export.add_argument(
        "--diff-kind", choices=core.DIFF_KINDS, default="abs",
        help="map of --diff: abs, signed or squared difference, the local SSIM, or NVIDIA's FLIP (needs the flip "
        "extra; about 3 s per 2048x2048 result) (default abs)"
    )
    export.add_argument("--gain", metavar="G", type=float, default=1.0, help="difference-map gain, 1 to 64 (default 1)")
    export.add_argument("--table", action="store_true", help="add the metrics table under the grid")
    export.add_argument("--spectrum", action="store_true",
                        help="add a row of spectra: the centred log-magnitude spectrum of the reference and of each "
                        "result, on one colour scale, with each result's checkerboard score")
    export.add_argument(
        "--background", choices=("light", "dark"), default="light", help="background of the figure (default light)"
    )
    export.add_argument(
        "--region",
        metavar="X,Y,W,H",
        action="append",
        help="a region of interest in output pixels; give it once or twice to make a paper figure",
    )
    export.add_argument("--paper", action="store_true", help="make the paper figure from the session's regions")
    export.add_argument(
        "--metrics",
        metavar="OUT.csv",
        help="write every image's metrics to this CSV file (several images: OUT/metrics.csv unless "
        "given); no file when nothing was measured",
    )
    export.add_argument(
        "--results",
        metavar="DIR",
        help="also write each result, difference map, metrics.csv and metrics.json into DIR "
        "(several images: a sub-folder per image, named after its file)",
    )
    export.add_argument(
        "--jobs", metavar="N", type=int, help="images compared in parallel, from 1 to 4 per core (default: one per core)"
    )
    export.add_argument("--force", action="store_true", help="overwrite existing figures, metrics and results "
                        "(with --evaluate: replace a store of other settings)")
    add_evaluate_options(parser)
    add_own_method_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except KeyboardInterrupt:  # Ctrl+C while the core loads, or while a list is printed
        print("upscope: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT


def run(argv: list[str] | None) -> int:
    """What the arguments ask for: a list, an export, or the window."""
    args = build_parser().parse_args(argv)
    args.added_methods, args.own_methods_status = add_own_methods(args)
    if args.own_methods_status == EXIT_USAGE:
        return EXIT_USAGE
    if args.list_methods:
        print(list_methods_text())
        return args.own_methods_status
    if args.backend:
        # The variable makes the choice the session's, for the viewer and every worker.
        os.environ["UPSCOPE_BACKEND"] = args.backend
    if args.list_backends:
        print(list_backends_text())
        return EXIT_OK
    if args.evaluate:
        return with_messages(args, lambda: run_evaluate(args))
    if args.export:
        return export_with_messages(args)
    missing = missing_display()
    if missing:
        print(
            f"upscope: no display: {missing}; run under a desktop session, set QT_QPA_PLATFORM=offscreen for "
            "tests, or use --export for figures without a window",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    settings = window_settings(args)
    if isinstance(settings, int):
        return settings
    from gui import run_viewer

    return run_viewer(args.images, session=args.session, settings=settings)


if __name__ == "__main__":
    sys.exit(main())
