"""What the analysis views show, without Qt: the two panels compared by swipe or blink,
where the divider is and which image shows; the channel view and exposure applied to
every panel; what the histogram dock counts. The widgets draw these; tests read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import core

CompareMode = Literal["off", "swipe", "blink"]
Orientation = Literal["vertical", "horizontal"]
#: Blink rates a person may set, in changes of image per second.
BLINK_RATES = (0.25, 20.0)
DEFAULT_BLINK_HZ = 2.0


@dataclass
class CompareModel:
    """Two panels (``key_a``, ``key_b``: panel keys of the grid) shown in one view.

    In ``"swipe"`` mode image A shows before the divider and B after it: left and right
    of a ``"vertical"`` divider at image column ``divider * width``, above and below a
    ``"horizontal"`` one at row ``divider * height``. In ``"blink"`` mode the whole view
    shows A or B (``showing``), alternating ``blink_hz`` times a second.
    """

    mode: CompareMode = "off"
    key_a: str = ""
    key_b: str = ""
    orientation: Orientation = "vertical"
    divider: float = 0.5
    blink_hz: float = DEFAULT_BLINK_HZ
    showing: Literal["a", "b"] = "a"

    def set_divider(self, fraction: float) -> None:
        """Put the divider at ``fraction`` of the image's width (or height), clipped to [0, 1]."""
        self.divider = min(max(float(fraction), 0.0), 1.0) if math.isfinite(fraction) else 0.5

    def set_blink_hz(self, hz: float) -> None:
        """Set the blink rate, clipped to `BLINK_RATES`."""
        self.blink_hz = min(max(float(hz), BLINK_RATES[0]), BLINK_RATES[1])

    @property
    def blink_interval_ms(self) -> int:
        """Milliseconds each image stays up while blinking."""
        return max(int(round(1000.0 / self.blink_hz)), 1)

    def flip(self) -> None:
        """Blink once: show the other image."""
        self.showing = "b" if self.showing == "a" else "a"

    @property
    def shown_key(self) -> str:
        """The panel a blink shows now."""
        return self.key_a if self.showing == "a" else self.key_b

    def divider_at(self, width: int, height: int) -> float:
        """The divider's place in image units: a column (vertical) or a row (horizontal)."""
        return self.divider * (width if self.orientation == "vertical" else height)

    def key_at(self, x: float, y: float, width: int, height: int) -> str:
        """The panel whose image shows at image point ``(x, y)`` of a ``width x height``
        image (the point's pixel is compared, so a whole pixel shows one image)."""
        if self.mode == "blink":
            return self.shown_key
        position = self.divider_at(width, height)
        along = math.floor(x) + 0.5 if self.orientation == "vertical" else math.floor(y) + 0.5
        return self.key_a if along < position else self.key_b

    def choose(self, keys: list[str], reference: str) -> None:
        """Keep the chosen pair when both are among ``keys``; else default to the
        reference (when present) and the first other panel."""
        if self.key_a in keys and self.key_b in keys and self.key_a != self.key_b:
            return
        others = [key for key in keys if key != reference]
        self.key_a = reference if reference in keys else (others[0] if others else "")
        rest = [key for key in keys if key != self.key_a]
        self.key_b = rest[0] if rest else self.key_a


@dataclass(frozen=True)
class DisplayAdjustment:
    """How every panel's picture is made from its values (display only): one channel
    (`core.CHANNEL_VIEWS`) and ``value * 2^exposure + offset`` (`core.adjusted_display`)."""

    channel: core.ChannelView = "rgb"
    exposure: float = 0.0
    offset: float = 0.0

    @property
    def is_plain(self) -> bool:
        """Whether the pictures are the plain 8-bit copies (nothing to compute)."""
        return self.channel == "rgb" and self.exposure == 0 and self.offset == 0


HistogramSource = Literal["cursor", "all"]


@dataclass
class HistogramModel:
    """What the histogram dock counts: the panel under the cursor (``source`` "cursor",
    or one panel chosen by key), or all panels overlaid ("all"); in ``channel`` ("all":
    each channel of one panel; or "R", "G", "B", "A", "L", "luma"); with counts on a log
    scale or not. ``histograms`` holds each panel's counts as they arrive (by key), and
    ``shown`` what the plot draws: ``(label, key, channel, counts)`` per curve."""

    source: str = "cursor"
    channel: str = "all"
    log_counts: bool = False
    hovered_key: str = ""
    histograms: dict[str, core.Histogram] | None = None
    shown: list[tuple[str, str, str, core.Histogram]] | None = None

    def keys_wanted(self, keys: list[str]) -> list[str]:
        """The panels whose histograms the dock shows now, among ``keys``."""
        if self.source == "all":
            return list(keys)
        key = self.hovered_key if self.source == "cursor" else self.source
        return [key] if key in keys else ([keys[0]] if keys and self.source == "cursor" else [])

    def curves(self, keys: list[str], labels: dict[str, str]) -> list[tuple[str, str, str, core.Histogram]]:
        """The curves to draw: ``(label, panel key, channel name, histogram)``. One
        panel: each of its channels (or the chosen one); all panels: each panel's chosen
        channel, luma (or grey) when "all" channels are asked for."""
        held = self.histograms or {}
        wanted = [key for key in self.keys_wanted(keys) if key in held]
        curves = []
        for key in wanted:
            hist = held[key]
            if self.channel == "all" and len(wanted) == 1:
                names = [name for name in hist.channels if name != "luma"]
            elif self.channel == "all":
                names = ["luma" if "luma" in hist.channels else "L"]
            else:
                names = [self.channel if self.channel in hist.channels else ("L" if "L" in hist.channels else "luma")]
            for name in names:
                curves.append((labels.get(key, key), key, name, hist))
        return curves
