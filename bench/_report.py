"""Write one benchmark's section of docs/BENCHMARKS.md, keeping the others."""

from __future__ import annotations

from pathlib import Path

from core._backend import processor_name as cpu_name  # noqa: F401 (the benchmarks' machine line)


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
