"""One definition of the default methods and of the scale limit: the window on its first
start, the command line and `core.ComparisonSettings()` agree, and refuse the same scales."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np

import core
from gui.docks import SettingsPanel

ROOT = Path(__file__).resolve().parents[1]


def test_the_window_the_command_line_and_the_core_run_the_same_default_methods(qtbot, tmp_path: Path) -> None:
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    ticked = panel.checked_methods()
    assert len(ticked) == 9  # one of each distinct behaviour, not all twelve classic and neural methods
    rng = np.random.default_rng(3)
    core.save_image(tmp_path / "p.png", rng.integers(0, 256, (64, 64, 3)).astype(np.uint8))
    run = subprocess.run([sys.executable, str(ROOT / "app.py"), "--export", "out.png", "--metrics", "m.csv", "p.png"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with open(tmp_path / "m.csv", newline="") as handle:
        ran = [row["method"] for row in csv.DictReader(handle)]
    assert ran == ticked == [choice.id for choice in core.ComparisonSettings().method_choices()]


def test_the_window_and_the_command_line_stop_at_the_same_scale(qtbot, tmp_path: Path) -> None:
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for box in (panel.scale, panel.scale_x):
        box.setValue(100)
        assert box.value() == box.maximum() == core.limits.max_scale == 16
    help_text = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=60).stdout
    assert "scale from 1 to 16" in " ".join(help_text.split())
    # What the window lets a person pick, the core (and so the command line) takes.
    image = np.zeros((4, 4), np.uint8)
    settings = panel.comparison_settings()
    assert settings.scale == 16
    core.Comparison(image, core.ComparisonSettings(mode="upscale", scale=settings.scale, methods=("nearest",)))
