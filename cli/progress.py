"""A progress bar on a terminal for the command line's batch export."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from core.report.batch import ImageOutcome



class TerminalProgress:
    """A progress bar on a terminal (one line, redrawn), or a line per image when the
    stream is not a terminal (a log file, a pipe)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.tty = bool(getattr(stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int, outcome: ImageOutcome) -> None:
        status = "failed" if outcome.error else "done"
        # A line per image: a newline in a file name is shown as \n, not obeyed.
        image = str(outcome.image).replace("\r", "\\r").replace("\n", "\\n")
        if self.tty:
            filled = round(self.width * done / total)
            bar = "#" * filled + "-" * (self.width - filled)
            name = Path(image).name
            self.stream.write(f"\r[{bar}] {done}/{total} {name[:40]:<40}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"{done}/{total} {image}: {status}\n")
        self.stream.flush()
