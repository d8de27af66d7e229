"""Size limits that keep a bad file or a bad scale from exhausting memory.

Both limits are module-level settings so a notebook can raise them::

    import core
    core.limits.max_input_pixels = 400_000_000
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """Pixel-count ceilings (height x width, channels not counted).

    Attributes
    ----------
    max_input_pixels:
        Images larger than this are refused from their header, before decoding, which
        stops decompression bombs. Default 100 megapixels.
    max_output_pixels:
        Upsampled results larger than this are refused before any memory is allocated.
        Default 256 megapixels (16384 x 16384).
    """

    max_input_pixels: int = 100_000_000
    max_output_pixels: int = 256 * 1024 * 1024


limits = Limits()
