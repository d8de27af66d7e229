"""The images of a dataset evaluation: a folder, a list file, or a built-in set.

A dataset is named on the command line as a folder (its image files, sorted by name), a
text file listing image paths (one per line, relative to the file; blank lines and lines
starting with ``#`` skipped; each image named by its line, so two files of one name in
different folders stay apart), or ``builtin:NAME``. Files that are not images are listed
with the reason and skipped; each image is identified by its SHA-256, so a changed file
invalidates only its own rows of a store.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from core.common.errors import ParameterError
from core.io.read import load_image

#: The file suffixes a dataset folder's images have.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class DatasetImage:
    """One image of a dataset: its ``name`` (the file name in a folder, the path as a list
    file gives it, or the built-in image's name), where it is (``path``, None for an image
    sent as bytes) and how to read it."""

    dataset: str
    name: str
    path: Path | None
    read: Callable[[], np.ndarray] = field(repr=False, compare=False)
    #: Where the image can be found again (`source`), when it is not its path.
    origin: str | None = None

    @property
    def source(self) -> str:
        """Where the image can be found again: its file's absolute path, or
        ``builtin:photos/NAME``."""
        if self.origin is not None:
            return self.origin
        return str(self.path.resolve()) if self.path is not None else f"{BUILTIN_PREFIX}{self.dataset}/{self.name}"

    def sha256(self) -> str:
        """The SHA-256 of the file's bytes (of the pixels, for an image without a file)."""
        if self.path is not None:
            digest = hashlib.sha256()
            with self.path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            return digest.hexdigest()
        pixels = self.read()
        return hashlib.sha256(repr((pixels.shape, pixels.dtype.str)).encode() + pixels.tobytes()).hexdigest()


@dataclass(frozen=True)
class Dataset:
    """A dataset's ``name``, its ``images`` in order, and the entries ``skipped`` with why."""

    name: str
    images: tuple[DatasetImage, ...]
    skipped: tuple[tuple[str, str], ...] = ()


def open_dataset(spec: str | os.PathLike) -> Dataset:
    """The dataset ``spec`` names: a folder, a list file or ``builtin:NAME``. Raises
    `ParameterError` naming ``spec`` for one that does not exist, an unknown built-in set
    or a dataset without a single image."""
    text = os.fspath(spec)
    if text.startswith(BUILTIN_PREFIX):
        return _builtin(text[len(BUILTIN_PREFIX):])
    path = Path(text)
    if path.is_dir():
        entries = [(p, p.name) for p in sorted(path.iterdir()) if not p.name.startswith(".")]
        name = path.resolve().name
    elif path.is_file():
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise ParameterError(f"{text}: an image, not a dataset; give the folder it is in, or a text file "
                                 "listing the images to evaluate")
        entries = _listed(path)
        name = path.stem
    else:
        raise ParameterError(f"{text}: no such folder or list file")
    images: list[DatasetImage] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry, image_name in entries:
        reason = _not_an_image(entry)
        if reason is None and image_name in seen:
            reason = "listed twice"
        if reason is None:
            seen.add(image_name)
            images.append(DatasetImage(name, image_name, entry, functools.partial(load_image, entry)))
        else:
            skipped.append((str(entry), reason))
    if not images:
        reasons = collections.Counter(why for _entry, why in skipped)
        found = (f" ({len(skipped)} entries: " + ", ".join(f"{count} {why}" for why, count in reasons.items()) + ")"
                 if skipped else " (it is empty)")
        raise ParameterError(f"{text}: the dataset holds no image files{found}; images are {', '.join(IMAGE_SUFFIXES)}")
    return Dataset(name, tuple(images), tuple(skipped))


def _listed(path: Path) -> list[tuple[Path, str]]:
    """The images a list file names, each with its name in the dataset: the path as the
    line gives it (two files of one name in different folders stay two images)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path}: cannot read this list of images ({exc})") from None
    entries = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append((path.parent / line, Path(line).as_posix()))
    return entries


def _not_an_image(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if path.is_dir():
        return "a folder"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image file ({path.suffix or 'no suffix'})"
    return None


# Built-in datasets ----------------------------------------------------------------------------

#: scikit-image's sample images that the shipped models never saw in training
#: (training/data.py trains on astronaut, chelsea, rocket, camera, moon, stereo_motorcycle),
#: shipped as PNG in resources/datasets/photos with their licences beside them.
BUILTIN_PHOTOS = ("coffee", "coins", "clock", "brick", "grass", "gravel", "text", "immunohistochemistry", "horse")


def builtin_names() -> tuple[str, ...]:
    """The built-in datasets, as ``builtin:NAME`` takes them."""
    return ("photos",)


def _builtin(name: str) -> Dataset:
    if name != "photos":
        raise ParameterError(f"builtin:{name}: no such built-in dataset; there is builtin:photos")
    folder = Path(str(resources.files("resources") / "datasets" / "photos"))
    images = []
    for photo in BUILTIN_PHOTOS:
        path = folder / f"{photo}.png"
        if not path.is_file():
            raise ParameterError(f"builtin:photos: {path} is missing from this installation; reinstall Upscope")
        images.append(DatasetImage("photos", photo, path, functools.partial(load_image, path),
                                   f"{BUILTIN_PREFIX}photos/{photo}"))
    return Dataset("photos", tuple(images))


def with_bytes(image: DatasetImage) -> DatasetImage:
    """``image`` carrying its file's bytes, for workers that cannot read the path (a
    cluster without a shared file system); an image without a file is returned as it is."""
    if image.path is None:
        return image
    data = image.path.read_bytes()
    return DatasetImage(image.dataset, image.name, None, functools.partial(_decoded, image.path.suffix, data),
                        image.source)


def _decoded(suffix: str, data: bytes) -> np.ndarray:
    """An image file's bytes read as `core.load_image` reads the file (every check kept)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="upscope-") as folder:
        path = Path(folder) / f"image{suffix}"
        path.write_bytes(data)
        return load_image(path)


def read_source(source: str) -> np.ndarray:
    """The image a row's ``source`` names (`DatasetImage.source`)."""
    if source.startswith(BUILTIN_PREFIX):
        dataset, _, name = source[len(BUILTIN_PREFIX):].partition("/")
        image = next((i for i in _builtin(dataset).images if i.name == name), None)
        if image is None:
            raise ParameterError(f"{source}: no such built-in image")
        return image.read()
    return load_image(source)
