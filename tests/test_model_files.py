"""Model files as methods (docs/METHODS.md#model-files): tiny random-weight networks made
here, run through Upscope, against PyTorch's own forward pass; tiles against one run;
the refusals, each named; and a pickle whose payload would run code, which must not."""

from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest
import tiny_models
from hypothesis import given, settings
from hypothesis import strategies as st

import core
from core.common.cancel import CancelledError, cancel_scope
from core.common.progress import progress_scope

pytest.importorskip("onnxruntime")


@pytest.fixture(autouse=True)
def forget_added_methods():
    yield
    for spec in core.user_methods():
        core.forget_method(spec.id)


def photo(height: int, width: int, channels: int = 3, dtype=np.float32, seed: int = 1) -> np.ndarray:
    """Smooth random content in [0, 1] (or the dtype's range)."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.random((max(2, height // 6), max(2, width // 6), channels)).astype(np.float32)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).reshape(height, width, channels)
    image = np.clip(image, 0, 1)
    if dtype == np.uint8:
        return np.rint(image * 255).astype(np.uint8)
    if dtype == np.uint16:
        return np.rint(image * 65535).astype(np.uint16)
    return image.astype(np.float32)


@pytest.fixture(scope="module")
def espcn_onnx(tmp_path_factory):
    net = tiny_models.espcn_like(scale=2)
    return net, tiny_models.export_onnx(net, tmp_path_factory.mktemp("onnx") / "espcn_x2.onnx")


# ONNX ------------------------------------------------------------------------------------

@pytest.mark.parametrize("tile", [0, 24])
def test_an_onnx_model_gives_pytorchs_output_in_float(espcn_onnx, tile):
    net, path = espcn_onnx
    method = core.add_model(path)
    image = photo(45, 70)
    ours = core.upsample(image, method, scale=2, tile=tile)
    assert ours.shape == (90, 140, 3) and ours.dtype == np.float32
    assert np.abs(ours - tiny_models.forward(net, image)).max() <= 1e-4


@pytest.mark.parametrize("tile", [0, 32])
def test_an_onnx_model_on_8_bit_images_is_within_one_level(espcn_onnx, tile):
    net, path = espcn_onnx
    method = core.add_model(path, "Mine")
    image = photo(50, 64, dtype=np.uint8)
    ours = core.upsample(image, method, scale=2, tile=tile)
    expected = np.clip(np.rint(tiny_models.forward(net, image / 255.0) * 255), 0, 255)
    assert ours.dtype == np.uint8
    assert np.abs(ours.astype(np.float64) - expected).max() <= 1


def test_what_loading_learned_describes_the_method(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path, "My ESPCN")
    spec = core.get_method(method)
    assert method == "my-espcn" and spec.label == "My ESPCN" and spec.family == "model"
    assert spec.trained_scales == (2,)
    facts = core.loaded_model(method).facts
    assert facts.scale == 2 and facts.in_channels == 3 and facts.format == "ONNX"
    import hashlib

    assert facts.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert facts.sha256[:16] in spec.description and "x2" in spec.description
    assert 5 <= facts.halo <= 8 and facts.reach_bounded  # 5x5, 3x3, 3x3 convolutions: reach 4, plus a margin
    assert core.add_model(path, "My ESPCN") == method  # the same file again: the same method


def test_a_model_for_0_to_255_is_scaled_to_its_range(tmp_path):
    net = tiny_models.espcn_like(scale=2, seed=3)
    unit = core.add_model(tiny_models.export_onnx(net, tmp_path / "unit.onnx"))
    wide = core.add_model(tiny_models.export_onnx(tiny_models.Scaled(net), tmp_path / "wide.onnx"), value_range="0-255")
    image = photo(30, 40, dtype=np.uint16)
    a = core.upsample(image, unit, scale=2).astype(np.int64)
    b = core.upsample(image, wide, scale=2).astype(np.int64)
    assert np.abs(a - b).max() <= 1


def test_grey_images_and_grey_models_meet_halfway(tmp_path):
    rgb_net, grey_net = tiny_models.espcn_like(2, 3, seed=4), tiny_models.espcn_like(2, 1, seed=5)
    rgb = core.add_model(tiny_models.export_onnx(rgb_net, tmp_path / "rgb.onnx"))
    grey = core.add_model(tiny_models.export_onnx(grey_net, tmp_path / "grey.onnx", channels=1))
    grey_image, colour_image = photo(20, 24, 1)[:, :, 0], photo(20, 24, 3)
    # A grey image through an RGB model: three equal channels in, their mean out.
    out = core.upsample(grey_image, rgb, scale=2)
    expected = tiny_models.forward(rgb_net, np.repeat(grey_image[:, :, None], 3, axis=2)).mean(axis=2)
    assert out.shape == (40, 48) and np.abs(out - expected).max() <= 1e-4
    # An RGB image through a grey model: each channel on its own.
    out = core.upsample(colour_image, grey, scale=2)
    for c in range(3):
        assert np.abs(out[:, :, c] - tiny_models.forward(grey_net, colour_image[:, :, c:c + 1])[:, :, 0]).max() <= 1e-4


def test_alpha_is_enlarged_not_invented(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path)
    image = photo(16, 16, 4, dtype=np.uint8)
    out = core.upsample(image, method, scale=2)
    import cv2

    expected_alpha = cv2.resize(image[:, :, 3].astype(np.float32), (32, 32), interpolation=cv2.INTER_CUBIC)
    assert out.shape == (32, 32, 4)
    assert np.abs(out[:, :, 3] - np.clip(np.rint(expected_alpha), 0, 255)).max() <= 1


def test_a_model_with_a_fixed_input_size_runs_in_windows_of_that_size(tmp_path):
    net = tiny_models.espcn_like(2, seed=6)
    method = core.add_model(tiny_models.export_onnx(net, tmp_path / "fixed.onnx", fixed=(32, 32)))
    assert core.loaded_model(method).facts.fixed_size == (32, 32)
    image = photo(50, 75)
    out = core.upsample(image, method, scale=2)
    assert np.abs(out - tiny_models.forward(net, image)).max() <= 1e-4
    small = photo(20, 9)  # smaller than the window: padded by repeating the edge, then cropped
    out = core.upsample(small, method, scale=2)
    padded = np.pad(small, ((0, 12), (0, 23), (0, 0)), mode="edge")
    assert np.abs(out - tiny_models.forward(net, padded)[:40, :18]).max() <= 1e-4


# PyTorch checkpoints through spandrel ---------------------------------------------------

@pytest.mark.parametrize(("kind", "suffix"), [("compact", ".pth"), ("compact", ".safetensors"), ("rrdb", ".pth")])
@pytest.mark.parametrize(("tile", "backend"), [(0, "cpu"), (20, "cpu"), (20, "torch")])
def test_a_checkpoint_gives_pytorchs_output(tmp_path, kind, suffix, tile, backend):
    """On either backend: a checkpoint runs on PyTorch's own device (a GPU when there is
    one) whatever the backend of the rest of the comparison."""
    net = tiny_models.spandrel_model(kind, scale=2)
    path = tiny_models.save_checkpoint(net, tmp_path / f"{kind}{suffix}")
    method = core.add_model(path)
    facts = core.loaded_model(method).facts
    assert facts.scale == 2 and facts.in_channels == 3
    assert facts.parameters == sum(p.numel() for p in net.parameters())
    assert facts.architecture == {"compact": "RealESRGAN Compact", "rrdb": "ESRGAN"}[kind]
    image = photo(36, 44)
    ours = core.upsample(image, method, scale=2, tile=tile, backend=backend)
    # spandrel's call clamps a model's output to [0, 1], its defined range
    assert np.abs(ours - tiny_models.forward(net, image, clamp=True)).max() <= 1e-4
    image8 = photo(36, 44, dtype=np.uint8)
    ours8 = core.upsample(image8, method, scale=2, tile=tile, backend=backend).astype(np.float64)
    expected8 = np.rint(tiny_models.forward(net, image8 / 255.0, clamp=True) * 255)
    assert np.abs(ours8 - expected8).max() <= 1


def test_float16_needs_a_gpu(tmp_path):
    torch = tiny_models.torch_module()
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here: float16 runs")
    path = tiny_models.save_checkpoint(tiny_models.spandrel_model("compact"), tmp_path / "c.pth")
    method = core.add_model(path)
    with pytest.raises(core.ParameterError, match="float16 needs a CUDA GPU"):
        core.upsample(photo(8, 8), method, scale=2, precision="float16")


def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path):
    torch = tiny_models.torch_module()
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "weights.pth"
    torch.save({"conv.weight": torch.zeros(1), "extra": Payload()}, str(evil))
    with pytest.raises(core.ModelError, match="refused: loading it would call .*system") as refused:
        core.add_model(evil)
    assert "weights only" in str(refused.value)
    assert not marker.exists()
    # the same payload as a bare pickle with the checkpoint's suffix
    bare = tmp_path / "bare.ckpt"
    bare.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(core.ModelError):
        core.add_model(bare)
    assert not marker.exists()


def test_a_torchscript_archive_is_refused_as_code(tmp_path):
    torch = tiny_models.torch_module()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit's deprecation notice: TorchScript files are still about
        scripted = torch.jit.script(tiny_models.espcn_like())
    path = tmp_path / "scripted.pt"
    scripted.save(str(path))
    with pytest.raises(core.ModelError, match="TorchScript archive"):
        core.add_model(path)


# Tiles -----------------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 90), width=st.integers(1, 90), tile=st.integers(1, 40), halo=st.integers(4, 9),
       seed=st.integers(0, 1000))
def test_tiles_join_without_seams(height, width, tile, halo, seed):
    """Random 3-layer convolution networks of reach 4: tiles whose overlap covers the
    reach give the untiled result."""
    torch = tiny_models.torch_module()
    net = tiny_models.espcn_like(scale=2, seed=seed)

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return net(torch.from_numpy(batch)).numpy()

    batch = np.random.default_rng(seed).random((1, 3, height, width), dtype=np.float32)
    whole = core.tiled_forward(forward, batch, 2, tile=0, halo=halo)
    tiled = core.tiled_forward(forward, batch, 2, tile=tile, halo=halo)
    assert np.abs(tiled - whole).max() <= 1e-5


def test_tiles_report_progress_and_stop_when_cancelled(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path)
    image = photo(64, 64)
    seen: list[tuple[int, int]] = []
    with progress_scope(lambda done, total: seen.append((done, total))):
        core.upsample(image, method, scale=2, tile=16)
    assert seen == [(k, 16) for k in range(1, 17)]
    flag = threading.Event()

    def cancel_after_two(done: int, total: int) -> None:
        if done == 2:
            flag.set()

    with cancel_scope(flag), progress_scope(cancel_after_two), pytest.raises(CancelledError):
        core.upsample(image, method, scale=2, tile=16)


# Refusals --------------------------------------------------------------------------------

def test_bad_model_files_are_named_with_the_reason(tmp_path):
    cases = {
        "missing.onnx": (None, "no such file"),
        "empty.onnx": (b"", "empty"),
        "noise.onnx": (np.random.default_rng(0).bytes(3000), "not an ONNX model onnxruntime can load"),
        "notes.txt": (b"hello", "not a model file Upscope loads"),
        "cut.pth": (b"PK\x03\x04" + b"\0" * 40, "not a readable PyTorch checkpoint"),
        "junk.safetensors": (b"\x10\0\0\0\0\0\0\0{not json}", "not a readable safetensors file"),
    }
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(core.ModelError) as refused:
            core.add_model(path)
        assert name in str(refused.value) and reason in str(refused.value), str(refused.value)
    (tmp_path / "folder.onnx").mkdir()
    with pytest.raises(core.ModelError, match="folder.onnx: is a folder"):
        core.add_model(tmp_path / "folder.onnx")
    assert core.user_methods() == []


def test_onnx_graphs_that_are_not_one_image_in_and_out_are_refused(tmp_path):
    with pytest.raises(core.ModelError, match="has 2 input\\(s\\)"):
        core.add_model(tiny_models.onnx_graph(tmp_path / "two.onnx", inputs=2))
    with pytest.raises(core.ModelError, match="no fixed rank"):
        core.add_model(tiny_models.onnx_graph(tmp_path / "rankless.onnx", rank=None))
    with pytest.raises(core.ModelError, match="not a whole multiple"):
        core.add_model(tiny_models.onnx_graph(tmp_path / "x1.5.onnx", resize=1.5))


def test_a_checkpoint_spandrel_does_not_know_lists_what_it_knows(tmp_path):
    path = tiny_models.save_checkpoint(tiny_models.espcn_like(), tmp_path / "espcn.pth")
    pytest.importorskip("spandrel")
    with pytest.raises(core.ModelError, match="spandrel does not recognise") as refused:
        core.add_model(path)
    assert "ESRGAN" in str(refused.value) and "SwinIR" in str(refused.value)


def test_a_model_of_another_scale_says_so_in_its_panel(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path, "mine")
    settings = core.ComparisonSettings(mode="degrade", scale=4, methods=("bicubic", method))
    results = {r.method_id: r for r in core.compare(photo(64, 64, dtype=np.uint8), settings)}
    assert results["bicubic"].ok and results["bicubic"].metrics is not None
    assert not results[method].ok
    assert results[method].reason == "this model is x2; the comparison is x4"


def test_a_model_in_a_comparison_is_measured_like_any_method(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path, "mine")
    image = photo(64, 80, dtype=np.uint8)
    settings = core.ComparisonSettings(mode="degrade", scale=2, methods=("bicubic", method))
    results = {r.method_id: r for r in core.compare(image, settings)}
    mine = results[method]
    assert mine.ok and mine.image.shape == image.shape and mine.metrics is not None
    small, _ = core.downsample(image, 2, "bicubic-aa")
    assert np.array_equal(mine.image, core.upsample(small, method, scale=2))
    assert mine.metrics.psnr == pytest.approx(core.psnr(image, mine.image), abs=1e-9)


def test_without_onnxruntime_the_message_says_what_to_install(espcn_onnx, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with pytest.raises(core.ModelError, match=r"needs onnxruntime, which is not installed; install the models extra"):
        core.add_model(espcn_onnx[1])


def test_a_comparison_tells_the_tiles_of_each_model(espcn_onnx):
    _, path = espcn_onnx
    method = core.add_model(path)
    seen: list[tuple[str, int, int]] = []
    settings = core.ComparisonSettings(mode="upscale", scale=2, methods=("bilinear", core.MethodChoice(method, {"tile": 20})))
    comparison = core.Comparison(photo(40, 40, dtype=np.uint8), settings, progress=lambda *args: seen.append(args))
    assert all(result.ok for result in comparison)
    assert seen == [(method, k, 4) for k in range(1, 5)]
