"""``--model``, ``--model-255``, ``--result`` and ``--plugin`` on the command line: the
methods join the comparison, the figure and the metrics; a bad one is named on stderr,
the others still run, and the exit code says that something failed."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tiny_models

import core

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("onnxruntime")


def upscope(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    photo = np.clip(np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((8, 8, 1))) + rng.normal(0, 4, (64, 64, 3)), 0, 255)
    core.save_image(tmp_path / "photo.png", photo.astype(np.uint8))
    core.save_image(tmp_path / "theirs.png", np.clip(photo + 3, 0, 255).astype(np.uint8))
    core.save_image(tmp_path / "small.png", photo[:40].astype(np.uint8))
    tiny_models.export_onnx(tiny_models.espcn_like(2), tmp_path / "espcn_x2.onnx")
    (tmp_path / "layers.py").write_text(textwrap.dedent("""
        import numpy as np
        from core import register_method

        @register_method("by-hand", label="By hand", family="plugin", description="pixel repetition")
        def by_hand(image, size):
            return np.repeat(np.repeat(image, size[0] // image.shape[0], 0), size[1] // image.shape[1], 1)
    """))
    return tmp_path


def rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open() as handle:
        return {row["method"]: row for row in csv.DictReader(handle)}


def test_own_methods_join_the_figure_and_the_metrics(folder):
    run = upscope("photo.png", "--export", "out.png", "--scale", "2", "--methods", "bicubic", "--metrics", "m.csv",
                  "--model", "Mine=espcn_x2.onnx", "--result", "Theirs=theirs.png", "--plugin", "layers.py", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert (folder / "out.png").exists()
    table = rows(folder / "m.csv")
    assert list(table) == ["bicubic", "by-hand", "mine", "theirs"]
    assert table["mine"]["label"] == "Mine" and float(table["mine"]["psnr"]) > 0
    truth = core.load_image(folder / "photo.png").astype(np.float64)
    theirs = core.load_image(folder / "theirs.png").astype(np.float64)
    assert float(table["theirs"]["mse"]) == pytest.approx(np.mean((truth - theirs) ** 2), rel=1e-9)


def test_list_methods_shows_them_with_what_the_loader_learned(folder):
    run = upscope("--list-methods", "--model", "espcn_x2.onnx", "--plugin", "layers.py", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "espcn_x2           espcn_x2 [model, x2 only]" in run.stdout
    assert "ONNX" in run.stdout and "by-hand" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "broken.onnx"], "broken.onnx: not an ONNX model onnxruntime can load"),
        (["--model", "missing.pth"], "missing.pth: no such file"),
        (["--plugin", "syntax.py"], "syntax.py: syntax error at line 1"),
        (["--result", "Small=small.png"], None),
    ],
)
def test_a_bad_own_method_is_named_and_the_rest_runs(folder, args, message):
    (folder / "broken.onnx").write_bytes(b"\x08\x07garbage")
    (folder / "syntax.py").write_text("def (:\n")
    run = upscope("photo.png", "--export", "out.png", "--scale", "2", "--methods", "bicubic", "--metrics", "m.csv",
                  *args, cwd=folder)
    assert (folder / "out.png").exists() and "bicubic" in rows(folder / "m.csv")
    if message is None:  # a result image of the wrong size: its row says why, the export succeeds
        assert run.returncode == 0, run.stderr
        assert "the result image is 64x40" in rows(folder / "m.csv")["small"]["reason"]
    else:
        assert run.returncode == 1
        assert any(message in line for line in run.stderr.splitlines()), run.stderr
        assert "Traceback" not in run.stderr


def test_a_model_of_another_scale_is_reported_in_its_row(folder):
    run = upscope("photo.png", "--export", "out.png", "--scale", "4", "--methods", "bicubic", "--metrics", "m.csv",
                  "--model", "espcn_x2.onnx", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert rows(folder / "m.csv")["espcn_x2"]["reason"] == "this model is x2; the comparison is x4"


def test_a_result_without_a_label_is_a_usage_error(folder):
    run = upscope("photo.png", "--export", "out.png", "--result", "theirs.png", cwd=folder)
    assert run.returncode == 2 and "give it as LABEL=PATH" in run.stderr
    assert not (folder / "out.png").exists()


def test_a_replayed_session_names_its_changed_and_missing_files(folder):
    import json

    run = upscope("photo.png", "--export", "a.png", "--scale", "2", "--methods", "bicubic", "--metrics", "a.csv",
                  "--model", "espcn_x2.onnx", "--model", "espcn_x2.onnx", "--result", "Theirs=theirs.png", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert list(rows(folder / "a.csv")) == ["bicubic", "espcn_x2", "theirs"]  # the same file twice is one method
    session = {"format": "upscope-session", "version": 1, "image": "photo.png",
               "settings": {"scale": 2, "mode": "degrade", "methods": ["bicubic", "espcn_x2", "theirs"]},
               "added": [
                   {"kind": "model", "path": "espcn_x2.onnx", "sha256": None, "label": "espcn_x2", "id": "espcn_x2"},
                   {"kind": "result", "path": "gone.png", "sha256": None, "label": "Theirs", "id": "theirs"},
               ]}
    (folder / "s.json").write_text(json.dumps(session))
    run = upscope("--session", "s.json", "--export", "b.png", "--metrics", "b.csv", cwd=folder)
    assert run.returncode == 1
    assert "gone.png" in run.stderr and "left out" in run.stderr
    assert list(rows(folder / "b.csv")) == ["bicubic", "espcn_x2"]


def test_a_hung_plugin_is_stopped_at_the_given_time(folder):
    (folder / "hangs.py").write_text(textwrap.dedent("""
        import time
        from core import register_method

        @register_method("sleeper", label="Sleeper", family="plugin", description="never returns in time")
        def sleeper(image, size):
            time.sleep(60)
    """))
    run = upscope("photo.png", "--export", "out.png", "--scale", "2", "--methods", "bicubic", "--metrics", "m.csv",
                  "--plugin", "hangs.py", "--plugin-timeout", "1", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "did not finish within 1 s; it was stopped" in rows(folder / "m.csv")["sleeper"]["reason"]
    bad = upscope("photo.png", "--export", "out.png", "--plugin-timeout", "0", cwd=folder)
    assert bad.returncode == 2 and "--plugin-timeout must be a positive number" in bad.stderr
