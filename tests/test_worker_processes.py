"""Worker processes of a batch: a worker that dies costs only its own item, and a worker
stopped by SIGTERM while it writes leaves no partial file."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from core.io.write import write_bytes_atomically
from core.report.workers import run_in_processes


def square_or_die(item: int) -> int:
    """Runs in a worker: item 3 ends its process without a word, item 5 raises."""
    if item == 3:
        os._exit(7)
    if item == 5:
        raise ValueError("five is refused")
    return item * item


def collect(function, items, workers) -> dict[int, tuple]:
    seen: dict[int, tuple] = {}

    def on_result(index, result, why):
        assert index not in seen, "each item is reported once"
        seen[index] = (result, why)

    run_in_processes(function, items, workers, on_result)
    return seen


def test_a_worker_that_dies_costs_only_its_own_item() -> None:
    items = list(range(8))
    seen = collect(square_or_die, items, workers=2)
    assert sorted(seen) == list(range(8))
    for index, item in enumerate(items):
        result, why = seen[index]
        if item == 3:
            assert result is None and why == "the process comparing it ended before it finished (exit code 7)"
        elif item == 5:
            assert result is None and why == "ValueError: five is refused"
        else:
            assert (result, why) == (item * item, None)


def test_one_worker_goes_on_after_each_death() -> None:
    seen = collect(square_or_die, [3, 3, 2, 3], workers=1)
    assert [seen[i][0] for i in range(4)] == [None, None, 4, None]


def write_slowly(folder: str) -> str:
    """Runs in a worker: starts writing a file and waits inside the write (in fsync)
    after leaving a note named after its pid."""
    real_fsync = os.fsync

    def paused_fsync(fd: int) -> None:
        Path(folder, f"writing-{os.getpid()}").touch()
        time.sleep(60)
        real_fsync(fd)

    os.fsync = paused_fsync
    write_bytes_atomically(Path(folder) / "result.bin", b"x" * 1_000_000)
    return "written"


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32", reason="POSIX signals")
def test_a_worker_stopped_while_it_writes_removes_its_temporary_file(tmp_path: Path) -> None:
    import threading

    seen = {}

    def stop_the_writer() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            notes = list(tmp_path.glob("writing-*"))
            if notes:
                assert [p.name for p in tmp_path.glob(".result.bin.*.part")], "the write had begun"
                os.kill(int(notes[0].name.split("-")[1]), signal.SIGTERM)
                return
            time.sleep(0.02)

    killer = threading.Thread(target=stop_the_writer)
    killer.start()
    run_in_processes(write_slowly, [str(tmp_path)], 1, lambda i, r, why: seen.update({i: (r, why)}))
    killer.join()
    assert seen == {0: (None, "the process comparing it ended before it finished (stopped by SIGTERM)")}
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("writing-")) == []


def thread_variables(_item: int) -> tuple[str | None, str | None]:
    return os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("OMP_NUM_THREADS")


def test_workers_start_their_numeric_libraries_with_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers fill the cores already: OpenBLAS threads spinning in one took the other's
    core (two workers on two cores were no faster than one). A number the user set stands."""
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert collect(thread_variables, [0, 1], 2) == {0: (("1", "3"), None), 1: (("1", "3"), None)}
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # this process is left as it was
