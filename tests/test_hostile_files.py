"""Hostile and unusual input: pipes, devices, sockets, huge or padded files, decompression
bombs in every accepted format, other formats and lying headers. Each is refused at once,
in milliseconds and a few megabytes, with a message naming the file and the reason, and
nothing a library prints reaches the terminal.

The files are read in a child process with a timeout, so a regression (a pipe that blocks,
a device read until memory runs out) fails the test instead of hanging it, and the child
measures its own time and peak memory (``ru_maxrss``) around each read.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from crafted_images import (
    bmp_claiming,
    jpeg_claiming,
    png_bomb,
    png_bytes,
    png_claiming,
    tiff_bytes,
    webp_claiming,
)

resource = pytest.importorskip("resource")  # ru_maxrss; not on Windows

ROOT = Path(__file__).resolve().parents[1]
MAX_SECONDS = 1.0  # measured: 0.1 ms or less each
MAX_PEAK_MIB = 32.0  # measured: under 1 MiB each

CHILD = r"""
import json, resource, sys, time
import core

def peak_mib():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)

base = peak_mib()
for call, path in json.loads(sys.argv[1]):
    start = time.perf_counter()
    try:
        out = getattr(core, call)(path)
        result = {"loaded": str(getattr(out, "shape", type(out).__name__))}
    except core.UpscopeError as exc:
        result = {"message": str(exc)}
    result.update(seconds=time.perf_counter() - start, peak_mib=peak_mib() - base)
    print(json.dumps(result), flush=True)
"""


def run_reads(calls: list[tuple[str, str]], timeout: float = 120) -> tuple[list[dict], str]:
    """Run ``core.<call>(path)`` for each pair in one child process; returns one result per
    call (``message`` or ``loaded``, ``seconds``, ``peak_mib`` above the child's baseline,
    which only grows, so it bounds every read so far) and the child's standard error."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(calls)], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout or b""
        finished = (output.encode() if isinstance(output, str) else output).count(b"\n")
        pytest.fail(f"reading hung: no answer after {timeout} s for {calls[finished]}")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


SUPPORTED = "Upscope reads PNG, JPEG, TIFF, BMP and WebP"


def _sparse(path: Path, head: bytes, size: int) -> str:
    """``head`` followed by zeros up to ``size`` bytes, without using the disk (a hole)."""
    path.write_bytes(head)
    os.truncate(path, size)
    return str(path)


def _other_format(folder: Path, name: str, suffix: str, image: np.ndarray) -> str:
    ok, encoded = cv2.imencode(suffix, image)
    assert ok
    path = folder / name
    path.write_bytes(encoded.tobytes())
    return str(path)


