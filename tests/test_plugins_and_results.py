"""Python plugins and result images as methods (docs/METHODS.md#your-own-methods): a
plugin registers its functions with the same decorator as Upscope's own methods; one
that raises, returns the wrong thing or hangs fails in its own panel only. Result images
are shown and measured as they are, at the comparison's size."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import core
from core.report.session import Session, load_session, save_session


@pytest.fixture(autouse=True)
def forget_added_methods():
    yield
    for spec in core.user_methods():
        core.forget_method(spec.id)


def write_plugin(folder: Path, body: str, name: str = "my_layers.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(body))
    return path


GOOD_PLUGIN = """
    import numpy as np
    import cv2
    from core import register_method


    @register_method("my-nearest", label="My nearest", family="plugin", description="pixel repetition by hand")
    def my_nearest(image, size):
        rows = np.arange(size[0]) * image.shape[0] // size[0]
        cols = np.arange(size[1]) * image.shape[1] // size[1]
        return image[rows][:, cols]


    @register_method("my-area", label="My area", family="classic", description="OpenCV's area, as a plugin")
    def my_area(image, size):
        return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA).reshape(size[0], size[1], -1)
"""

BAD_PLUGIN = """
    import time
    import numpy as np
    from core import register_method


    @register_method("raises", label="Raises", family="plugin", description="fails")
    def raises(image, size):
        return {}["missing"]


    @register_method("wrong-shape", label="Wrong shape", family="plugin", description="half the size")
    def wrong_shape(image, size):
        return np.zeros((size[0] // 2, size[1], image.shape[2]), image.dtype)


    @register_method("wrong-type", label="Wrong type", family="plugin", description="not an array")
    def wrong_type(image, size):
        return [[0]]


    @register_method("hangs", label="Hangs", family="plugin", description="never returns in time")
    def hangs(image, size):
        time.sleep(30)
"""


def test_a_plugins_functions_are_methods(tmp_path):
    ids = core.load_plugin(write_plugin(tmp_path, GOOD_PLUGIN))
    assert ids == ["my-nearest", "my-area"]
    spec = core.get_method("my-area")
    assert spec.family == "plugin" and "my_layers.py" in spec.description
    image = np.random.default_rng(0).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    assert np.array_equal(core.upsample(image, "my-nearest", scale=3), np.repeat(np.repeat(image, 3, 0), 3, 1))
    assert [s.id for s in core.user_methods()] == ["my-nearest", "my-area"]
    # loaded again (edited, say): its methods are replaced, not refused as taken
    assert core.load_plugin(tmp_path / "my_layers.py") == ["my-nearest", "my-area"]


def test_a_plugin_that_fails_fails_in_its_own_panel(tmp_path, monkeypatch):
    monkeypatch.setattr(core.limits, "plugin_seconds", 0.5)
    core.load_plugin(write_plugin(tmp_path, BAD_PLUGIN, "bad.py"))
    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    settings = core.ComparisonSettings(mode="degrade", scale=2,
                                       methods=("bilinear", "raises", "wrong-shape", "wrong-type", "hangs"))
    results = {r.method_id: r for r in core.compare(image, settings)}
    assert results["bilinear"].ok and results["bilinear"].metrics is not None
    assert "raised KeyError: 'missing'" in results["raises"].reason and "bad.py" in results["raises"].reason
    assert "line 9 of bad.py" in results["raises"].reason
    assert "returned shape (8, 16, 3); this image needs (16, 16, 3)" in results["wrong-shape"].reason
    assert "returned list, not a NumPy array" in results["wrong-type"].reason
    assert "did not finish within 0.5 s; it was stopped" in results["hangs"].reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("def broken(:\n    pass\n", "syntax error at line 1"),
        ("raise RuntimeError('no GPU here')\n", "raised RuntimeError while loading: no GPU here"),
        ("x = 1\n", "registered no method"),
    ],
)
def test_a_plugin_that_cannot_load_is_named(tmp_path, body, message):
    path = write_plugin(tmp_path, body, "plugin.py")
    with pytest.raises(core.PluginError, match=message) as refused:
        core.load_plugin(path)
    assert "plugin.py" in str(refused.value)
    assert core.user_methods() == []


def test_a_plugin_that_fails_halfway_takes_its_methods_back(tmp_path):
    body = textwrap.dedent(GOOD_PLUGIN) + "\nraise ValueError('late')\n"
    with pytest.raises(core.PluginError, match="late"):
        core.load_plugin(write_plugin(tmp_path, body))
    with pytest.raises(core.ParameterError, match="unknown method"):
        core.get_method("my-nearest")


def test_installed_packages_add_methods_through_their_entry_points(tmp_path, monkeypatch):
    package = tmp_path / "site"
    package.mkdir()
    write_plugin(package, GOOD_PLUGIN.replace("my-nearest", "pkg-nearest").replace("my-area", "pkg-area"),
                 "upscope_extra_layers.py")
    info = package / "upscope_extra_layers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: upscope-extra-layers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[upscope.methods]\nextra = upscope_extra_layers\n")
    (info / "broken.txt").write_text("")
    broken = package / "broken_layers-1.0.dist-info"
    broken.mkdir()
    (broken / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-layers\nVersion: 1.0\n")
    (broken / "entry_points.txt").write_text("[upscope.methods]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(package))
    ids, problems = core.load_installed_plugins()
    assert ids == ["pkg-nearest", "pkg-area"]
    assert len(problems) == 1 and "plugin broken (no_such_module_here)" in problems[0]
    assert "ModuleNotFoundError" in problems[0]
    assert core.load_installed_plugins() == ([], problems)  # loaded once


# Result images ---------------------------------------------------------------------------

def test_a_result_image_is_shown_and_measured_as_it_is(tmp_path):
    rng = np.random.default_rng(2)
    truth = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    theirs = np.clip(truth.astype(np.int16) + rng.integers(-6, 7, truth.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "photo_x2_theirs.png"
    core.save_image(path, theirs)
    method = core.add_result("Their tool", path)
    assert method == "their-tool" and core.get_method(method).family == "result"
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=("bicubic", method))
    results = {r.method_id: r for r in core.compare(truth, settings)}
    assert np.array_equal(results[method].image, theirs)
    expected_mse = np.mean((truth.astype(np.float64) - theirs) ** 2)
    assert results[method].metrics.mse == pytest.approx(expected_mse, rel=1e-12)


def test_a_result_image_of_another_size_says_both_sizes(tmp_path):
    path = tmp_path / "theirs.png"
    core.save_image(path, np.zeros((30, 50, 3), np.uint8))
    method = core.add_result("Theirs", path)
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=("bicubic", method))
    results = {r.method_id: r for r in core.compare(np.zeros((41, 47, 3), np.uint8), settings)}
    assert results["bicubic"].ok
    reason = results[method].reason
    assert "the result image is 50x30" in reason and "this comparison's results are 46x40" in reason
    assert "crop or resize" in reason


def test_a_result_image_takes_the_compared_images_units_and_layout():
    truth16 = (np.arange(24 * 24 * 3).reshape(24, 24, 3) * 37 % 65536).astype(np.uint16)
    theirs8 = (truth16 // 257).astype(np.uint8)
    method = core.add_result("eight-bit", theirs8)
    out = core.upsample(truth16[::2, ::2], method, size=(24, 24))
    assert out.dtype == np.uint16 and np.array_equal(out, theirs8.astype(np.uint16) * 257)
    grey = core.add_result("grey", theirs8[:, :, 0])
    as_grey = core.upsample(truth16[::2, ::2], grey, size=(24, 24))
    assert np.array_equal(as_grey[:, :, 1], theirs8[:, :, 0].astype(np.uint16) * 257)
    colour = core.add_result("colour", theirs8)
    with pytest.raises(core.ParameterError, match="in colour and the compared image is grey"):
        core.upsample(truth16[::2, ::2, 0], colour, size=(24, 24))


def test_bad_result_images_are_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    with pytest.raises(core.ImageError, match="broken.png"):
        core.add_result("broken", tmp_path / "broken.png")
    with pytest.raises(core.ParameterError, match="needs a label"):
        core.add_result(" ", np.zeros((2, 2), np.uint8))
    assert core.user_methods() == []


# Sessions --------------------------------------------------------------------------------

def test_a_session_adds_them_again_and_flags_a_changed_file(tmp_path):
    plugin = write_plugin(tmp_path, GOOD_PLUGIN)
    image_path = tmp_path / "theirs.png"
    core.save_image(image_path, np.full((8, 8, 3), 9, np.uint8))
    core.load_plugin(plugin)
    result = core.add_result("Theirs", image_path)
    from core.report.session import added_methods

    settings = core.ComparisonSettings(methods=("bicubic", "my-area", result))
    session_path = save_session(tmp_path / "s.upscope", Session(image=None, settings=settings, added=added_methods()))
    saved = session_path.read_text()
    assert '"path": "theirs.png"' in saved and '"path": "my_layers.py"' in saved  # relative to the session
    for spec in core.user_methods():
        core.forget_method(spec.id)

    reopened = load_session(session_path)
    assert [c.id for c in reopened.settings.method_choices()] == ["bicubic", "my-area", "theirs"]
    assert reopened.notes == ()
    assert {s.id for s in core.user_methods()} == {"my-nearest", "my-area", "theirs"}

    for spec in core.user_methods():
        core.forget_method(spec.id)
    core.save_image(image_path, np.full((8, 8, 3), 10, np.uint8))  # changed since the session was saved
    plugin.unlink()  # and gone
    reopened = load_session(session_path)
    assert [c.id for c in reopened.settings.method_choices()] == ["bicubic", "theirs"]
    assert any("theirs.png has changed since the session was saved" in note for note in reopened.notes)
    assert any("my_layers.py" in note and "left out" in note for note in reopened.notes)


def test_a_hung_plugin_is_stopped_each_time_and_a_crash_is_named(tmp_path, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(core.limits, "plugin_seconds", 0.5)
    core.load_plugin(write_plugin(tmp_path, BAD_PLUGIN + """

    @register_method("crashes", label="Crashes", family="plugin", description="ends its process")
    def crashes(image, size):
        import os
        os._exit(3)
""", "bad.py"))
    image = np.zeros((12, 12, 3), np.uint8)
    for _ in range(3):  # a comparison run again does not pile up hung plugins
        with pytest.raises(core.PluginError, match="did not finish within 0.5 s; it was stopped"):
            core.upsample(image, "hangs", scale=2)
    # (Other helpers may live in this process, FLIP's pool for one: only plugins count.)
    assert [p for p in multiprocessing.active_children() if p.is_alive() and p.name.startswith("upscope plugin")] == []
    with pytest.raises(core.PluginError, match=r"its process ended \(exit code 3\)"):
        core.upsample(image, "crashes", scale=2)
    with pytest.raises(core.PluginError, match="returned shape"):  # a fresh process serves the next call
        core.upsample(image, "wrong-shape", scale=2)
