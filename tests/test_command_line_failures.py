"""The command line when things go wrong: every failure is one line on stderr with the
documented exit code, arguments are checked before any work, outputs are checked before
anything is computed, a signal or a full disk leaves no partial file, and the summary
says exactly what was written."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import core

ROOT = Path(__file__).resolve().parents[1]
POSIX = sys.platform != "win32"


def upscope(*args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180)


def assert_one_line(run: subprocess.CompletedProcess, code: int, *needles: str) -> str:
    """The run ended with ``code`` and one message line on stderr (progress lines aside)
    holding every needle; returns that line."""
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("upscope: ") and not line.startswith("upscope: wrote")]
    assert len(lines) == 1, run.stderr
    for needle in needles:
        assert needle in lines[0], run.stderr
    return lines[0]


def partial_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".part")]


@pytest.fixture
def image(tmp_path: Path) -> Path:
    rng = np.random.default_rng(13)
    path = tmp_path / "photo.png"
    core.save_image(path, rng.integers(0, 256, (64, 64, 3)).astype(np.uint8))
    return path


@contextlib.contextmanager
def tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A small tmpfs mounted on ``folder`` (read-only, or a few kilobytes); the test is
    skipped where mounting is not permitted."""
    folder.mkdir(parents=True, exist_ok=True)
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("needs Linux's mount")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


# Outputs the system refuses: found before anything is computed -------------------------------


@pytest.mark.parametrize("where, option_args, code, needle", [
    ("figure", ["--export", "ro/out.png"], 1, "ro/out.png: cannot write into ro (read-only file system)"),
    ("metrics", ["--export", "out.png", "--metrics", "ro/m.csv"], 1, "ro/m.csv: cannot write into ro (read-only file system)"),
    ("results", ["--export", "out.png", "--results", "ro/res"], 1, "cannot write into ro (read-only file system)"),
    ("batch", ["--export", "ro/figures"], 1, "cannot write into ro (read-only file system)"),
])
def test_a_read_only_file_system_is_refused_before_any_work(tmp_path: Path, image: Path, where, option_args, code,
                                                            needle) -> None:
    inputs = [str(image), str(image.with_name("second.png"))] if where == "batch" else [str(image)]
    shutil.copy(image, image.with_name("second.png"))
    with tmpfs(tmp_path / "ro", "ro,size=64k"):
        run = upscope(*option_args, "--methods", "nearest", *inputs, cwd=tmp_path)
        assert_one_line(run, code, needle)
    assert not (tmp_path / "out.png").exists()  # checked before the figure was computed
    assert "done" not in run.stderr and "failed" not in run.stderr


def test_metrics_into_a_missing_folder_or_a_folder_are_refused_first(tmp_path: Path, image: Path) -> None:
    # A folder that is not there is an output that cannot be written (exit 1); a folder
    # given where a file name belongs is a usage error (exit 2).
    missing = upscope("--export", "out.png", "--methods", "nearest", "--metrics", "nowhere/m.csv", str(image), cwd=tmp_path)
    assert_one_line(missing, 1, "nowhere/m.csv: the folder nowhere does not exist")
    assert not (tmp_path / "out.png").exists()
    (tmp_path / "tables").mkdir()
    for force in ([], ["--force"]):
        folder = upscope("--export", "out.png", "--methods", "nearest", "--metrics", "tables", *force, str(image),
                         cwd=tmp_path)
        line = assert_one_line(folder, 2, "tables: is a folder; the metrics need a file name, such as tables/metrics.csv")
        assert "already exists" not in line
    assert not (tmp_path / "out.png").exists()


