"""The Help menu: keyboard shortcuts, how to read the window, and versions.

Main thread only. Nothing here computes or imports a backend: the About page reads the
backend that the Compute menu has already probed off the GUI thread.
"""

from __future__ import annotations

import html
import platform
from importlib import metadata
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6 import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from ._compute_menu import ComputeMenu

#: Each key of the window and what it does, in the order the Shortcuts page lists them.
SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("F", "Fit the image in every panel"),
    ("1", "One image pixel per screen pixel"),
    ("+ / -", "Zoom in / out"),
    ("Arrows", "Pan"),
    ("D", "Difference maps on / off"),
    ("L", "Line profile tool: drag across any panel"),
    ("R", "Mark regions for the paper figure: drag on any panel"),
    ("Shift+F", "Spectrum view on / off: each panel's log-magnitude spectrum"),
    ("Ctrl+E", "Export the comparison as a PNG"),
    ("Ctrl+Shift+E", "Export the paper figure of the marked regions"),
    ("Ctrl+O", "Open images"),
    ("Ctrl+V", "Paste an image, or copied image files"),
    ("Ctrl+S", "Save the session (settings, regions, view)"),
    ("Double-click a panel", "Show that panel alone; double-click again to bring back the grid"),
)
#: The view keys act on the panels: they work once a panel has been clicked, so that the
#: same keys still type into the settings.
VIEW_KEYS_NOTE = "F, 1, +, - and the arrows act on the panels: click a panel first."

GUIDE_HTML = """
<h2>How to read this window</h2>
<h3>Panels</h3>
<p>The first panel shows what the methods start from. In <i>degrade, then restore</i> mode
it is the ground truth: the original image (cropped to a multiple of a whole-number
scale), which was shrunk with the chosen downsampler and given to every method to enlarge
back; it is also the reference the metrics measure against, unless a method is picked as
the reference. In <i>upscale</i> mode it is the original itself, drawn on the output grid so
that a point sits at the same place in every panel; there is no reference unless a method
is picked. Then comes one panel per ticked method, in the
method's colour. Its title gives the method, its time and, once measured, its PSNR and
SSIM. A method that cannot take the settings says why in its panel.</p>
<p>Every panel follows one shared view: the wheel zooms about the cursor, a drag pans.
Pixels are drawn as sharp squares; a grid appears from 8x and each pixel's value is
written inside it from 32x. <b>Double-click a panel</b> to show it alone, and double-click
again to bring back the grid (clicking a row of the metrics table does the same).</p>
<h3>The reference</h3>
<p>Metrics and difference maps measure each method against the reference. In degrade
mode that is the ground truth, unless Settings &gt; Reference names a method: then
everything is measured against that method's result, and the settings say so. Upscale
mode has no ground truth: there are no metrics until you pick a method as the
reference. Each mode keeps its own choice.</p>
<h3>Difference maps</h3>
<p>With difference maps on (D), each method panel shows its difference from the
reference: <i>abs</i>, <i>signed</i> or <i>squared</i>, averaged over channels and
multiplied by the gain. The colour bar under the grid is in image units; the pixel
inspector and the values written in pixels show the unscaled differences.</p>
<h3>Pixel inspector</h3>
<p>The pixel under the cursor, the input pixel it came from, the reference's value, and
each method's value and error (method minus reference, per channel, in the image's
levels: 0-255 for 8-bit images, 0-65535 for 16-bit ones, 0-1 for floating-point ones).</p>
<h3>Metrics</h3>
<p>Time, PSNR, SSIM, mean absolute error (MAE) and max error of each method. The best
value of each column is bold and tinted; click a header to sort. On <i>All channels</i>,
errors are measured over every pixel and channel in the image's own levels. On the
<i>paper</i> convention, as super-resolution papers report them, they are measured on
BT.601 luma in the 0-1 range with a border of ceil(scale) pixels shaved off; the column
headers name the unit in use.</p>
<h3>Line profile</h3>
<p>Turn on the line tool (L) and drag across any panel; drag an end to move it. The plot
shows the intensity along the line, one sample per pixel with no interpolation: one curve
per method in its panel's colour, the reference dashed. Untick a curve in the list under
the plot to hide it (max unpooling's spikes can dwarf the others); it stays hidden when
the line moves.</p>
<h3>Regions</h3>
<p>Mark one or two regions (R, then drag on any panel) to build the paper figure: File
&gt; Export paper figure (Ctrl+Shift+E) shows each region enlarged for every method, with
its PSNR and SSIM.</p>
<h3>Where the numbers come from</h3>
<p>Every pixel and every number is computed by Upscope's core library, off the window's
thread, on the compute backend chosen in the Compute menu (NumPy and OpenCV on the CPU,
OpenCL or PyTorch). PSNR is 10&nbsp;log10(R&sup2;&nbsp;/&nbsp;MSE) with R = 255, 65535 or 1
by the image's type (1 on the paper convention); SSIM is that of Wang et al. (2004) with
an 11x11 Gaussian window of sigma 1.5, matching scikit-image. The time is that of the
method alone, measured around its computation, metrics not included.</p>
"""


