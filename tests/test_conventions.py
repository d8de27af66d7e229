"""The library-convention lab (docs/METHODS.md#conventions): each ``LIBRARY:NAME`` method
equals the library's own call byte for byte (skipped when the library is absent), and the
written-out TensorFlow and MATLAB conventions match worked examples computed here from
their documented definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import core
from core.methods.conventions import why_they_differ

OPENCV = {"nearest": "INTER_NEAREST", "nearest-exact": "INTER_NEAREST_EXACT", "linear": "INTER_LINEAR",
          "cubic": "INTER_CUBIC", "area": "INTER_AREA", "lanczos4": "INTER_LANCZOS4"}
PILLOW = {"nearest": "NEAREST", "bilinear": "BILINEAR", "bicubic": "BICUBIC", "lanczos": "LANCZOS", "box": "BOX"}
TORCH = {"nearest": ("nearest", {}), "nearest-exact": ("nearest-exact", {}),
         "bilinear": ("bilinear", {"align_corners": False}), "bilinear-aligned": ("bilinear", {"align_corners": True}),
         "bicubic": ("bicubic", {"align_corners": False}),
         "bicubic-aa": ("bicubic", {"align_corners": False, "antialias": True})}
ALL = [f"opencv:{n}" for n in OPENCV] + [f"torch:{n}" for n in TORCH] + [f"pillow:{n}" for n in PILLOW] + [
    f"skimage:order{k}" for k in range(4)] + ["tf:bilinear-half-pixel", "tf:bilinear-legacy", "tf:nearest-legacy",
                                              "matlab:bicubic"]


def image_of(dtype: type, shape: tuple[int, int], channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random((*shape, channels)).astype(np.float32)
    return rng.integers(0, np.iinfo(dtype).max + 1, (*shape, channels)).astype(dtype)


def rounded(values: np.ndarray, dtype: type) -> np.ndarray:
    """Upscope's rounding of a float result: half to even, clipped."""
    if np.dtype(dtype).kind == "f":
        return values.astype(np.float32)
    info = np.iinfo(dtype)
    return np.clip(np.rint(values), info.min, info.max).astype(dtype)


def test_every_convention_the_issue_names_is_registered() -> None:
    ids = {spec.id for spec in core.list_methods() if spec.family == "library"}
    assert set(ALL) <= ids
    assert all(core.get_method(i).label.split()[0] in ("OpenCV", "PyTorch", "Pillow", "scikit-image", "TensorFlow",
                                                        "MATLAB") for i in ALL)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(OPENCV)), dtype=st.sampled_from([np.uint8, np.uint16, np.float32]),
       channels=st.sampled_from([1, 3, 4]), h=st.integers(1, 20), w=st.integers(1, 20),
       scale=st.sampled_from([1.5, 2.0, 2.5, 3.0, 4.0]), seed=st.integers(0, 1000))
def test_opencv_conventions_are_cv2_resize(name, dtype, channels, h, w, scale, seed) -> None:
    import cv2

    image = image_of(dtype, (h, w), channels, seed)
    ours = core.upsample(image, f"opencv:{name}", scale=scale)
    size = (int(h * scale + 0.5), int(w * scale + 0.5))
    theirs = cv2.resize(image, (size[1], size[0]), interpolation=getattr(cv2, OPENCV[name])).reshape(ours.shape)
    assert ours.dtype == image.dtype and np.array_equal(ours, theirs)


@pytest.mark.parametrize("name", sorted(TORCH))
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_torch_conventions_are_interpolate(name: str, dtype: type) -> None:
    torch = pytest.importorskip("torch")
    image = image_of(dtype, (9, 13), 3, 1)
    ours = core.upsample(image, f"torch:{name}", scale=2.5)
    mode, options = TORCH[name]
    tensor = torch.from_numpy(image.astype(np.float32)).permute(2, 0, 1)[None]
    theirs = torch.nn.functional.interpolate(tensor, size=ours.shape[:2], mode=mode, **options)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(ours, rounded(theirs, dtype))


@pytest.mark.parametrize("name", sorted(PILLOW))
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_pillow_conventions_are_image_resize(name: str, channels: int) -> None:
    image = image_of(np.uint8, (9, 13), channels, 2)
    ours = core.upsample(image, f"pillow:{name}", scale=2.5)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    picture = Image.fromarray(image[:, :, 0] if channels == 1 else image, mode=mode)
    theirs = np.asarray(picture.resize((ours.shape[1], ours.shape[0]), getattr(Image.Resampling, PILLOW[name])))
    assert np.array_equal(ours.reshape(theirs.shape), theirs)
    # 16-bit images go through Pillow's 32-bit float mode, one channel at a time.
    deep = image_of(np.uint16, (9, 13), 1, 3)
    plane = Image.fromarray(deep[:, :, 0].astype(np.float32), mode="F")
    expected = np.asarray(plane.resize((ours.shape[1], ours.shape[0]), getattr(Image.Resampling, PILLOW[name])))
    assert np.array_equal(core.upsample(deep, f"pillow:{name}", scale=2.5)[:, :, 0], rounded(expected, np.uint16))