def test_names_too_long_are_refused_and_the_longest_legal_name_is_written(tmp_path: Path, image: Path) -> None:
    too_long = "x" * 300 + ".png"
    run = upscope("--export", too_long, "--methods", "nearest", str(image), cwd=tmp_path)
    assert_one_line(run, 1, "cannot write (File name too long)")
    longest = "y" * 251 + ".png"  # 255 characters: its temporary file's name must fit as well
    written = upscope("--export", longest, "--methods", "nearest", str(image), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert core.load_image(tmp_path / longest).ndim == 3
    assert partial_files(tmp_path) == []


def without_permission_override() -> tuple[str, ...]:
    """A command prefix under which permissions apply: nothing for a normal user; for
    root, `setpriv` dropping the capabilities that bypass them (skipped without it)."""
    if not POSIX or not hasattr(os, "geteuid"):
        pytest.skip("POSIX permissions")
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root without setpriv ignores folder permissions")
    drop = "-dac_override,-dac_read_search"
    prefix = (setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}")
    if subprocess.run([*prefix, "true"], capture_output=True).returncode != 0:
        pytest.skip("setpriv cannot drop capabilities here")
    return prefix


def test_files_in_a_folder_that_cannot_be_searched(tmp_path: Path, image: Path) -> None:
    prefix = without_permission_override()
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(image, locked / "photo.png")
    core.save_session(locked / "s.json", core.Session(image=str(image)))
    locked.chmod(0)
    try:
        reading = upscope("--export", "out.png", "--methods", "nearest", "locked/photo.png", cwd=tmp_path, prefix=prefix)
        assert_one_line(reading, 1, "locked/photo.png: permission denied")
        writing = upscope("--export", "locked/out.png", "--methods", "nearest", str(image), cwd=tmp_path, prefix=prefix)
        assert_one_line(writing, 1, "locked/out.png: cannot write (Permission denied)")
        metrics = upscope("--export", "out.png", "--metrics", "locked/m.csv", "--methods", "nearest", str(image),
                          cwd=tmp_path, prefix=prefix)
        assert_one_line(metrics, 1, "locked/m.csv: cannot write (Permission denied)")
        assert not (tmp_path / "out.png").exists()
        session = upscope("--export", "out.png", "--session", "locked/s.json", cwd=tmp_path, prefix=prefix)
        assert_one_line(session, 1, "locked/s.json: permission denied")
        batch = upscope("--export", "figures", "--methods", "nearest", str(image), "locked/photo.png", cwd=tmp_path,
                        prefix=prefix)
        assert_one_line(batch, 1, "locked/photo.png: permission denied")
        assert "wrote 1 figure(s)" in batch.stderr and "1 of 2 image(s) failed" in batch.stderr
        assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["metrics.csv", "photo.png.png"]
    finally:
        locked.chmod(0o755)


# Sessions that are broken or hostile: the core's message, one line ---------------------------


def session_text(**settings) -> dict:
    return {"format": "upscope-session", "version": 1, "image": "photo.png",
            "settings": {"mode": "upscale", "scale": 2, "methods": ["nearest"], **settings}}


SESSION_TEXTS = {  # made in the test: as parameters, they would fill the environment of every subprocess
    "deep": lambda: '{"format": "upscope-session", "version": 1, "regions": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "digits": lambda: json.dumps(session_text()).replace('"scale": 2', '"scale": ' + "9" * 5000),
}


@pytest.mark.parametrize("name, text, code, needles", [
    ("deep", None, 1, ["deep.json", "not a session file"]),
    ("digits", None, 1, ["digits.json"]),
    ("ragged", json.dumps(session_text(methods=[{"id": "transposed-conv", "params": {"kernel": [[1, 2], [3]]}}])),
     2, ["kernel", "rows of different lengths (2, 1)"]),
    ("letters", json.dumps(session_text(methods=[{"id": "transposed-conv", "params": {"kernel": [["a", "b"]]}}])),
     2, ["kernel", "'a'"]),
    ("unknown", json.dumps(session_text(methods=["nearest", "sharpen"])), 2, ["unknown method 'sharpen'"]),
    ("too-big", json.dumps(session_text(scale=1000)), 2, ["1000"]),
    ("not-a-number", json.dumps(session_text()).replace('"scale": 2', '"scale": NaN'), 2, ["scale"]),
], ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "")
def test_a_broken_session_is_one_line(tmp_path: Path, image: Path, name, text, code, needles) -> None:
    (tmp_path / f"{name}.json").write_text(text if text is not None else SESSION_TEXTS[name]())
    run = upscope("--export", "out.png", "--session", f"{name}.json", cwd=tmp_path)
    assert_one_line(run, code, *needles)
    assert not (tmp_path / "out.png").exists()


def test_a_session_with_an_extreme_view_breaks_nothing(tmp_path: Path, image: Path) -> None:
    data = session_text()
    data["view"] = {"cx": 1e308, "cy": 1e308, "zoom": 1e308}
    (tmp_path / "view.json").write_text(json.dumps(data))
    run = upscope("--export", "out.png", "--session", "view.json", cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr
    if run.returncode == 0:  # the view is the window's; the figure does not use it
        assert core.load_image(tmp_path / "out.png").ndim == 3
    else:  # or the session is refused for it, in one line
        assert_one_line(run, 2, "view")


def test_a_ragged_or_wordy_kernel_is_named_by_the_core() -> None:
    image = np.zeros((4, 4), np.uint8)
    with pytest.raises(core.ParameterError, match=r"parameter 'kernel' has rows of different lengths \(2, 1\)"):
        core.upsample(image, "transposed-conv", scale=2, kernel=[[1, 2], [3]])
    with pytest.raises(core.ParameterError, match="parameter 'kernel' must hold numbers only; got '2'"):
        core.upsample(image, "transposed-conv", scale=2, kernel=[[1, "2"]])
    with pytest.raises(core.ParameterError, match="row 2 is 3, not a list of numbers"):
        core.upsample(image, "transposed-conv", scale=2, kernel=[[1, 2], 3])
    with pytest.raises(core.ParameterError, match="too large"):
        core.upsample(image, "transposed-conv", scale=2, kernel=[[10 ** 400]])
    exact = core.upsample(image, "transposed-conv", scale=2, kernel=[[1, 1], [1, 1]])
    assert exact.shape == (8, 8)


# Arguments checked first ----------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["--methods", ""], "--methods needs at least one method id"),
    (["--methods", " , "], "--methods needs at least one method id"),
    (["--methods", "nearest,bicubic,nearest"], "--methods names nearest more than once"),
    (["--jobs", "-1"], "jobs must be from 1 to"),
    (["--jobs", str(4 * (os.cpu_count() or 1) + 1)], "jobs must be from 1 to"),
    (["--magnify", "-1"], "--magnify must be at least 1; got -1"),
    (["--columns", "0"], "--columns must be at least 1; got 0"),
])
def test_bad_arguments_are_refused_before_the_image_is_read(tmp_path: Path, args, needle) -> None:
    # The image does not exist: a usage error must be found first.
    run = upscope("--export", "out.png", *args, "missing.png", cwd=tmp_path)
    assert_one_line(run, 2, needle)