def _hostile_cases(folder: Path) -> dict[str, tuple[str, str, str]]:
    """name -> (core function, path, pattern the message must match in full)."""
    pixels = np.zeros((2, 3, 3), np.uint8)
    floats = pixels.astype(np.float32)
    cases: dict[str, tuple[str, str, str]] = {}

    def add(name: str, data: bytes, pattern: str, call: str = "load_image") -> None:
        path = folder / name
        path.write_bytes(data)
        cases[name] = (call, str(path), pattern)

    over = (
        r"{}x{} = {} pixels, over the limit of 100,000,000 pixels \(100 megapixels\); "
        r"raise core\.limits\.max_input_pixels to open it"
    )
    # Bombs in every accepted format: small files whose headers claim billions of pixels.
    add("bomb.png", png_bomb(60000, 60000), over.format(60000, 60000, "3,600,000,000"))  # 3.5 MB of real zeros
    add("claim.png", png_claiming(50000, 40000), over.format(50000, 40000, "2,000,000,000"))
    add("claim.jpg", jpeg_claiming(60000, 60000), over.format(60000, 60000, "3,600,000,000"))
    add("claim.tif", tiff_bytes(claim=(100000, 100000, 3, 8)), over.format(100000, 100000, "10,000,000,000"))
    add("claim.bmp", bmp_claiming(50000, 50000), over.format(50000, 50000, "2,500,000,000"))
    add("vp8x.webp", webp_claiming("VP8X", 1 << 24, 1 << 24), over.format(16777216, 16777216, "281,474,976,710,656"))
    add("vp8l.webp", webp_claiming("VP8L", 16384, 16384), over.format(16384, 16384, "268,435,456"))
    add("vp8.webp", webp_claiming("VP8 ", 16383, 16383), over.format(16383, 16383, "268,402,689"))
    # A 64x64 TIFF whose tiles are 8192x8192: OpenCV allocated 513 MB for it.
    add(
        "tiles.tif",
        tiff_bytes(claim=(64, 64, 3, 8), tile=(8192, 8192)),
        r"the TIFF file's tiles of 8192x8192 pixels are far larger than its 64x64 image \(a decompression bomb\)",
    )
    # A 3 KB JPEG of 160x120 pixels whose header says 10000x9000: it decoded to 90 MP of grey.
    add(
        "lie.jpg",
        jpeg_claiming(10000, 9000),
        r"the JPEG file is corrupt or truncated: its header says 10000x9000 pixels, but its image data "
        r"\([\d,]+ bytes\) cannot hold that many \(at least 175,782 bytes\)",
    )
    # Millions of empty comment segments before the image: refused after 10,000, not walked.
    honest = jpeg_claiming(160, 120)
    add(
        "comments.jpg",
        honest[:2] + b"\xff\xfe\x00\x02" * 3_000_000 + honest[2:],
        r"the JPEG file is corrupt \(more than 10,000 markers before its image data\)",
    )
    # Formats without a header check here are refused by their magic bytes, whatever the name.
    for name, suffix, image, what in [
        ("a.gif", ".gif", pixels, "a GIF"),
        ("a.pgm", ".pgm", pixels[:, :, 0], "a Netpbm \\(PBM/PGM/PPM/PAM\\)"),
        ("a.ppm", ".ppm", pixels, "a Netpbm \\(PBM/PGM/PPM/PAM\\)"),
        ("a.pfm", ".pfm", floats, "a PFM"),
        ("a.hdr", ".hdr", floats, "a Radiance HDR"),
        ("a.ras", ".ras", pixels, "a Sun raster"),
        ("gif-named.png", ".gif", pixels, "a GIF"),
    ]:
        cases[name] = (
            "load_image",
            _other_format(folder, name, suffix, image),
            f"is {what} image; {SUPPORTED} \\(convert it to PNG first\\)",
        )
    add("a.jp2", b"\0\0\0\x0cjP  \r\n\x87\n" + bytes(64), f"is a JPEG 2000 image; {SUPPORTED} \\(convert it to PNG first\\)")
    # Sizes: known from stat, refused before reading (sparse files cost no disk).
    small_png = png_bytes(np.zeros((10, 10, 3), np.uint8))
    bound = "268,436,696"  # 256 MiB + 4 x the 10x10 RGB pixels with their filter bytes
    cases["padded.png"] = (
        "load_image",
        _sparse(folder / "padded.png", small_png, 2 * 1024**3 + 5),
        f"the file is 2,147,483,653 bytes, more than a 10x10 PNG image can take up \\({bound} bytes at most\\); "
        "it holds something else besides the image",
    )
    cases["8gb.png"] = (
        "load_image",
        _sparse(folder / "8gb.png", small_png, 8 * 1024**3),
        f"the file is 8,589,934,592 bytes, more than a 10x10 PNG image can take up \\({bound} bytes at most\\); "
        "it holds something else besides the image",
    )
    cases["8gb-zeros.png"] = (
        "load_image",
        _sparse(folder / "8gb-zeros.png", b"", 8 * 1024**3),
        r"not an image Upscope can read \(it reads PNG, JPEG, TIFF, BMP and WebP\)",
    )
    # Things that are not regular files are refused without reading.
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.png")
        cases["pipe.png"] = ("load_image", str(folder / "pipe.png"), r"is a named pipe \(FIFO\), not an image file")
        os.mkfifo(folder / "pipe.json")
        cases["pipe.json"] = ("load_session", str(folder / "pipe.json"), r"is a named pipe \(FIFO\), not a session file")
    if os.path.exists("/dev/zero"):
        cases["/dev/zero"] = ("load_image", "/dev/zero", "is a character device, not an image file")
        cases["/dev/null"] = ("load_image", "/dev/null", "is a character device, not an image file")
        cases["session /dev/zero"] = ("load_session", "/dev/zero", "is a character device, not a session file")
    cases["folder"] = ("load_image", str(folder), "is a folder, not an image file")
    cases["huge.json"] = (
        "load_session",
        _sparse(folder / "huge.json", b"{", 2 * 1024**3),
        "the file is 2,147,483,648 bytes; a session file is at most 16,777,216 bytes",
    )
    return cases


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    cases = _hostile_cases(folder)
    listener = None
    if hasattr(socket, "AF_UNIX") and len(str(folder / "s.sock")) < 100:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(folder / "s.sock"))
        cases["socket"] = ("load_image", str(folder / "s.sock"), "is a socket, not an image file")
    try:
        results, stderr = run_reads([(call, path) for call, path, _ in cases.values()])
    finally:
        if listener is not None:
            listener.close()
    return {name: (case, result) for (name, case), result in zip(cases.items(), results)}, stderr


