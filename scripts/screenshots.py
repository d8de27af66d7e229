"""Take the README's screenshots of the real window (run under a display, e.g. Xvfb).

    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/ [--only-backend]

Starts the app as `app.py` does, drives it like a user (chart, zoom, difference maps,
regions) and grabs the whole screen after each step; then exports one figure of each kind
the File menu makes (comparison PNG, current view with differences and metrics, paper
figure) into the same folder. Last, it picks the OpenCL backend from the Compute menu
(set ``OPENCV_OPENCL_DEVICE=":CPU:"`` where the only device is POCL) and shows the menu
and the status bar; ``--only-backend`` takes just that shot. ``--only-learned`` shows
bicubic against the learned upsamplers on a held-out photograph. ``--only-screen`` shows the
window as a newcomer meets it on the current screen (first-run size, maximised with every
method, shrunk to 1000x640); run it under a window manager, e.g.::

    xvfb-run -s "-screen 0 1366x768x24" sh -c 'openbox & sleep 1; python3 scripts/screenshots.py docs/ --only-screen'

``--only-own`` (needs PyTorch and onnxruntime) trains a small ESPCN-like network for a few
seconds, exports it to ONNX, and shows it and a result image made by Pillow next to
Upscope's methods, both added through the window's File menu code; the file is named after
the screen, e.g. ``viewer-own-methods-1366x768.png``.

``--only-swipe`` (run under a window manager too) swipes between the ground truth and
bicubic on a photograph at x4, zoomed in, then shows the histogram dock with every panel
overlaid; files are named after the screen, e.g. ``viewer-swipe-1366x768.png``.

``--only-analysis`` shows a photograph restored at x4 by nearest, bilinear, bicubic and a
transposed convolution with a box kernel of size 5 in the spectrum view, with the Radial
power dock in front (run under a window manager, as ``--only-screen``); the file is named
after the screen, e.g. ``viewer-spectrum-1366x768.png``.

``--only-evaluation`` evaluates builtin:photos at x2 and x4 with five methods and opens it
with File > Open evaluation... (run under a window manager); the file is named after the
screen, e.g. ``viewer-evaluation-1366x768.png``.

``--only-teach`` opens the lesson on checkerboards, explains a pixel of the transposed
convolution and opens the Conventions lab on OpenCV's Lanczos-4 against Pillow's 3-lobed Lanczos (run
under a window manager); the file is named after the screen, e.g. ``viewer-teach-1366x768.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6 import QtCore, QtWidgets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gui import MainWindow


def main(out: Path, only_backend: bool = False, only_learned: bool = False, only_screen: bool = False,
         only_own: bool = False, only_swipe: bool = False, only_analysis: bool = False, only_teach: bool = False,
         only_evaluation: bool = False) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication(sys.argv[:1])
    store = QtCore.QSettings(str(Path(tempfile.mkdtemp()) / "upscope.ini"), QtCore.QSettings.Format.IniFormat)
    window = MainWindow(store)
    if not (only_screen or only_swipe or only_analysis or only_teach or only_evaluation):
        window.setGeometry(0, 0, 1600, 1000)
    window.show()
    screen = app.primaryScreen()

    def settle(ms: int = 600) -> None:
        end = QtCore.QElapsedTimer()
        end.start()
        while end.elapsed() < ms:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def wait_for_results() -> None:
        done: list[int] = []
        window.comparison_finished.connect(done.append)
        timer = QtCore.QElapsedTimer()
        timer.start()
        while not done and timer.elapsed() < 30000:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        window.comparison_finished.disconnect(done.append)
        settle()

    def shoot(name: str) -> None:
        screen.grabWindow(0).save(str(out / name))
        print("wrote", out / name)

    if only_screen:
        return screen_shots(window, app, settle, wait_for_results, shoot)
    if only_swipe:
        return swipe_shots(window, app, settle, wait_for_results, shoot)
    if only_own:
        return own_methods_shot(window, app, settle, wait_for_results, shoot)
    if only_analysis:
        return analysis_shot(window, app, settle, wait_for_results, shoot)
    if only_teach:
        return teach_shot(window, app, settle, wait_for_results, shoot)
    if only_evaluation:
        return evaluation_shot(window, app, settle, wait_for_results, shoot)
    if only_learned:
        return learned_shot(window, settle, wait_for_results, shoot)
    if only_backend:
        window.open_chart("test-chart")
        wait_for_results()
        return backend_shot(window, settle, wait_for_results, shoot)
    window.open_chart("test-chart")
    wait_for_results()
    shoot("viewer-chart.png")

    # Zoom into the slanted edge, where every pixel's value is written.
    window.grid.look_at(131.0, 380.0, 40.0)
    window.grid.set_line((127.0, 378.5), (135.0, 378.5))
    window.grid._on_hover(130.5, 378.5)
    settle()
    shoot("viewer-zoomed-values.png")

    window.grid.fit()
    window.settings_panel.gain.setCurrentIndex(window.settings_panel.gain.findData(4))
    window.settings_panel.show_diff.setChecked(True)
    settle(2500)
    shoot("viewer-difference-maps.png")

    # Two regions for the paper figure, then the three kinds of export the File menu makes.
    import core
    from gui._exporter import ComparisonExportChoice

    window.settings_panel.show_diff.setChecked(False)
    window.grid.set_regions([core.Region(40, 40, 56, 40), core.Region(300, 330, 64, 40)])
    settle(1500)
    shoot("viewer-regions.png")
    exporter = window.exporter
    exports = [
        lambda: exporter.export_comparison(out / "export-comparison.png", ComparisonExportChoice()),
        lambda: exporter.export_paper(out / "export-paper-figure.png"),
    ]
    window.grid.look_at(131.0, 380.0, 24.0)
    settle()
    view = ComparisonExportChoice(current_view=True, include_diff=True, include_metrics=True, background="dark")
    exports.append(lambda: exporter.export_comparison(out / "export-view-differences-metrics.png", view))
    for export in exports:
        said: list[str] = []
        exporter.finished.connect(said.append)
        exporter.failed.connect(said.append)
        export()
        while not said:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        exporter.finished.disconnect(said.append)
        exporter.failed.disconnect(said.append)
        print(said[0])
    return backend_shot(window, settle, wait_for_results, shoot)


def screen_shots(window, app, settle, wait_for_results, shoot) -> int:
    """The window as a newcomer meets it on this screen (run under a window manager):
    its first-run size, then maximised with every method and difference maps, then shrunk
    to 1000x640. Files are named after the screen, e.g. ``viewer-1366x768.png``."""
    screen = app.primaryScreen().geometry()
    name = f"viewer-{screen.width()}x{screen.height()}"
    window.open_chart("test-chart")
    wait_for_results()
    print("first run:", window.frameGeometry().getRect(), "screen", screen.getRect())
    shoot(f"{name}.png")
    panel = window.settings_panel
    data = panel.to_dict()
    data["methods"] = [spec.id for spec in __import__("core").list_methods()]
    panel.from_dict(data)
    panel.show_diff.setChecked(True)
    window.recompute()
    window.showMaximized()
    wait_for_results()
    settle(1500)
    print("maximised:", window.frameGeometry().getRect())
    shoot(f"{name}-maximised-all-methods.png")
    window.showNormal()
    settle(500)
    window.resize(1000, 640)
    settle(1500)
    print("shrunk:", window.frameGeometry().getRect())
    shoot(f"{name}-shrunk-1000x640.png")
    window.close()
    return 0


def learned_shot(window, settle, wait_for_results, shoot) -> int:
    """Bicubic against the two learned upsamplers on a held-out photograph, zoomed in,
    with difference maps."""
    import skimage.data
    from PySide6 import QtCore as Core

    import core

    path = Path(tempfile.mkdtemp()) / "coffee.png"
    core.save_image(path, skimage.data.coffee())
    methods = window.settings_panel.methods
    wanted = {"bicubic", "espcn", "fsrcnn", "lanczos4"}
    for row in range(methods.count()):
        item = methods.item(row)
        checked = item.data(Core.Qt.ItemDataRole.UserRole) in wanted
        item.setCheckState(Core.Qt.CheckState.Checked if checked else Core.Qt.CheckState.Unchecked)
    window.open_paths([str(path)])
    wait_for_results()
    window.grid.look_at(300.0, 120.0, 4.0)
    settle(1500)
    shoot("viewer-learned.png")
    window.close()
    return 0


def swipe_shots(window, app, settle, wait_for_results, shoot) -> int:
    """Swipe between the ground truth and bicubic on a photograph at x4, zoomed in; then
    the histogram dock with every panel's luma overlaid, counts on a log scale (window maximised)."""
    import skimage.data

    import core

    screen = app.primaryScreen().geometry()
    size = f"{screen.width()}x{screen.height()}"
    window.showMaximized()
    path = Path(tempfile.mkdtemp()) / "astronaut.png"
    core.save_image(path, skimage.data.astronaut())
    window.open_paths([str(path)])
    wait_for_results()
    analysis = window.analysis
    analysis.set_pair("reference", "bicubic")
    analysis.set_mode("swipe")
    settle()
    window.grid.look_at(250.0, 110.0, 3.0)
    analysis.view.divider.setValue(250.0)
    window.grid.hover_at(262.5, 96.5)
    settle(1500)
    shoot(f"viewer-swipe-{size}.png")
    analysis.set_mode("off")
    window.grid.fit()
    dock = analysis.histogram_dock_widget
    analysis.histogram_dock.show()
    analysis.histogram_dock.raise_()
    dock.source.setCurrentIndex(dock.source.findData("all"))
    dock.log_counts.setChecked(True)  # the black background's spike would flatten the rest
    settle(2500)
    shoot(f"viewer-histogram-{size}.png")
    window.close()
    return 0