@pytest.mark.parametrize("args, needle", [
    (["--crop", "100,0,10,10"], "crop 100,0,10,10 lies outside the 64x64 image"),
    (["--region", "0,100,10,10"], "region 1 0,100,10,10 lies outside the 64x64 image"),
    (["--magnify", "100000"], "the figure would be at least"),
])
def test_figure_options_are_checked_before_any_method_runs(tmp_path: Path, image: Path, monkeypatch, args,
                                                           needle) -> None:
    import app

    def no_methods(self):
        raise AssertionError("a method ran before the figure options were checked")

    monkeypatch.setattr(core.Comparison, "__iter__", no_methods)
    monkeypatch.chdir(tmp_path)
    code = app.main(["--export", "out.png", "--methods", "nearest,bicubic", *args, str(image)])
    assert code == 2
    assert not (tmp_path / "out.png").exists()


# Signals: no partial file, the right exit code ------------------------------------------------

# Run as the program: the first file write of the run (in whichever process) pauses
# inside fsync, after leaving a note with its pid, so a signal can be sent while its
# temporary file exists; other writes go on. Being the main module, it is what worker
# processes import first, so their writes are watched too.
PAUSED_WRITE = '''
import os, sys, time
from pathlib import Path

NOTES = os.environ["UPSCOPE_TEST_NOTES"]
_fsync = os.fsync


def paused_fsync(fd):
    try:
        os.close(os.open(os.path.join(NOTES, "claimed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return _fsync(fd)
    Path(NOTES, f"writing-{os.getpid()}").touch()
    time.sleep(120)
    _fsync(fd)


os.fsync = paused_fsync
if __name__ == "__main__":
    sys.path.insert(0, os.environ["UPSCOPE_TEST_ROOT"])
    import app

    sys.exit(app.main(sys.argv[1:]))
'''


