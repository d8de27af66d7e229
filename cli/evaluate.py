"""``--evaluate``: every method over datasets, the tables papers print (no window).

The work itself is `core.evaluate`; this reads the options, shows progress on the terminal
(units and rows done, the time left), and says what was written, what was skipped and
what failed, on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

EXIT_OK, EXIT_INPUT = 0, 1


def add_evaluate_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--evaluate`` (the methods, downsampler, convention, jobs and force
    options of the comparison and the export are shared)."""
    group = parser.add_argument_group("dataset evaluation (no window)")
    group.add_argument("--evaluate", metavar="DATASET", nargs="+",
                       help="evaluate the methods (default: nearest, bilinear, bicubic, lanczos4, area, espcn, fsrcnn) "
                       "over each dataset: a folder of images, a text file listing image "
                       "paths, or builtin:photos (nine sample photographs shipped with Upscope); writes a store of "
                       "rows, the summary tables and a PSNR-against-time plot per dataset into --out")
    group.add_argument("--scales", metavar="S,S", default="2,3,4", help="the scales to evaluate (default 2,3,4)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on this dask.distributed scheduler (tcp://host:8786; default: the "
                       "DASK_SCHEDULER_ADDRESS variable, else local worker processes); needs the dask extra")
    group.add_argument("--send-images", action="store_true",
                       help="with --scheduler: send each image's bytes to the workers instead of its path "
                       "(for workers that do not share this machine's files)")
    group.add_argument("--gpu-resource", metavar="NAME",
                       help="with --scheduler: each unit asks its worker for one of this resource (e.g. GPU, as "
                       "dask-worker --resources GPU=1 declares it)")
    group.add_argument("--out", metavar="DIR", default="evaluation",
                       help="the evaluation's folder: rows.sqlite, rows.csv, summary.md/.tex/.csv, psnr-time-DATASET.png "
                       "(default ./evaluation); "
                       "running again computes only the rows it lacks")


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate as the options say; 0 when every unit ran, 1 when some failed."""
    import core
    from core.report.evaluation.run import EvaluationSettings, evaluate

    from .export import parse_methods_text

    _refuse_unused(args)
    if getattr(args, "own_methods_status", EXIT_OK) != EXIT_OK:
        # A model file that did not load was named above: an evaluation without it would
        # print a table that silently lacks the method asked for.
        print("upscope: nothing evaluated: a method asked for could not be added", file=sys.stderr)
        return int(args.own_methods_status)
    scales = tuple(_scale(text) for text in str(args.scales).split(",") if text.strip())
    defaults = EvaluationSettings()
    named = tuple(parse_methods_text(args.methods)) if args.methods is not None else defaults.methods
    ids = {m if isinstance(m, str) else m.id for m in named}
    added = tuple(m for m in getattr(args, "added_methods", []) if m not in ids)  # --model files join the methods
    settings = EvaluationSettings(
        scales=scales,
        methods=named + added,
        downsampler=args.downsample or defaults.downsampler,
        convention=args.convention or defaults.convention,
    )
    if args.jobs is not None and args.jobs < 1:
        raise core.ParameterError(f"--jobs must be at least 1; got {args.jobs}")
    progress = EvaluationProgress(sys.stderr)
    scheduler = args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    report = evaluate(args.evaluate, settings, args.out, jobs=args.jobs, force=args.force, progress=progress,
                      scheduler=scheduler, send_images=args.send_images, gpu_resource=args.gpu_resource)
    for entry, why in report.skipped:
        print(f"upscope: skipped {entry}: {why}", file=sys.stderr)
    for what, why in report.not_measured:
        print(f"upscope: not measured: {what}: {why}", file=sys.stderr)
    for unit, why in report.failed:
        print(f"upscope: {unit}: {why}", file=sys.stderr)
    names = ", ".join(path.name for path in report.written)
    print(f"upscope: {report.computed} rows computed, {report.stored} already stored, in {report.seconds:.1f} s; "
          f"wrote {names} into {args.out}", file=sys.stderr)
    return EXIT_INPUT if report.failed else EXIT_OK


#: Options of the comparison and its export that an evaluation has no use for, by name.
UNUSED_OPTIONS = (("image paths", "images"), ("--scale", "scale"), ("--mode", "mode"), ("--reference", "reference"),
                  ("--session", "session"), ("--export", "export"), ("--crop", "crop"), ("--magnify", "magnify"),
                  ("--columns", "columns"), ("--diff", "diff"), ("--table", "table"), ("--spectrum", "spectrum"),
                  ("--region", "region"), ("--paper", "paper"), ("--metrics", "metrics"), ("--results", "results"))


def _refuse_unused(args: argparse.Namespace) -> None:
    """Refuse options that would be silently ignored: an evaluation reads its images from
    its datasets, its scales from --scales, and always degrades then restores."""
    import core

    unused = [name for name, attribute in UNUSED_OPTIONS if getattr(args, attribute, None)]
    if unused:
        raise core.ParameterError(
            f"{', '.join(unused)}: not used by --evaluate, which takes its images from the datasets, its scales "
            "from --scales and always degrades then restores; leave them out")
    scheduler = args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    alone = [name for name, given in (("--send-images", args.send_images), ("--gpu-resource", args.gpu_resource))
             if given]
    if alone and not scheduler:
        raise core.ParameterError(f"{', '.join(alone)}: only with --scheduler (a Dask cluster); local worker "
                                  "processes read the images themselves and use this machine's GPU when they can")


def _scale(text: str) -> float:
    import core

    try:
        value = float(text)
    except ValueError:
        raise core.ParameterError(f"--scales: {text.strip()!r} is not a number") from None
    return value


class EvaluationProgress:
    """Units and rows done and the time left: one redrawn line on a terminal, a line per
    unit otherwise."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.started = time.perf_counter()

    def __call__(self, done: int, total: int, rows: int) -> None:
        elapsed = time.perf_counter() - self.started
        left = elapsed / done * (total - done) if done else 0.0
        text = f"{done}/{total} images x scales, {rows} rows, about {left:.0f} s left"
        if self.tty:
            filled = round(self.width * done / max(total, 1))
            self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {text}   ")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
