"""Limits that keep a bad file or a bad scale from exhausting memory, and the largest
scale a comparison takes.

They are module-level settings so a notebook can raise them::

    import core
    core.limits.max_input_pixels = 400_000_000
    core.limits.max_scale = 32
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """Pixel-count ceilings (height x width, channels not counted) and the scale ceiling
of comparisons.

    Attributes
    ----------
    max_input_pixels:
        Images larger than this are refused from their header, before decoding, which
        stops decompression bombs. Default 100 megapixels.
    max_output_pixels:
        Upsampled results larger than this are refused before any memory is allocated.
        Default 256 megapixels (16384 x 16384).
    max_scale:
        The largest scale (on either axis) of a comparison: `ComparisonSettings` checked
        by `Comparison`, the command line's ``--scale`` and the window's scale boxes all
        refuse more, with one message. Beyond x16 a degrade-mode input is a few pixels
        wide and every method's result is mostly its kernel's shape. A single
        `core.upsample` call is not a comparison: it takes any scale whose output fits
        ``max_output_pixels``. Default 16.
    plugin_seconds:
        How long a method from a plugin (a user's Python function) may run on one image
        before it is reported as hung in its own panel; the comparison goes on without
        it. Default 300.
    max_model_bytes:
        Model files larger than this are refused before they are read. Default 8 GiB.
    """

    max_input_pixels: int = 100_000_000
    max_output_pixels: int = 256 * 1024 * 1024
    max_scale: float = 16.0
    plugin_seconds: float = 300.0
    max_model_bytes: int = 8 * 2**30


limits = Limits()
