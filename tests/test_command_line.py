"""The headless command line: ``app.py --export``, its outputs, exit codes and messages."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import core

ROOT = Path(__file__).resolve().parents[1]


def upscope(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(5)
    for name in ("a.png", "b.png", "c.png"):
        small = rng.integers(0, 256, (8, 8, 3)).astype(np.float32)
        big = np.kron(small, np.ones((8, 8, 1), np.float32)) + rng.normal(0, 5, (64, 64, 3))
        core.save_image(folder / name, np.clip(big, 0, 255).astype(np.uint8))
    return folder


def no_partial_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".part")]


def test_one_image_gives_the_documented_figure_and_cores_metrics(tmp_path: Path, images: Path) -> None:
    run = upscope("--export", "out.png", "--scale", "2", "--methods", "nearest,bicubic,lanczos4",
                  "--metrics", "m.csv", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    figure = core.load_image(tmp_path / "out.png")
    layout = core.grid_layout(4, (64, 64), core.GridOptions())
    assert figure.shape == (layout.height, layout.width, 3)
    image = core.load_image(images / "a.png")
    comparison = core.Comparison(image, core.ComparisonSettings(scale=2, methods=("nearest", "bicubic", "lanczos4")))
    results = list(comparison)
    for index, result in enumerate(results, start=1):
        y, x = layout.tile_origin(index)
        tile = np.repeat(np.repeat(result.image, 5, axis=0), 5, axis=1)
        assert np.array_equal(figure[y:y + 320, x:x + 320], tile), result.method_id
    with open(tmp_path / "m.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["method"] for row in rows] == ["nearest", "bicubic", "lanczos4"]
    for row, result in zip(rows, results):
        assert float(row["psnr"]) == result.metrics.psnr and float(row["ssim"]) == result.metrics.ssim


def test_a_folder_gives_one_png_per_image_and_one_csv(tmp_path: Path, images: Path) -> None:
    (images / "notes.txt").write_text("not an image")
    run = upscope("--export", "figures", "--scale", "2", "--methods", "bilinear,area", "--jobs", "2",
                  "--crop", "8,8,16,16", "--diff", "--table", str(images), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["a.png.png", "b.png.png", "c.png.png", "metrics.csv"]
    with open(tmp_path / "figures" / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(Path(r["image"]).name, r["method"]) for r in rows] == [
        (name, method) for name in ("a.png", "b.png", "c.png") for method in ("bilinear", "area")
    ]
    assert "3/3" in run.stderr and "wrote 3 figure(s)" in run.stderr


def test_list_methods_and_a_session_replay(tmp_path: Path, images: Path) -> None:
    listed = upscope("--list-methods", cwd=tmp_path)
    assert listed.returncode == 0 and "transposed-conv" in listed.stdout
    settings = core.ComparisonSettings(mode="upscale", scale=3, methods=("nearest", "bicubic"))
    session = core.Session(image=str(images / "b.png"), settings=settings, regions=(core.Region(10, 10, 30, 20),))
    core.save_session(tmp_path / "s.json", session)
    run = upscope("--session", "s.json", "--export", "grid.png", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    layout = core.grid_layout(3, (192, 192), core.GridOptions())
    assert core.load_image(tmp_path / "grid.png").shape == (layout.height, layout.width, 3)
    paper = upscope("--session", "s.json", "--paper", "--export", "paper.png", cwd=tmp_path)
    assert paper.returncode == 0, paper.stderr
    assert core.load_image(tmp_path / "paper.png").shape[2] == 3


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["missing.png"], 1, "missing.png: no such file"),
        (["broken.png"], 1, "broken.png: the PNG file is corrupt or truncated"),
        (["empty.png"], 1, "empty.png: the file is empty"),
        (["--methods", "bicubic,nope", "IMG"], 2, "unknown method 'nope'"),
        (["--scale", "0", "IMG"], 2, "scale must be a positive finite number; got 0"),
        (["--scale", "nan", "IMG"], 2, "scale is NaN"),
        (["--scale", "1e9", "IMG"], 2, "scale 1e\\+09 is over the limit of 16 for comparisons"),
        (["--scale", "100", "IMG"], 2, "scale 100 is over the limit of 16 for comparisons"),
        (["--scale", "2,17", "IMG"], 2, "scale 2,17 is over the limit of 16"),
        (["--magnify", "0", "IMG"], 2, "--magnify must be at least 1; got 0"),
        (["--columns", "0", "IMG"], 2, "--columns must be at least 1; got 0"),
        (["--jobs", "0", "IMG"], 2, "jobs must be from 1 to [0-9]+ \\(4 per core, [0-9]+ core\\(s\\) here\\); got 0"),
        (["--result", "r", "IMG"], 2, "--result r: give it as LABEL=PATH"),
        (["--resul", "a=b", "IMG"], 2, "unrecognized arguments: --resul"),
        (["--meth", "nearest", "IMG"], 2, "unrecognized arguments: --meth"),
        (["--scale", "abc", "IMG"], 2, "--scale must be a number or Y,X; got 'abc'"),
        (["--methods", "max-unpool", "--scale", "2.5", "--mode", "upscale", "IMG"], 0, ""),
        (["--crop", "1,2", "IMG"], 2, "--crop must be X,Y,W,H"),
        (["--gain", "0", "IMG"], 2, "--gain must be from 1 to 64"),
        (["--downsample", "blur", "IMG"], 2, "unknown downsampler 'blur'"),
        (["--mode", "sideways", "IMG"], 2, "invalid choice: 'sideways'"),
    ],
)
def test_bad_input_exit_codes_and_messages(tmp_path: Path, images: Path, args, code, message) -> None:
    (tmp_path / "broken.png").write_bytes((images / "a.png").read_bytes()[:200])
    (tmp_path / "empty.png").write_bytes(b"")
    args = [str(images / "a.png") if a == "IMG" else a for a in args]
    run = upscope("--export", "out.png", *args, cwd=tmp_path)
    assert run.returncode == code, run.stderr
    if message:
        assert any(re.search(message, line) for line in run.stderr.splitlines()), run.stderr
    assert (tmp_path / "out.png").exists() == (code == 0)
    assert no_partial_files(tmp_path)


def test_an_existing_output_is_kept_without_force(tmp_path: Path, images: Path) -> None:
    (tmp_path / "out.png").write_bytes(b"keep me")
    run = upscope("--export", "out.png", "--methods", "nearest", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 2
    assert "out.png: already exists; add --force to overwrite" in run.stderr
    assert (tmp_path / "out.png").read_bytes() == b"keep me"
    forced = upscope("--export", "out.png", "--methods", "nearest", "--force", str(images / "a.png"), cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert core.load_image(tmp_path / "out.png").ndim == 3


def test_a_batch_with_one_broken_image_writes_the_others_and_exits_1(tmp_path: Path, images: Path) -> None:
    (images / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    run = upscope("--export", "figures", "--methods", "nearest", "--scale", "2", str(images), cwd=tmp_path)
    assert run.returncode == 1
    assert "b.png: " in run.stderr
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["a.png.png", "c.png.png", "metrics.csv"]
    assert no_partial_files(tmp_path)


def test_backend_option_runs_the_export_there_and_lists_backends(tmp_path: Path, images: Path) -> None:
    listed = upscope("--list-backends", cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout.startswith("cpu ") and "in use: CPU" in listed.stdout
    available = [line.split()[0] for line in listed.stdout.splitlines() if "unavailable" not in line][:-1]
    for name in available:
        run = upscope("--export", f"{name}.png", "--backend", name, "--scale", "2", "--methods", "bilinear,lanczos4",
                      "--metrics", f"{name}.csv", str(images / "a.png"), cwd=tmp_path)
        assert run.returncode == 0, run.stderr
    def psnrs(name: str) -> list[float]:
        with open(tmp_path / f"{name}.csv", newline="") as handle:
            return [float(row["psnr"]) for row in csv.DictReader(handle)]

    for name in available:  # the same pixels within 1 LSB: the same PSNR to a few millidecibels
        assert psnrs(name) == pytest.approx(psnrs("cpu"), abs=0.01), name
    methods = upscope("--list-methods", cwd=tmp_path).stdout
    assert "Runs on the CPU, OpenCL and PyTorch." in methods and "Runs on the CPU only" in methods


def test_an_unavailable_backend_is_a_usage_error(tmp_path: Path, images: Path) -> None:
    env_free = upscope("--export", "out.png", "--backend", "quantum", str(images / "a.png"), cwd=tmp_path)
    assert env_free.returncode == 2 and "invalid choice: 'quantum'" in env_free.stderr
    run = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--export", "out.png", "--backend", "opencl", str(images / "a.png")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPENCV_OPENCL_DEVICE": "disabled"},
    )
    assert run.returncode == 2, run.stderr
    assert "opencl" in run.stderr.lower() and "OpenCL" in run.stderr
    assert not (tmp_path / "out.png").exists()


def test_learned_methods_are_methods_like_any_other(tmp_path: Path, images: Path) -> None:
    run = upscope("--export", "out.png", "--scale", "2", "--methods", "bicubic,espcn,fsrcnn", "--metrics", "m.csv",
                  str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "m.csv", newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"bicubic", "espcn", "fsrcnn"} and all(float(r["psnr"]) > 20 for r in rows.values())
    refused = list(core.compare(core.load_image(images / "a.png"),
                                core.ComparisonSettings(scale=3.5, methods=("espcn",))))
    assert not refused[0].ok and "x2, x3, x4" in refused[0].reason


# Inputs before outputs, and no file claiming results that were not made ---------------------


@pytest.mark.parametrize("name, content, message", [
    ("missing.png", None, "missing.png: no such file"),
    ("broken.png", b"\x89PNG\r\n\x1a\n broken", "broken.png: "),
    ("empty.png", b"", "empty.png: the file is empty"),
])
def test_an_unreadable_input_is_reported_even_when_the_output_exists(tmp_path: Path, name, content, message) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    (tmp_path / "out.png").write_bytes(b"keep me")
    run = upscope("--export", "out.png", "--methods", "nearest", name, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr and "already exists" not in run.stderr and "Traceback" not in run.stderr
    assert (tmp_path / "out.png").read_bytes() == b"keep me"


def test_a_failed_crop_leaves_no_metrics_file(tmp_path: Path, images: Path) -> None:
    run = upscope("--export", "out.png", "--methods", "nearest", "--crop", "500,500,10,10", "--metrics", "m.csv",
                  "--results", "res", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "crop 500,500,10,10 lies outside the 64x64 image" in run.stderr
    assert "metrics in" not in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no figure, no CSV, no results folder


def test_a_reference_that_cannot_take_the_scale_is_a_usage_error(tmp_path: Path, images: Path) -> None:
    # It left a figure and a metrics file without one number, and exit code 0.
    run = upscope("--export", "out.png", "--scale", "2.5", "--methods", "nearest", "--reference", "espcn",
                  "--metrics", "m.csv", "--results", "res", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "upscope: the reference espcn: ESPCN (learned) has trained models for x2, x3, x4 only, not x2.5" in run.stderr
    assert "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no figure, no CSV, no results folder


def test_upscale_mode_writes_the_checkerboard_scores_it_has(tmp_path: Path, images: Path) -> None:
    run = upscope("--export", "out.png", "--metrics", "m.csv", "--mode", "upscale", "--scale", "2", "--methods",
                  "nearest,bicubic", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader((tmp_path / "m.csv").read_text().splitlines()))
    assert [r["method"] for r in rows] == ["nearest", "bicubic"]
    assert all(r["psnr"] == "" and r["checkerboard"] != "" for r in rows)


@pytest.mark.parametrize("args, why", [
    (["--scale", "2.5", "--methods", "espcn"], "no method ran"),
])
def test_no_metrics_file_when_nothing_was_measured(tmp_path: Path, images: Path, args, why) -> None:
    run = upscope("--export", "out.png", "--metrics", "m.csv", *args, str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"upscope: m.csv: not written: no result was measured ({why})" in run.stderr
    assert "metrics in" not in run.stderr and not (tmp_path / "m.csv").exists()
    assert (tmp_path / "out.png").exists()


@pytest.mark.parametrize("mode", ["degrade", "upscale"])
def test_results_hold_the_reference_the_metrics_used(tmp_path: Path, images: Path, mode) -> None:
    run = upscope("--export", "out.png", "--mode", mode, "--scale", "2", "--methods", "nearest", "--reference",
                  "bicubic", "--metrics", "m.csv", "--results", "res", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    low = core.load_image(tmp_path / "res" / "input.png")
    reference = core.load_image(tmp_path / "res" / "reference.png")
    assert not np.array_equal(reference, core.load_image(images / "a.png"))
    assert np.array_equal(reference, core.upsample(low, "bicubic", scale=2))
    with open(tmp_path / "m.csv", newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert float(row["psnr"]) == core.psnr(reference, core.load_image(tmp_path / "res" / "nearest.png"))


def test_an_image_near_float32s_limit_is_refused_by_the_method_that_overflows(tmp_path: Path) -> None:
    row = np.array([[3e38, -3e38, 3e38, 1.0]], np.float32)
    core.save_image(tmp_path / "big.tif", np.tile(row, (6, 3)))
    shrink = upscope("--export", "a.png", "--scale", "2", "--downsample", "area", "--methods", "nearest",
                     "--metrics", "a.csv", "big.tif", cwd=tmp_path)
    assert shrink.returncode == 2, shrink.stderr
    assert "upscope: Area: the result leaves float32's range (largest 3.4e+38): the input reaches 3e+38" in shrink.stderr
    assert "Traceback" not in shrink.stderr and "Warning" not in shrink.stderr
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "a.csv").exists()
    grow = upscope("--export", "b.png", "--mode", "upscale", "--scale", "2", "--methods", "nearest,bicubic",
                   "--reference", "nearest", "--diff", "--metrics", "b.csv", "big.tif", cwd=tmp_path)
    assert grow.returncode == 0, grow.stderr
    assert "Traceback" not in grow.stderr and "Warning" not in grow.stderr
    with open(tmp_path / "b.csv", newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert rows["nearest"]["psnr"] == "inf"
    assert rows["bicubic"]["psnr"] == "" and rows["bicubic"]["reason"].startswith("Bicubic: the result leaves float32")


def test_a_batch_of_unreadable_images_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    run = upscope("--export", "figures", "--methods", "nearest", str(folder), str(tmp_path / "gone.png"), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    for message in ("a.png: the file is empty", "b.jpg: ", "gone.png: no such file"):
        assert message in run.stderr
    assert "wrote 0 figure(s)" in run.stderr and "metrics in" not in run.stderr
    assert not (tmp_path / "figures").exists()


def test_existing_results_are_refused_before_the_figure_is_written(tmp_path: Path, images: Path) -> None:
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "metrics.json").write_text("[]")
    run = upscope("--export", "out.png", "--methods", "nearest", "--results", "res", str(images / "a.png"), cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "metrics.json: already exists; add --force to overwrite" in run.stderr
    assert not (tmp_path / "out.png").exists() and (tmp_path / "res" / "metrics.json").read_text() == "[]"


# Batch names, the metrics JSON ----------------------------------------------------------------


def test_images_that_differ_only_in_extension_get_their_own_figures_and_results(tmp_path: Path, images: Path) -> None:
    folder = tmp_path / "cats"
    folder.mkdir()
    picture = core.load_image(images / "a.png")
    core.save_image(folder / "chelsea.png", picture)
    core.save_image(folder / "chelsea.tif", picture[::-1].copy())
    run = upscope("--export", "figures", "--methods", "nearest,bicubic", "--scale", "2", "--results", "res",
                  str(folder), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["chelsea.png.png", "chelsea.tif.png", "metrics.csv"]
    assert sorted(p.name for p in (tmp_path / "res").iterdir()) == ["chelsea.png", "chelsea.tif"]
    # Each results folder holds its own image, not the other's.
    assert np.array_equal(core.load_image(tmp_path / "res" / "chelsea.png" / "reference.png"), picture)
    assert np.array_equal(core.load_image(tmp_path / "res" / "chelsea.tif" / "reference.png"), picture[::-1])
    listed = json.loads((tmp_path / "res" / "chelsea.png" / "metrics.json").read_text())
    assert [item["method"] for item in listed] == ["nearest", "bicubic"]
    assert all(item["params"] == {} for item in listed)  # an object, not JSON text inside JSON
    with open(tmp_path / "res" / "chelsea.png" / "metrics.csv", newline="") as handle:
        assert [row["params"] for row in csv.DictReader(handle)] == ["{}", "{}"]


def test_the_same_file_name_in_two_folders_is_refused_with_both_names(tmp_path: Path, images: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.png").write_bytes((images / "a.png").read_bytes())
    run = upscope("--export", "figures", "--methods", "nearest", str(images / "a.png"), str(other / "a.png"), cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "would both be written to figures/a.png.png" in run.stderr
    assert not (tmp_path / "figures").exists()


# What --help and --list-methods say -----------------------------------------------------------


def help_entries(text: str) -> dict[str, str]:
    """Each option of ``--help`` with its help text (empty when it has none)."""
    entries: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        head = re.match(r"^  (-\S+(?: [A-Z{]\S*)?(?:, -\S+(?: [A-Z{]\S*)?)*)(.*)$", line)
        if head:
            current = head.group(1).split()[0].rstrip(",")
            entries[current] = head.group(2).strip()
        elif current and line.startswith("   "):
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


def test_help_states_the_limits_and_choices_and_every_option_has_help(tmp_path: Path) -> None:
    run = upscope("--help", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    entries = help_entries(run.stdout)
    assert {"--scale", "--downsample", "--background", "--methods", "--results", "--force"} <= set(entries)
    assert [name for name, text in entries.items() if not text.strip()] == []
    assert "scale from 1 to 16" in entries["--scale"]
    for spec in core.list_downsamplers():
        assert re.search(rf"(^|[ :,(]){re.escape(spec.id)}[,) ;]", entries["--downsample"]), spec.id
    assert "avg-pool and max-pool: whole-number scales only" in entries["--downsample"]
    assert "--background {light,dark}" in run.stdout and "(default light)" in entries["--background"]
    assert "(default: nearest, bilinear, bilinear-aligned, bicubic, lanczos4, area, avg-unpool, max-unpool, " \
           "transposed-conv)" in entries["--methods"]
    assert "Exit codes" in run.stdout


def test_list_methods_states_the_scales_each_method_takes(tmp_path: Path) -> None:
    run = upscope("--list-methods", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    heads = {line.split()[0]: line for line in run.stdout.splitlines() if line and not line.startswith(" ")}
    assert heads["espcn"].endswith("[learned, x2, x3, x4 only]")
    assert heads["fsrcnn"].endswith("[learned, x2, x3, x4 only]")
    assert heads["repeat"].endswith("[neural, whole-number scales]")
    assert heads["bicubic"].endswith("[classic, any scale]")


# No display --------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display variables are Linux's")
def test_without_a_display_the_window_is_refused_with_one_clear_line(tmp_path: Path, images: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), str(images / "a.png")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 1
    assert run.stderr.startswith("upscope: no display: ") and run.stderr.count("\n") == 1, run.stderr
    assert "QT_QPA_PLATFORM=offscreen" in run.stderr and "--export" in run.stderr
    exported = subprocess.run([sys.executable, str(ROOT / "app.py"), "--export", "out.png", "--methods", "nearest",
                               str(images / "a.png")], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert exported.returncode == 0, exported.stderr  # the command line needs no display


def test_window_options_are_checked_before_the_window_opens(tmp_path: Path) -> None:
    done = upscope("--scale", "40", "--methods", "bicubic", cwd=tmp_path)
    assert done.returncode == 2 and "scale 40" in done.stderr and "16" in done.stderr
    assert "Traceback" not in done.stderr
