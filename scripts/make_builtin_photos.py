"""Write the photographs of ``builtin:photos`` into resources/datasets/photos.

They are scikit-image's sample images that the shipped models never saw in training, saved
as 8-bit PNG exactly as Upscope reads them (the boolean horse as 0 and 255), so the dataset
is fixed: it needs no scikit-image at run time and does not change with its releases.
Their sources and licences are in resources/datasets/README.md.

    python3 -m pip install scikit-image
    python3 scripts/make_builtin_photos.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import skimage.data

from core.report.evaluation.datasets import BUILTIN_PHOTOS

FOLDER = Path(__file__).resolve().parents[1] / "resources" / "datasets" / "photos"


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    for name in BUILTIN_PHOTOS:
        pixels = getattr(skimage.data, name)()
        if pixels.dtype == bool:
            pixels = pixels.astype(np.uint8) * 255
        if pixels.ndim == 3:
            pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".png", pixels, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if not ok:
            raise SystemExit(f"{name}: cannot encode as PNG")
        (FOLDER / f"{name}.png").write_bytes(encoded.tobytes())
        print(f"{name}: {pixels.shape}, {len(encoded)} bytes")


if __name__ == "__main__":
    main()
