"""Lessons: short guided comparisons, each a chart compared with chosen settings plus a
page of the project's own text in the Lesson dock, pointing at what to look at.

The pages live in ``resources/lessons/<id>.md``. Opening a lesson shows its settings in
the Settings dock, opens its chart, turns on the views it names (difference maps, the
spectrum view) and shows its page. Main thread only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources

import core


@dataclass(frozen=True)
class Lesson:
    """One lesson: its ``id`` (the page's file name), menu title, the chart compared, the
    comparison's settings, and the views turned on."""

    id: str
    title: str
    chart: str
    settings: core.ComparisonSettings
    difference_maps: bool = False
    spectrum: bool = False

    def page(self) -> str:
        """The lesson's page, Markdown."""
        return (resources.files("resources") / "lessons" / f"{self.id}.md").read_text(encoding="utf-8")


def _settings(scale: float, methods: tuple[str | core.MethodChoice, ...], downsampler: str | None = None
              ) -> core.ComparisonSettings:
    settings = core.ComparisonSettings(mode="degrade", scale=scale, methods=methods)
    return settings if downsampler is None else replace(settings, downsampler=downsampler)


LESSONS = (
    Lesson("align-corners", "align_corners: two bilinears", "test-chart",
           _settings(4, ("bilinear", "bilinear-aligned")), difference_maps=True),
    Lesson("nearest-exact", "Nearest and nearest-exact at x3.5", "test-chart",
           _settings(3.5, ("nearest", "nearest-exact"))),
    Lesson("checkerboard", "Why transposed convolution makes checkerboards", "test-chart",
           _settings(2, (core.MethodChoice("transposed-conv", {"kernel": "box", "kernel_size": 3}), "resize-conv",
                         "bilinear")), spectrum=True),
    Lesson("unpooling", "Unpooling remembers where the maximum was", "test-chart",
           _settings(2, ("max-unpool", "avg-unpool", "repeat"), downsampler="max-pool")),
    Lesson("lanczos-rings", "Lanczos rings", "slanted-edge", _settings(4, ("lanczos4", "bicubic", "bilinear")),
           difference_maps=True),
    Lesson("learned", "What a learned upsampler adds", "fine-text", _settings(2, ("bicubic", "espcn", "fsrcnn"))),
)