def trained_onnx_model(path: Path, scale: int = 4, steps: int = 300) -> Path:
    """A small RGB ESPCN-like network (a learned correction added to bicubic) trained for
    ``steps`` steps to restore photographs shrunk by ``scale`` the way the window shrinks
    them (`core.downsample`'s default), exported to ONNX at ``path``."""
    import warnings

    import numpy as np
    import skimage.data
    import torch

    import core

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Conv2d(3, 32, 5, padding=2), torch.nn.Tanh(), torch.nn.Conv2d(32, 32, 3, padding=1),
                torch.nn.Tanh(), torch.nn.Conv2d(32, 3 * scale * scale, 3, padding=1), torch.nn.PixelShuffle(scale),
            )
            torch.nn.init.zeros_(self.body[4].weight)
            torch.nn.init.zeros_(self.body[4].bias)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            smooth = torch.nn.functional.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
            return smooth + self.body(x)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    photos = [skimage.data.astronaut(), skimage.data.chelsea(), skimage.data.rocket()]
    network = Network()
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-3)
    side = 24 * scale
    for _ in range(steps):
        highs, lows = [], []
        for _ in range(16):
            photo = photos[rng.integers(len(photos))]
            y, x = rng.integers(0, photo.shape[0] - side), rng.integers(0, photo.shape[1] - side)
            high = photo[y : y + side, x : x + side].astype(np.float32) / 255.0
            highs.append(high)
            lows.append(core.downsample(high, scale)[0])
        high_t = torch.from_numpy(np.stack(highs)).permute(0, 3, 1, 2)
        low_t = torch.from_numpy(np.stack(lows)).permute(0, 3, 1, 2)
        loss = torch.nn.functional.l1_loss(network(low_t), high_t)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    print(f"trained the example network: L1 {loss.item():.4f}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            network.eval(), torch.zeros(1, 3, 16, 16), str(path), dynamo=False, input_names=["input"],
            output_names=["output"], dynamic_axes={"input": {2: "h", 3: "w"}, "output": {2: "h4", 3: "w4"}},
        )
    return path


