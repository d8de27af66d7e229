"""Evaluating methods over datasets (docs/METHODS.md#evaluation): per-image rows equal
`core.Comparison` on the same image, the summary equals means computed here from the rows,
a run stopped midway and run again ends with the rows of an uninterrupted run, a changed
image recomputes only its own rows, and bad datasets and stores are refused by name."""

from __future__ import annotations

import csv
import math
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import core
from core.report.evaluation.run import EvaluationSettings, evaluate

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = EvaluationSettings(scales=(2.0, 3.0), methods=("nearest", "bicubic", core.MethodChoice("bicubic", {"a": -0.5})))


def photos(folder: Path, count: int = 3, size: int = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for index in range(count):
        small = rng.integers(0, 256, (size // 6, size // 6, 3)).astype(np.float32)
        image = np.kron(small, np.ones((6, 6, 1), np.float32)) + rng.normal(0, 8, (size, size, 3))
        core.save_image(folder / f"photo{index}.png", np.clip(image, 0, 255).astype(np.uint8))
    return folder


def table(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text().splitlines()))


def numbers(rows: list[dict]) -> dict[tuple, tuple]:
    """Each row's metrics by its key (time left out: it differs run to run)."""
    return {(r["dataset"], r["image"], float(r["scale"]), r["method"]): (r["psnr"], r["ssim"], r["mae"], r["reason"])
            for r in rows}


def test_rows_are_the_comparisons_numbers_and_the_summary_their_means(tmp_path: Path) -> None:
    data = photos(tmp_path / "set")
    report = evaluate([data], SETTINGS, tmp_path / "out", jobs=1)
    assert report.computed == 3 * 2 * 3 and not report.failed
    rows = table(tmp_path / "out" / "rows.csv")
    assert len(rows) == 18 and {r["method"] for r in rows} == {"nearest", "bicubic", "bicubic[a=-0.5]"}
    image = core.load_image(data / "photo1.png")
    settings = core.ComparisonSettings(mode="degrade", scale=3.0, methods=SETTINGS.methods, convention="paper")
    for result in core.compare(image, settings):
        row = next(r for r in rows if (r["image"], float(r["scale"]), r["method"]) == ("photo1.png", 3.0, result.choice_key))
        assert float(row["psnr"]) == pytest.approx(result.metrics.psnr, abs=1e-9)
        assert float(row["ssim"]) == pytest.approx(result.metrics.ssim, abs=1e-9)
    summary = table(tmp_path / "out" / "summary.csv")
    for line in summary:
        members = [r for r in rows if (r["dataset"], r["scale"], r["method"]) == (line["dataset"], line["scale"], line["method"])]
        assert int(line["images"]) == len(members) == 3
        assert float(line["psnr"]) == pytest.approx(math.fsum(float(r["psnr"]) for r in members) / 3, abs=1e-9)
        assert float(line["ssim"]) == pytest.approx(math.fsum(float(r["ssim"]) for r in members) / 3, abs=1e-9)
    for scale in ("2.0", "3.0"):  # the best PSNR of each block is marked, and it is the largest
        block = [line for line in summary if line["scale"] == scale]
        marked = [line for line in block if "psnr" in line["best"].split()]
        assert marked and float(marked[0]["psnr"]) == max(float(line["psnr"]) for line in block)
    text = (tmp_path / "out" / "summary.md").read_text()
    assert "Y = (16 + 65.481 R" in text and "bicubic-aa" in text and "| x3 | Bicubic (a=-0.5) |" in text
    latex = (tmp_path / "out" / "summary.tex").read_text()
    assert r"\toprule" in latex and r"\bottomrule" in latex and r"\textbf{" in latex
    with sqlite3.connect(tmp_path / "out" / "rows.sqlite") as db:  # what pandas.read_sql reads
        assert db.execute("select count(*) from rows").fetchone()[0] == 18


def test_a_run_stopped_midway_and_run_again_ends_as_an_uninterrupted_one(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=4)
    evaluate([data], SETTINGS, tmp_path / "whole", jobs=1)

    def stop_after_three(done: int, _total: int, _rows: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate([data], SETTINGS, tmp_path / "stopped", jobs=1, progress=stop_after_three)
    with sqlite3.connect(tmp_path / "stopped" / "rows.sqlite") as db:
        assert db.execute("select count(*) from rows").fetchone()[0] == 3 * 3  # three units kept, whole
    again = evaluate([data], SETTINGS, tmp_path / "stopped", jobs=1)
    assert again.stored == 9 and again.computed == 4 * 2 * 3 - 9
    assert numbers(table(tmp_path / "stopped" / "rows.csv")) == numbers(table(tmp_path / "whole" / "rows.csv"))


def test_a_killed_command_keeps_its_rows_and_the_next_run_completes_them(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=8, size=240)
    out = tmp_path / "killed"
    command = [sys.executable, str(ROOT / "app.py"), "--evaluate", str(data), "--scales", "2,3,4",
               "--methods", "nearest,bicubic,lanczos4", "--out", str(out), "--jobs", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if (out / "rows.sqlite").exists():
            with sqlite3.connect(out / "rows.sqlite") as db:
                try:
                    stored = db.execute("select count(*) from rows").fetchone()[0]
                except sqlite3.OperationalError:
                    continue
            if stored >= 6:
                break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert 0 < stored < 8 * 3 * 3, stored  # killed midway, with rows stored
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    reference = tmp_path / "whole"
    subprocess.run([*command[:-4], "--out", str(reference), "--jobs", "1"], cwd=tmp_path, check=True, capture_output=True,
                   timeout=300)
    assert numbers(table(out / "rows.csv")) == numbers(table(reference / "rows.csv"))
    assert len(table(out / "rows.csv")) == 8 * 3 * 3


def test_a_changed_image_recomputes_only_its_own_rows(tmp_path: Path) -> None:
    data = photos(tmp_path / "set")
    evaluate([data], SETTINGS, tmp_path / "out", jobs=1)
    image = core.load_image(data / "photo2.png")
    core.save_image(data / "photo2.png", 255 - image)
    report = evaluate([data], SETTINGS, tmp_path / "out", jobs=1)
    assert report.computed == 2 * 3 and report.stored == 2 * 2 * 3


def test_bad_datasets_and_stores_are_named(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=1, size=12)
    (data / "readme.txt").write_text("not an image")
    settings = EvaluationSettings(scales=(2.0, 16.0), methods=("bicubic",))
    report = evaluate([data], settings, tmp_path / "out", jobs=1)
    assert report.skipped == [(str(data / "readme.txt"), "not an image file (.txt)")]
    rows = table(tmp_path / "out" / "rows.csv")
    small = next(r for r in rows if r["scale"] == "16.0")
    assert small["psnr"] == "" and "12x12 image is too small to shrink by 16" in small["reason"], small
    with pytest.raises(core.ParameterError, match="holds an evaluation of other settings"):
        evaluate([data], EvaluationSettings(scales=(2.0,), methods=("nearest",)), tmp_path / "out", jobs=1)
    (tmp_path / "empty").mkdir()
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--evaluate", str(tmp_path / "empty"), "--out",
                          str(tmp_path / "nothing")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "holds no image files" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "nothing").exists()
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--evaluate", str(data), "--methods", "nearest",
                          "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "use another folder, or --force" in run.stderr


def test_a_dask_cluster_gives_the_same_rows_as_local_processes(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    data = photos(tmp_path / "set", count=3)
    evaluate([data], SETTINGS, tmp_path / "local", jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = evaluate([data], SETTINGS, tmp_path / "cluster", scheduler=cluster.scheduler_address)
        assert report.computed == 18 and not report.failed
        sent = evaluate([data], SETTINGS, tmp_path / "sent", scheduler=cluster.scheduler_address, send_images=True)
        assert sent.computed == 18 and not sent.failed
        # A resource no worker offers would leave every unit waiting: refused by name.
        with pytest.raises(core.ParameterError, match="--gpu-resource GPU: none of the 2 workers"):
            evaluate([data], SETTINGS, tmp_path / "gpu", scheduler=cluster.scheduler_address, gpu_resource="GPU")
        assert not (tmp_path / "gpu").exists()
    local = numbers(table(tmp_path / "local" / "rows.csv"))
    assert numbers(table(tmp_path / "cluster" / "rows.csv")) == local
    assert numbers(table(tmp_path / "sent" / "rows.csv")) == local


def test_an_unreachable_scheduler_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    data = photos(tmp_path / "set", count=1)
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--evaluate", str(data), "--scheduler",
                          "tcp://127.0.0.1:9", "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr
    assert "Traceback" not in run.stderr and not (tmp_path / "out").exists()


def test_the_plot_puts_each_method_at_its_time_and_psnr(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=2)
    report = evaluate([data], SETTINGS, tmp_path / "out", jobs=1)
    plot = tmp_path / "out" / "psnr-time-set.png"
    assert plot in report.written
    picture = core.load_image(plot)
    assert picture.shape == (600, 1000, 3)
    coloured = np.any(np.abs(picture.astype(int) - picture.mean(axis=2, keepdims=True)) > 40, axis=2)
    assert coloured[:, :720].sum() > 200  # the points, their lines and scales, in the methods' colours
    # The legend beside the plot names each method with a dot of its colour.
    from core.report.evaluation.plot import COLOURS, PLOT_RIGHT

    legend = picture[:, PLOT_RIGHT + 15:PLOT_RIGHT + 32].reshape(-1, 3)
    for colour in COLOURS[:len(SETTINGS.methods)]:
        assert (legend == colour).all(axis=1).any(), colour


def crash_once(marker: str, path: str) -> np.ndarray:
    """Read ``path``, but end the worker process the first time (a worker lost midway)."""
    import os

    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return core.load_image(path)


def test_a_lost_dask_worker_is_replaced_and_its_rows_stored_once(tmp_path: Path) -> None:
    import functools

    from core.report.evaluation.datasets import Dataset, DatasetImage

    distributed = pytest.importorskip("distributed")
    data = photos(tmp_path / "set", count=2)
    files = sorted(data.iterdir())
    marker = str(tmp_path / "crashed")
    images = (DatasetImage("set", files[0].name, files[0], functools.partial(core.load_image, files[0])),
              DatasetImage("set", files[1].name, files[1], functools.partial(crash_once, marker, str(files[1]))))
    evaluate([data], SETTINGS, tmp_path / "local", jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = evaluate([Dataset("set", images)], SETTINGS, tmp_path / "cluster", scheduler=cluster.scheduler_address)
    assert Path(marker).exists() and not report.failed and report.computed == 2 * 2 * 3
    rows = table(tmp_path / "cluster" / "rows.csv")
    assert len(rows) == 12 and numbers(rows) == numbers(table(tmp_path / "local" / "rows.csv"))


def test_a_model_file_is_evaluated_by_workers_that_load_it_themselves(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    import tiny_models

    path = tiny_models.export_onnx(tiny_models.espcn_like(scale=2), tmp_path / "espcn_x2.onnx")
    model = core.add_model(path, "my net")
    try:
        data = photos(tmp_path / "set", count=2, size=48)
        settings = EvaluationSettings(scales=(2.0,), methods=("bicubic", model))
        report = evaluate([data], settings, tmp_path / "out", jobs=2)  # spawned workers: the model is not theirs
        assert not report.failed and report.computed == 2 * 2
        rows = table(tmp_path / "out" / "rows.csv")
        image = core.load_image(data / "photo0.png")
        result = next(r for r in core.compare(image, core.ComparisonSettings(mode="degrade", scale=2.0, methods=(model,),
                                                                            convention="paper")))
        row = next(r for r in rows if (r["image"], r["method"]) == ("photo0.png", model))
        assert float(row["psnr"]) == pytest.approx(result.metrics.psnr, abs=1e-6)
        # A result image is of one image: refused by name.
        other = core.add_result("theirs", np.zeros((96, 96, 3), np.uint8))
        try:
            with pytest.raises(core.ParameterError, match="theirs .* is a result image"):
                evaluate([data], EvaluationSettings(scales=(2.0,), methods=(other,)), tmp_path / "refused", jobs=1)
        finally:
            core.forget_method(other)
    finally:
        core.forget_method(model)


def test_what_cannot_be_measured_is_stored_with_why_listed_and_left_out_of_the_means(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=1)
    core.save_image(data / "tiny.png", np.full((3, 3), 100, np.uint8))
    (data / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png at all")
    (data / "empty.png").write_bytes(b"")
    settings = EvaluationSettings(scales=(2.0, 4.0), methods=("bicubic",))
    report = evaluate([data], settings, tmp_path / "out", jobs=1)
    assert not report.failed and report.computed == 4 * 2
    listed = dict(report.not_measured)
    assert set(listed) == {"set/corrupt.png at x2, x4", "set/empty.png at x2, x4", "set/tiny.png at x2",
                           "set/tiny.png at x4"}, listed
    # A 3x3 image at x2 is cropped to 2x2: the paper convention cannot shave 2 pixels off it.
    assert "cannot shave 2 pixels from each side of a 2x2 image" in listed["set/tiny.png at x2"]
    assert "too small to shrink by 4" in listed["set/tiny.png at x4"]
    rows = table(tmp_path / "out" / "rows.csv")
    assert all(r["reason"] and not r["psnr"] for r in rows if r["image"] != "photo0.png")
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert summary.count("| 1 of 4 |") == 2  # each scale's mean is over photo0 alone, and says so
    assert "% 1 of 4 images measured" in (tmp_path / "out" / "summary.tex").read_text()
    again = evaluate([data], settings, tmp_path / "out", jobs=1)
    assert again.computed == 0 and again.stored == 8  # stored with its reason, not tried again
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--evaluate", str(data), "--scales", "2,4",
                          "--methods", "bicubic", "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and "Traceback" not in run.stderr
    assert "upscope: not measured: set/corrupt.png at x2, x4: " in run.stderr
    assert "upscope: not measured: set/tiny.png at x2: " in run.stderr


def test_the_tables_are_of_the_images_and_scales_asked_for(tmp_path: Path) -> None:
    data, other = photos(tmp_path / "set"), photos(tmp_path / "other", count=1)
    settings = EvaluationSettings(scales=(2.0, 3.0), methods=("bicubic",))
    evaluate([data, other], settings, tmp_path / "out", jobs=1)
    assert (tmp_path / "out" / "psnr-time-other.png").exists()
    only_x2 = evaluate([data], EvaluationSettings(scales=(2.0,), methods=("bicubic",)), tmp_path / "out", jobs=1)
    assert only_x2.computed == 0 and only_x2.stored == 3
    summary = table(tmp_path / "out" / "summary.csv")
    assert [(r["dataset"], r["scale"], r["images"]) for r in summary] == [("set", "2.0", "3")]
    assert {(r["image"], r["scale"]) for r in table(tmp_path / "out" / "rows.csv")} == {
        (f"photo{i}.png", "2.0") for i in range(3)}
    assert not (tmp_path / "out" / "psnr-time-other.png").exists()  # a plot of a dataset not asked for now
    (data / "photo2.png").unlink()
    evaluate([data], settings, tmp_path / "out", jobs=1)
    assert {r["images"] for r in table(tmp_path / "out" / "summary.csv")} == {"2"}
    with sqlite3.connect(tmp_path / "out" / "rows.sqlite") as db:  # the store keeps every row for later runs
        assert db.execute("select count(*) from rows").fetchone()[0] == 3 * 2 + 2


def test_settings_are_checked_before_anything_runs(tmp_path: Path) -> None:
    data = photos(tmp_path / "set", count=1)
    for settings, message in (
        (EvaluationSettings(scales=(2.0,), methods=(core.MethodChoice("bicubic", {"zz": 1}),)),
         "unknown parameter 'zz'"),
        (EvaluationSettings(scales=(1.0,)), "must be above 1"),
        (EvaluationSettings(scales=(math.nan,)), "must be above 1"),
        (EvaluationSettings(scales=(2.0, 2.0)), "scale 2 is given twice"),
        (EvaluationSettings(scales=(2.0,), convention="luma"), "convention"),
    ):
        with pytest.raises(core.ParameterError, match=message):
            evaluate([data], settings, tmp_path / "out", jobs=1)
    assert not (tmp_path / "out").exists()
    one = EvaluationSettings(scales=2, methods="bicubic")
    assert one.scales == (2.0,) and one.methods == ("bicubic",)
    single = evaluate(str(data), one, tmp_path / "single", jobs=1)  # one dataset named alone, not a list
    assert single.computed == 1 and not single.failed
    # The order of the methods only orders the tables: the store takes it as the same settings.
    evaluate([data], EvaluationSettings(scales=(2.0,), methods=("nearest", "bicubic")), tmp_path / "out", jobs=1)
    turned = evaluate([data], EvaluationSettings(scales=(2.0,), methods=("bicubic", "nearest")), tmp_path / "out",
                      jobs=1)
    assert turned.computed == 0 and turned.stored == 2
    assert [r["method"] for r in table(tmp_path / "out" / "summary.csv")] == ["bicubic", "nearest"]
    with pytest.raises(core.ParameterError, match="downsampler asked for: area, stored: bicubic-aa"):
        evaluate([data], EvaluationSettings(scales=(2.0,), methods=("nearest", "bicubic"), downsampler="area"),
                 tmp_path / "out", jobs=1)


def test_options_an_evaluation_would_ignore_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import app

    data = photos(tmp_path / "set", count=1)
    for extra, message in ((["--scale", "3"], "--scale: not used by --evaluate"),
                           (["--mode", "upscale", "--export", "x.png"], "--mode, --export: not used by --evaluate"),
                           ([str(data)], "image paths: not used by --evaluate"),
                           (["--send-images"], "--send-images: only with --scheduler"),
                           (["--methods", "bicubic[zz=1]"], "bicubic: unknown parameter 'zz' (accepted: a)")):
        assert app.main(["--evaluate", str(data), "--out", str(tmp_path / "out"), *extra]) == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error
    assert app.main(["--evaluate", str(tmp_path / "set" / "photo0.png"), "--out", str(tmp_path / "out")]) == 2
    assert "an image, not a dataset" in capsys.readouterr().err
    assert app.main(["--evaluate", str(data), "--methods", "", "--out", str(tmp_path / "out")]) == 2
    assert "--methods needs at least one method id" in capsys.readouterr().err
    # A model file that does not load stops the evaluation: its table would lack the model.
    missing = tmp_path / "nofile.onnx"
    assert app.main(["--evaluate", str(data), "--methods", "bicubic", "--model", str(missing),
                     "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert str(missing) in error and "nothing evaluated" in error
    assert not (tmp_path / "out").exists()


def test_a_port_that_is_not_a_dask_scheduler_is_named_in_seconds(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A listener that never answers the handshake (a web server, the dashboard's port)."""
    import socket

    from core.report.evaluation import run

    pytest.importorskip("distributed")
    monkeypatch.setattr(run, "CONNECT_SECONDS", 1)
    data = photos(tmp_path / "set", count=1)
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        started = time.perf_counter()
        with pytest.raises(core.UpscopeError, match=f"{address} did not answer as a Dask scheduler"):
            evaluate([data], SETTINGS, tmp_path / "out", scheduler=address)
        assert time.perf_counter() - started < 30
    assert not (tmp_path / "out").exists()


def test_each_method_runs_once_untimed_before_its_first_image() -> None:
    """A first call pays for lazy set-up (a model's loading): it must not land in the
    first image's time."""
    from core.report.evaluation import run
    from core.report.evaluation.datasets import open_dataset

    image = open_dataset("builtin:photos").images[0]
    settings = EvaluationSettings(scales=(2.0,), methods=("bicubic", "espcn"))
    run._WARMED.discard("espcn")
    unit = run.Unit(image, image.sha256(), 2.0, settings.choices(), settings)
    rows = run.evaluate_unit(unit)
    assert {"bicubic", "espcn"} <= run._WARMED
    assert all(row["psnr"] is not None for row in rows)
