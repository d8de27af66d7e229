"""What the command line checks before the window opens: a display to open it on, and
the comparison options given for it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from cli import EXIT_USAGE
from cli.export import COMPARISON_OPTIONS, FIGURE_OPTIONS, comparison_settings


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
