"""Write one benchmark's section of docs/BENCHMARKS.md, keeping the others."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "docs" / "BENCHMARKS.md"

from core.backends.cpu import processor_name as cpu_name  # noqa: F401 (the benchmarks' machine line)


def write_section(path: Path, name: str, text: str) -> None:
    """Replace the text between ``<!-- begin NAME -->`` and ``<!-- end NAME -->`` in
    ``path`` (insert it before a ``## Notes`` heading, or at the end, when absent)."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text.strip()}\n{end}\n"
    current = path.read_text() if path.exists() else ""
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        updated = head + block + ("\n" + tail if tail else "")
    elif "\n## Notes" in current:
        head, tail = current.split("\n## Notes", 1)
        updated = head.rstrip("\n") + "\n\n" + block + "\n## Notes" + tail
    else:
        updated = (current.rstrip("\n") + "\n\n" if current else "") + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated)


def run_benchmark(doc: str, section: str, run: Callable[..., str], *, quick: str | None = None) -> None:
    """The command line of a benchmark: ``[--quick] [--out FILE]``; runs ``run`` (with
    ``quick=`` when the benchmark has a quick mode, described by ``quick``) and writes its
    report as the ``section`` of FILE (default docs/BENCHMARKS.md)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if quick:
        parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    report = run(quick=args.quick) if quick else run()
    write_section(args.out, section, report)
    print(f"\nwritten to {args.out}")
