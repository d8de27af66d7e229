"""Running a child process and measuring what it cost: wall time and peak memory.

The peak is the child's own high-water mark of resident memory (``VmHWM`` in
``/proc/self/status``, read as it exits), which starts afresh when the child's program
starts. ``ru_maxrss`` would not do: on Linux a child's counts the memory of the parent
it was forked from, a test process that may hold a gigabyte.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_MARK = "@peak-bytes "

#: Runs the child's program (a script path or ``-c`` code) and, as it exits, writes its
#: peak resident memory as the last line of stderr.
_PROBE = f"""
import atexit, runpy, sys

def peak():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    sys.stderr.write("\\n{_MARK}" + str(int(line.split()[1]) * 1024) + "\\n")
    except OSError:
        pass

atexit.register(peak)
kind, target, *rest = sys.argv[1:]
if kind == "-c":
    sys.argv = ["-c", *rest]
    exec(compile(target, "<child>", "exec"), {{"__name__": "__main__"}})
else:
    sys.argv = [target, *rest]
    runpy.run_path(target, run_name="__main__")
"""

#: For code run in a child: its peak resident memory so far, in bytes (see above).
PEAK_FUNCTION = """
def peak():
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
"""


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_bytes: int


#: Whether this system reports a process's peak memory the way these tests read it.
HAS_PEAK = Path("/proc/self/status").exists()


def run_measured(argv: list[str], *, cwd: Path | str = ROOT, timeout: float = 120) -> Measured:
    """Run a script (``["app.py", ...]``) or code (``["-c", CODE, ...]``) in a new Python
    process in ``cwd``, with the project first on ``sys.path``; stderr comes back without
    the probe's line. A run over ``timeout`` seconds raises `subprocess.TimeoutExpired`."""
    kind, target, rest = ("-c", argv[1], argv[2:]) if argv[0] == "-c" else ("script", str(ROOT / argv[0]), argv[1:])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", _PROBE, kind, target, *rest], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - start
    stderr, _, peak = run.stderr.rpartition(_MARK)
    if not _:
        stderr, peak = run.stderr, "0"
    return Measured(run.returncode, run.stdout, stderr.rstrip("\n"), seconds, int(peak.strip() or 0))