def own_methods_shot(window, app, settle, wait_for_results, shoot) -> int:
    """A photograph restored by bicubic, Lanczos and the learned methods, next to a
    network of the user's own (an ONNX file) and a result image made by Pillow, both added
    as File > Add model... and File > Add result image... add them; zoomed in, with the
    model selected in the settings (its parameters shown)."""
    import numpy as np
    import skimage.data
    from PIL import Image
    from PySide6 import QtCore as Core

    import core

    folder = Path(tempfile.mkdtemp())
    model = trained_onnx_model(folder / "my_espcn_x4.onnx")
    photo = folder / "coffee.png"
    core.save_image(photo, skimage.data.coffee())
    screen = app.primaryScreen().geometry()
    panel = window.settings_panel
    panel.from_dict({**panel.to_dict(), "mode": "degrade", "scale": 4.0,
                     "methods": ["bicubic", "lanczos4", "espcn", "nearest"]})
    window.showMaximized()
    window.open_paths([str(photo)])
    wait_for_results()

    def added(start) -> list[str]:
        ids: list[str] = []
        window.own_methods.added.connect(ids.extend)
        start()
        timer = Core.QElapsedTimer()
        timer.start()
        while not ids and timer.elapsed() < 60000:
            app.processEvents(Core.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        window.own_methods.added.disconnect(ids.extend)
        wait_for_results()
        return ids

    (model_id,) = added(lambda: window.own_methods.add_model(model, "My ESPCN x4"))
    low = window.job.comparison.input
    height, width = window.job.comparison.output_size
    pillow = folder / "coffee_x4_pillow.png"
    Image.fromarray(np.asarray(low)).resize((width, height), Image.Resampling.BICUBIC).save(pillow)
    added(lambda: window.own_methods.add_result(pillow, "Pillow bicubic"))
    item = panel.method_item(model_id)
    panel.methods.setCurrentItem(item)
    window.message_bar.hide()
    window.grid.look_at(300.0, 130.0, 2.0)
    settle(2000)
    # Once the list is laid out at the window's size: the added methods at its bottom, and
    # the settings dock scrolled down to them and the model's parameters.
    last = panel.methods.item(panel.methods.count() - 1)
    panel.methods.scrollToItem(last, QtWidgets.QAbstractItemView.ScrollHint.PositionAtBottom)
    dock_scroll = panel.parentWidget().parentWidget()
    if isinstance(dock_scroll, QtWidgets.QScrollArea):
        dock_scroll.ensureWidgetVisible(panel.param_box, 0, 0)
    settle(300)
    shoot(f"viewer-own-methods-{screen.width()}x{screen.height()}.png")
    window.close()
    return 0


def teach_shot(window, app, settle, wait_for_results, shoot) -> int:
    """The checkerboard lesson with its page, Explain pixel on a transposed-convolution
    pixel and the Conventions lab, the window maximised on this screen."""
    screen = app.primaryScreen().geometry()
    window.showMaximized()
    settle(800)
    teaching = window.teaching
    teaching.open_lesson(next(lesson for lesson in teaching_lessons() if lesson.id == "checkerboard"))
    wait_for_results()
    window.commands.spectrum.trigger()  # the lesson's spectra stay a step away: the images first
    settle(800)
    teaching.conventions.choose("opencv:lanczos4", "pillow:lanczos")
    teaching.show("conventions")
    window.docks["explain"].raise_()
    key = next(k for k in window.grid.panels if k.startswith("transposed-conv"))
    window.grid.look_at(300.0, 250.0, 4.0)
    window.explain.explain_at(key, 251, 300)
    settle(3000)
    window.message_bar.hide()
    shoot(f"viewer-teach-{screen.width()}x{screen.height()}.png")
    window.close()
    return 0


def evaluation_shot(window, app, settle, wait_for_results, shoot) -> int:
    """The Evaluation dock on an evaluation of builtin:photos, the window maximised."""
    import core

    folder = Path(tempfile.mkdtemp()) / "evaluation"
    settings = core.EvaluationSettings(scales=(2.0, 4.0), methods=("nearest", "bilinear", "bicubic", "lanczos4", "espcn"))
    core.evaluate(["builtin:photos"], settings, folder, jobs=1)
    screen = app.primaryScreen().geometry()
    window.showMaximized()
    window.open_chart("test-chart")
    wait_for_results()
    window.evaluation.open_folder(folder)
    settle(2000)
    window.message_bar.hide()
    shoot(f"viewer-evaluation-{screen.width()}x{screen.height()}.png")
    window.close()
    return 0


def teaching_lessons():  # a tuple of gui.teaching.Lesson
    from gui.teaching import LESSONS

    return LESSONS


def analysis_shot(window, app, settle, wait_for_results, shoot) -> int:
    """The spectrum view of a photograph restored at x4 by nearest, bilinear, bicubic and
    a transposed convolution with a box kernel of size 5 (whose uneven overlap leaves the
    checkerboard's peaks at multiples of 1/4 cycle per pixel), the Radial power dock in
    front, the window maximised on this screen."""
    import skimage.data

    import core

    photo = Path(tempfile.mkdtemp()) / "astronaut.png"
    core.save_image(photo, skimage.data.astronaut())
    screen = app.primaryScreen().geometry()
    panel = window.settings_panel
    panel.from_dict({**panel.to_dict(), "mode": "degrade", "scale": 4.0,
                     "methods": ["nearest", "bilinear", "bicubic", "transposed-conv"],
                     "params": {"transposed-conv": {"kernel": "box", "kernel_size": 5}}})
    window.showMaximized()
    window.open_paths([str(photo)])
    wait_for_results()
    window.docks["radial"].raise_()  # after the first-run layout, which may tab it behind another
    window.commands.spectrum.trigger()
    settle(3000)
    window.message_bar.hide()
    shoot(f"viewer-spectrum-{screen.width()}x{screen.height()}.png")
    window.close()
    return 0


def backend_shot(window, settle, wait_for_results, shoot) -> int:
    """Choose OpenCL (else PyTorch) in the Compute menu, recompute, show the menu."""
    compute = window.compute
    settle(3000)  # the first probe (it may import PyTorch)
    for name in ("opencl", "torch"):
        if compute.actions[name].isEnabled():
            compute.actions[name].trigger()
            break
    settle(3000)
    window.recompute()
    wait_for_results()
    bar = window.menuBar()
    compute_action = compute.menu.menuAction()
    compute.menu.popup(bar.mapToGlobal(bar.actionGeometry(compute_action).bottomLeft()))
    settle(800)
    shoot("viewer-compute-backend.png")
    compute.menu.hide()
    window.close()
    return 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if not a.startswith("--only-")]
    sys.exit(main(Path(arguments[0] if arguments else "docs"), only_backend="--only-backend" in sys.argv,
                  only_learned="--only-learned" in sys.argv, only_screen="--only-screen" in sys.argv,
                  only_own="--only-own" in sys.argv, only_swipe="--only-swipe" in sys.argv,
                  only_analysis="--only-analysis" in sys.argv, only_teach="--only-teach" in sys.argv,
                  only_evaluation="--only-evaluation" in sys.argv))