@pytest.mark.parametrize("order", range(4))
def test_skimage_conventions_are_transform_resize(order: int) -> None:
    transform = pytest.importorskip("skimage.transform")
    image = image_of(np.uint8, (9, 13), 3, 4)
    ours = core.upsample(image, f"skimage:order{order}", scale=2.5)
    theirs = transform.resize(image.astype(np.float64), ours.shape, order=order, preserve_range=True, anti_aliasing=False)
    assert np.array_equal(ours, rounded(theirs.astype(np.float32), np.uint8))


def test_tensorflow_conventions_match_their_worked_examples() -> None:
    square = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    # Half-pixel: src = (dst + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; below 0 held at 0.
    half = core.upsample(square, "tf:bilinear-half-pixel", scale=2)
    np.testing.assert_allclose(half[0], [1.0, 1.25, 1.75, 2.0])
    np.testing.assert_allclose(half[:, 0], [1.0, 1.5, 2.5, 3.0])
    # Legacy: src = dst / 2 = 0, 0.5, 1, 1.5; the last reads min(ceil, in - 1) = 1.
    legacy = core.upsample(square, "tf:bilinear-legacy", scale=2)
    np.testing.assert_allclose(legacy[0], [1.0, 1.5, 2.0, 2.0])
    np.testing.assert_allclose(legacy[3], [3.0, 3.5, 4.0, 4.0])
    three = np.arange(9, dtype=np.float32).reshape(3, 3)
    nearest = core.upsample(three, "tf:nearest-legacy", size=(4, 4))
    np.testing.assert_array_equal(nearest[0], [0, 0, 1, 2])  # floor(dst * 3 / 4)


def _keys(x: float, a: float = -0.5) -> float:
    x = abs(x)
    if x <= 1:
        return (a + 2) * x**3 - (a + 3) * x**2 + 1
    if x < 2:
        return a * x**3 - 5 * a * x**2 + 8 * a * x - 4 * a
    return 0.0


def test_matlab_bicubic_matches_imresize_written_out() -> None:
    ramp = np.array([[0.0, 10.0, 20.0, 30.0]], np.float32)
    out = core.upsample(ramp, "matlab:bicubic", size=(1, 8))[0]
    # imresize: u = x / 2 + 0.25 (1-based); mirrored edges, [1 .. n, n .. 1].
    mirrored = [0.0, 10.0, 20.0, 30.0, 30.0, 20.0, 10.0, 0.0]
    expected = []
    for x in range(1, 9):
        u = x / 2 + 0.25
        left = int(np.floor(u - 2))
        taps = [(j, _keys(u - j)) for j in range(left, left + 6)]
        total = sum(w for _, w in taps)
        expected.append(sum(w * mirrored[(j - 1) % 8] for j, w in taps) / total)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # Away from the mirrored edges a ramp stays a ramp (cubic convolution keeps straight lines).
    np.testing.assert_allclose(out[3:5], [12.5, 17.5], atol=1e-5)
    # 8-bit results are rounded half away from zero, as MATLAB's uint8 conversion does.
    ties = core.upsample(np.array([[0, 1]], np.uint8), "matlab:bicubic", size=(1, 4))
    assert ties.dtype == np.uint8


def test_a_missing_library_is_named_with_how_to_install_it(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def without_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_torch)
    with pytest.raises(core.ParameterError, match="needs PyTorch, which is not installed"):
        core.upsample(np.zeros((4, 4), np.uint8), "torch:bilinear", scale=2)


def test_each_pair_says_why_it_differs() -> None:
    assert "drops a source pixel now and then" in why_they_differ("opencv:area", "pillow:box")
    assert "4 lobes" in why_they_differ("opencv:lanczos4", "pillow:lanczos")
    assert "align_corners=True" in why_they_differ("torch:bilinear", "torch:bilinear-aligned")
    assert "top-left corner" in why_they_differ("torch:nearest", "torch:nearest-exact")
    assert "B-spline" in why_they_differ("opencv:cubic", "skimage:order3")
    text = why_they_differ("pillow:bilinear", "tf:bilinear-half-pixel")
    assert "Pillow BILINEAR" in text and "TensorFlow bilinear (half-pixel)" in text


def test_two_methods_side_by_side_show_where_and_why_they_differ() -> None:
    image = image_of(np.uint8, (20, 24), 3, 5)
    pair = core.compare_pair(image, "torch:nearest", "torch:nearest-exact", scale=3.5) if _has_torch() else \
        core.compare_pair(image, "opencv:nearest", "opencv:nearest-exact", scale=3.5)
    a = core.upsample(image, pair.first_id, scale=3.5)
    b = core.upsample(image, pair.second_id, scale=3.5)
    differs = np.any(a != b, axis=2)
    assert pair.differing == int(differs.sum()) > 0 and pair.share == pytest.approx(differs.mean())
    assert pair.difference.shape == a.shape[:2]
    np.testing.assert_allclose(pair.difference, np.abs(a.astype(float) - b.astype(float)).mean(axis=2), atol=1e-4)
    assert "top-left corner" in pair.why
    same = core.compare_pair(image, "opencv:nearest", "nearest", scale=2)
    assert same.differing == 0 and same.largest == 0.0


def _has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def test_one_name_two_rules_is_said_as_two_rules() -> None:
    text = why_they_differ("opencv:nearest", "pillow:nearest")
    assert "same named" not in text and "pixel centres" in text and "floor(dst * in/out)" in text
    assert "(s - 1)/2 output pixels" in why_they_differ("tf:bilinear-half-pixel", "tf:bilinear-legacy")