def start_paused(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    notes = tmp_path / "notes"
    notes.mkdir()
    (tmp_path / "paused_write.py").write_text(PAUSED_WRITE)
    child = subprocess.Popen([sys.executable, "paused_write.py", *args], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "UPSCOPE_TEST_NOTES": str(notes), "UPSCOPE_TEST_ROOT": str(ROOT)})
    return child, notes


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts; any still running at its end (a failed test) is killed."""
    started: list[subprocess.Popen] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
            child.communicate()


def wait_for_writer(child: subprocess.Popen, notes: Path) -> int:
    """The pid of the process whose write paused."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = sorted(notes.glob("writing-*"))
        if found:
            return int(found[0].name.split("-")[1])
        if child.poll() is not None:
            raise AssertionError(child.communicate()[1])
        time.sleep(0.02)
    child.kill()
    raise AssertionError("no write began")


@pytest.mark.skipif(not POSIX, reason="POSIX signals")
@pytest.mark.parametrize("signum, code, said", [
    (signal.SIGINT, 130, "upscope: interrupted"),
    (getattr(signal, "SIGTERM", 15), 143, "upscope: stopped by SIGTERM"),
    (getattr(signal, "SIGHUP", 1), 129, "upscope: stopped by SIGHUP"),
])
def test_a_signal_during_a_write_leaves_no_partial_file(tmp_path: Path, image: Path, children, signum, code,
                                                       said) -> None:
    child, notes = start_paused(tmp_path, "--export", "out.png", "--methods", "nearest", str(image))
    children.append(child)
    assert wait_for_writer(child, notes) == child.pid
    assert [p.name for p in tmp_path.glob(".out.png.*.part")], "the figure's temporary file exists"
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == code, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith(said), stderr
    assert partial_files(tmp_path) == [] and not (tmp_path / "out.png").exists()