HOSTILE_NAMES = [
    "bomb.png",
    "claim.png",
    "claim.jpg",
    "claim.tif",
    "claim.bmp",
    "vp8x.webp",
    "vp8l.webp",
    "vp8.webp",
    "tiles.tif",
    "lie.jpg",
    "comments.jpg",
    "a.gif",
    "a.pgm",
    "a.ppm",
    "a.pfm",
    "a.hdr",
    "a.ras",
    "gif-named.png",
    "a.jp2",
    "padded.png",
    "8gb.png",
    "8gb-zeros.png",
    "pipe.png",
    "pipe.json",
    "/dev/zero",
    "/dev/null",
    "session /dev/zero",
    "folder",
    "huge.json",
    "socket",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_input_is_refused_at_once_in_bounded_memory(hostile, name):
    found, _ = hostile
    if name not in found:
        pytest.skip(f"{name}: not available on this system")
    (call, path, pattern), result = found[name]
    assert "message" in result, f"{name} was read: {result}"
    assert result["message"].startswith(f"{path}: "), result["message"]
    assert re.fullmatch(pattern, result["message"][len(path) + 2 :]), result["message"]
    assert result["seconds"] < MAX_SECONDS, f"{name}: {result['seconds'] * 1000:.0f} ms"
    assert result["peak_mib"] < MAX_PEAK_MIB, f"{name}: {result['peak_mib']:.0f} MiB"


def test_library_messages_never_reach_the_terminal(tmp_path):
    """libpng, libjpeg and OpenCV print to standard error themselves; Upscope's message
    replaces what they say, and nothing else is printed."""
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8), (5, 5), 2)
    calls = []
    for suffix in (".png", ".jpg", ".tif", ".bmp", ".webp"):
        data = cv2.imencode(suffix, photo)[1].tobytes()
        cut, damaged = tmp_path / f"cut{suffix}", tmp_path / f"damaged{suffix}"
        cut.write_bytes(data[: len(data) * 2 // 3])
        middle = len(data) // 2
        damaged.write_bytes(data[:middle] + bytes(b ^ 0x55 for b in data[middle : middle + 40]) + data[middle + 40 :])
        calls += [("load_image", str(cut)), ("load_image", str(damaged))]
    (tmp_path / "short.jpg").write_bytes(jpeg_claiming(160, 240))  # libjpeg warns and fills grey rows
    calls.append(("load_image", str(tmp_path / "short.jpg")))
    results, stderr = run_reads(calls)
    assert stderr == ""
    messages = {Path(path).name: result.get("message", "") for (_, path), result in zip(calls, results)}
    for name in ("cut.png", "cut.jpg", "cut.tif", "cut.bmp", "cut.webp", "damaged.png", "short.jpg"):
        assert "corrupt or truncated" in messages[name], (name, messages[name])
    assert messages["damaged.png"].endswith("(bad adaptive filter value)") or "IDAT" in messages["damaged.png"]
    assert messages["short.jpg"].endswith(
        "short.jpg: the JPEG file is corrupt or truncated (Corrupt JPEG data: premature end of data segment)"
    )


def test_the_hostile_reads_printed_nothing(hostile):
    _, stderr = hostile
    assert stderr == ""


def test_a_named_pipe_in_a_batch_is_named_and_the_batch_goes_on(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np

    import core

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    good = tmp_path / "ok.png"
    core.save_image(good, np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    app = Path(__file__).resolve().parents[1] / "app.py"
    done = subprocess.run(
        [sys.executable, str(app), "--export", str(tmp_path / "out"), "--scale", "2", "--jobs", "1", str(fifo), str(good)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "named pipe" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "out" / "ok.png.png").exists()
