"""The method registry's contents and the command line's --list-methods."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[1]


def specified_ids() -> list[str]:
    """The method ids docs/METHODS.md defines (its "### id {#id}" sections of chapter 2),
    in its order."""
    text = (ROOT / "docs" / "METHODS.md").read_text(encoding="utf-8")
    chapter = text[text.index("## 2. Methods"):text.index("## 3.")]
    return re.findall(r"^### ([a-z0-9-]+) \{#", chapter, flags=re.M)


def test_every_method_of_the_specification_is_registered():
    registered = [spec.id for spec in core.list_methods()]
    specified = specified_ids()
    assert len(specified) >= 12
    assert [i for i in registered if i in specified] == specified  # all there, in the specification's order
    learned = [spec.id for spec in core.list_methods() if spec.family == "learned"]
    assert {"espcn", "fsrcnn"} <= set(learned)


def test_every_spec_says_what_it_is():
    for spec in core.list_methods():
        assert spec.label and spec.description and spec.reference and spec.also_called
        assert spec.family in ("classic", "neural", "learned", "library")
        # The layers take whole-number scales; resize-convolution resizes first, so takes any.
        any_scale = spec.family in ("classic", "library") or spec.id == "resize-conv"
        assert spec.scales == ("any" if any_scale else "integer")
        assert (":" in spec.id) == (spec.family == "library")  # LIBRARY:NAME
        assert bool(spec.trained_scales) == (spec.family == "learned")
        for param in spec.params:
            assert param.description


def test_descriptions_use_the_names_people_search_for():
    text = {spec.id: " ".join((spec.description, *spec.also_called)) for spec in core.list_methods()}
    assert "deconvolution" in text["transposed-conv"] and "fractionally strided" in text["transposed-conv"]
    assert "UpSampling2D" in text["repeat"] and "unsampling" in text["repeat"]
    assert "unpooling" in text["max-unpool"] and "bed of nails" in text["max-unpool"]
    assert "Catmull-Rom" in text["bicubic"]


def test_defaults_of_user_parameters():
    assert core.get_method("bicubic").defaults() == {"a": -0.75}
    assert core.get_method("transposed-conv").defaults() == {
        "kernel": "bilinear", "kernel_size": None, "padding": None, "output_padding": None
    }
    assert core.get_method("max-unpool").defaults() == {}  # positions come from the pipeline


def test_list_methods_on_the_command_line():
    run = subprocess.run([sys.executable, "app.py", "--list-methods"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    for method_id in (spec.id for spec in core.list_methods()):
        assert any(line.startswith(method_id + " ") for line in lines), method_id
    assert "deconvolution" in run.stdout


def test_core_imports_no_qt():
    qt = "('PySide6', 'pyqtgraph', 'superqt', 'shiboken6')"
    code = f"import sys, core, core.methods; print(sorted(m for m in sys.modules if m.split('.')[0] in {qt}))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