def worker_pids(parent: int) -> list[int]:
    """The batch's worker processes (Linux: from /proc)."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    if not children.exists():
        pytest.skip("needs /proc's list of child processes")
    pids = []
    for pid in children.read_text().split():
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
    return pids


def gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for index in range(4):
        core.save_image(folder / f"p{index}.png", rng.integers(0, 256, (96, 96, 3)).astype(np.uint8))
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the workers through /proc")
def test_stopping_a_batch_stops_its_workers_and_leaves_no_partial_file(tmp_path: Path, batch: Path, children) -> None:
    child, notes = start_paused(tmp_path, "--export", "figures", "--jobs", "2", "--methods", "nearest", str(batch))
    children.append(child)
    writer = wait_for_writer(child, notes)
    workers = worker_pids(child.pid)
    assert writer in workers, "a worker, not the parent, writes the figures"
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 143, stderr
    assert "Traceback" not in stderr and stderr.strip().splitlines()[-1].startswith("upscope: stopped by SIGTERM")
    assert partial_files(tmp_path) == []
    assert all(gone(pid) for pid in workers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals a worker process")
@pytest.mark.parametrize("signum, how", [
    (getattr(signal, "SIGKILL", 9), "killed by SIGKILL"),
    (getattr(signal, "SIGTERM", 15), "stopped by SIGTERM"),
])
def test_a_killed_worker_costs_only_its_image(tmp_path: Path, batch: Path, children, signum, how) -> None:
    child, notes = start_paused(tmp_path, "--export", "figures", "--jobs", "2", "--methods", "nearest,bicubic",
                                str(batch))
    children.append(child)
    victim = wait_for_writer(child, notes)  # caught writing its figure
    assert victim != child.pid
    os.kill(victim, signum)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    lost = re.findall(r"^upscope: (\S+): the process comparing it ended before it finished \((.*)\)$", stderr, re.M)
    assert len(lost) == 1 and lost[0][1].startswith(how), stderr
    lost_image = Path(lost[0][0]).name
    figures = sorted(p.name for p in (tmp_path / "figures").glob("*.png"))
    assert figures == [f"p{i}.png.png" for i in range(4) if f"p{i}.png" != lost_image]
    assert "wrote 3 figure(s)" in stderr and "1 of 4 image(s) failed" in stderr
    rows = (tmp_path / "figures" / "metrics.csv").read_text().splitlines()[1:]
    assert len(rows) == 3 * 2 and not any(lost_image in row for row in rows)
    assert partial_files(tmp_path) == []  # a killed worker cannot clean up: the batch does it for it


# A full disk: what was written, and what was not, is said ------------------------------------


def files_said(stderr: str) -> list[str]:
    said = re.search(r"written before that: (.*); its other files were not written$", stderr, re.M)
    return said.group(1).split(", ") if said else []


def test_results_onto_a_full_disk_say_what_was_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    core.save_image(tmp_path / "noise.png", rng.integers(0, 256, (160, 160, 3)).astype(np.uint8))
    with tmpfs(tmp_path / "disk", "size=1600k"):
        run = upscope("--export", "disk/out.png", "--results", "disk/res", "noise.png", cwd=tmp_path)
        assert run.returncode == 1, run.stderr
        assert "Traceback" not in run.stderr
        on_disk = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "disk").rglob("*") if p.is_file())
        assert partial_files(tmp_path / "disk") == []
    assert "No space left on device" in run.stderr
    said = files_said(run.stderr)
    assert said and sorted(said) == on_disk, run.stderr
    figures = 1 if "disk/out.png" in said else 0
    assert f"wrote {figures} figure(s) and {len(said) - figures} results file(s)" in run.stderr


def test_a_full_disk_in_process(tmp_path: Path, image: Path, monkeypatch, capsys) -> None:
    """The same without a small file system: the fifth file's write finds the disk full."""
    import app

    real_fsync, calls = os.fsync, []

    def fsync_until_full(fd: int) -> None:
        calls.append(fd)
        if len(calls) >= 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_until_full)
    monkeypatch.chdir(tmp_path)
    code = app.main(["--export", "out.png", "--results", "res", "--methods", "nearest,bicubic", str(image)])
    stderr = capsys.readouterr().err
    assert code == 1
    said = files_said(stderr)
    assert said == ["out.png", "res/input.png", "res/reference.png", "res/nearest.png"], stderr
    assert sorted(str(p.relative_to(tmp_path)) for p in [tmp_path / "out.png", *(tmp_path / "res").iterdir()]) == sorted(said)
    assert "res/nearest-diff.png: cannot write (No space left on device)" in stderr
    assert "wrote 1 figure(s) and 3 results file(s)" in stderr and "1 of 1 image(s) failed" in stderr
    assert partial_files(tmp_path) == []


def test_a_newline_in_a_file_name_stays_on_one_line(tmp_path: Path, image: Path) -> None:
    odd = tmp_path / "two\nlines.png"
    shutil.copy(image, odd)
    run = upscope("--export", "out.png", "--methods", "nearest", odd.name, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "two\\nlines.png: done" in run.stderr
    missing = upscope("--export", "out2.png", "--methods", "nearest", "gone\nfor good.png", cwd=tmp_path)
    assert_one_line(missing, 1, "gone\\nfor good.png")
