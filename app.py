"""Upscope: see what every upsampling method does to an image.

Thin entry point: parse arguments, then run the command line or the window.
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upscope",
        description="Compare upsampling methods side by side: classic interpolation, "
        "neural-network layers and learned upsamplers.",
    )
    parser.add_argument("images", nargs="*", help="image files to open")
    parser.add_argument("--list-methods", action="store_true", help="print every method id with its description and exit")
    return parser


def list_methods_text() -> str:
    """One block per method: id, family, accepted scales, description."""
    import core

    lines = []
    for spec in core.list_methods():
        scales = "whole-number scales" if spec.scales == "integer" else "any scale"
        lines.append(f"{spec.id:<18} {spec.label} [{spec.family}, {scales}]")
        lines.append(f"{'':<18} {spec.description}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.list_methods:
        print(list_methods_text())
        return 0
    from gui import run_viewer

    return run_viewer(args.images)


if __name__ == "__main__":
    sys.exit(main())