def rich_tooltip(text: str, title: str | None = None) -> str:
    """``text`` (plain, escaped here) as rich text, which Qt wraps instead of showing one
    long line; ``title`` (plain) goes first in bold."""
    body = html.escape(text).replace("\n", "<br>")
    head = f"<b>{html.escape(title)}</b><br>" if title else ""
    return f"<p>{head}{body}</p>"


def shortcuts_html() -> str:
    """The Shortcuts page: a two-column table of keys and what they do."""
    rows = "".join(
        f"<tr><td style='padding-right:16px'><b>{html.escape(key)}</b></td><td>{html.escape(what)}</td></tr>"
        for key, what in SHORTCUTS
    )
    return f"<h2>Keyboard shortcuts</h2><table>{rows}</table><p>{html.escape(VIEW_KEYS_NOTE)}</p>"


def versions(backend_summary: str | None) -> list[tuple[str, str]]:
    """``(component, version)`` of Upscope and everything it runs on; ``backend_summary``
    is the compute backend's one-line description, None while it is still being checked."""
    try:
        upscope = metadata.version("upscope")
    except metadata.PackageNotFoundError:
        upscope = "unknown (not installed as a package)"
    return [
        ("Upscope", upscope),
        ("Compute backend", backend_summary or "still being checked (see the status bar)"),
        ("Qt", QtCore.qVersion()),
        ("PySide6", PySide6.__version__),
        ("OpenCV", cv2.__version__),
        ("NumPy", np.__version__),
        ("pyqtgraph", pg.__version__),
        ("Python", platform.python_version()),
    ]


def about_html(backend_summary: str | None) -> str:
    """The About page: what Upscope is and the versions of `versions`."""
    rows = "".join(
        f"<tr><td style='padding-right:16px'>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>"
        for name, value in versions(backend_summary)
    )
    return (
        "<h2>About Upscope</h2>"
        "<p>Upscope shows what an upsampling method does to an image: side by side, "
        "pixel-exact, measured.</p>"
        f"<table>{rows}</table>"
    )


class HelpPage(QtWidgets.QDialog):
    """A non-modal window showing one page of rich text."""

    def __init__(self, title: str, page_html: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setOpenExternalLinks(False)
        self.browser.setHtml(page_html)
        close = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(close)
        self.resize(560, 520)

    def set_page(self, page_html: str) -> None:
        self.browser.setHtml(page_html)

    def text(self) -> str:
        """The page as plain text (what a reader sees)."""
        return self.browser.toPlainText()


class HelpMenu(QtCore.QObject):
    """The "Help" menu. ``compute`` (the window's Compute menu) supplies the backend in
    use for the About page; None shows none."""

    def __init__(self, window: QtWidgets.QWidget, compute: ComputeMenu | None = None) -> None:
        super().__init__(window)
        self.window, self.compute = window, compute
        self.menu = QtWidgets.QMenu("&Help", window)
        self.shortcuts_action = self.menu.addAction("&Keyboard shortcuts")
        self.guide_action = self.menu.addAction("&How to read this window")
        self.menu.addSeparator()
        self.about_action = self.menu.addAction("&About Upscope")
        self.about_action.setMenuRole(QtGui.QAction.MenuRole.AboutRole)
        self.pages: dict[str, HelpPage] = {}
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.guide_action.triggered.connect(self.show_guide)
        self.about_action.triggered.connect(self.show_about)
        if compute is not None:
            compute.changed.connect(self._on_backend_changed)

    def backend_summary(self) -> str | None:
        state = self.compute.state if self.compute is not None else None
        return state.current.summary() if state is not None else None

    def show_shortcuts(self) -> HelpPage:
        return self._show("shortcuts", "Keyboard shortcuts", shortcuts_html())

    def show_guide(self) -> HelpPage:
        return self._show("guide", "How to read this window", GUIDE_HTML)

    def show_about(self) -> HelpPage:
        return self._show("about", "About Upscope", about_html(self.backend_summary()))

    def _show(self, key: str, title: str, page_html: str) -> HelpPage:
        page = self.pages.get(key)
        if page is None:
            page = self.pages[key] = HelpPage(title, page_html, self.window)
        else:
            page.set_page(page_html)
        page.show()
        page.raise_()
        return page

    def _on_backend_changed(self, _state: object) -> None:
        page = self.pages.get("about")
        if page is not None and page.isVisible():
            page.set_page(about_html(self.backend_summary()))
