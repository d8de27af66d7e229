"""Upscope's numeric core: images, upsampling methods, downsamplers, metrics, comparisons.

Plain Python and NumPy, no Qt: usable from a notebook as it is::

    import core
    image = core.load_image("photo.png")
    big = core.upsample(image, "bicubic", scale=4)
    for result in core.compare(image, core.ComparisonSettings(mode="degrade", scale=4)):
        print(result.method_id, result.metrics)
"""

from core.backends.base import Backend, BackendError, BackendInfo
from core.backends.choice import (
    ENVIRONMENT_VARIABLE,
    available_backends,
    backend_refusal,
    backends_sentence,
    current_backend,
    method_backends,
    requested_backend,
    set_backend,
    unavailable_backends,
)
from core.backends.run import upsample
from core.common.arrays import data_range, size_text
from core.common.colour import LUMA_OFFSET, LUMA_WEIGHTS, luma
from core.common.errors import (
    ImageError,
    ImageTooLargeError,
    ModelError,
    OutputExistsError,
    ParameterError,
    PluginError,
    UnsupportedScaleError,
    UpscopeError,
)
from core.common.limits import limits
from core.common.region import Region
from core.common.vocabulary import (
    BACKEND_LABELS,
    BACKEND_NAMES,
    CONVENTIONS,
    DIFF_FORMULAS,
    DIFF_KINDS,
    MODES,
    BackendName,
    Convention,
    DiffKind,
    Mode,
)
from core.comparison.comparison import Comparison, compare
from core.comparison.memory import (
    NotEnoughMemoryError,
    available_memory,
    check_memory,
    estimate_memory,
)
from core.comparison.pairs import PairComparison, compare_pair
from core.comparison.results import MethodResult
from core.comparison.settings import (
    ComparisonSettings,
    MethodChoice,
    check_settings,
    default_methods,
)
from core.display.adjust import (
    CHANNEL_VIEWS,
    ChannelView,
    Histogram,
    adjusted_display,
    channel_view,
    histogram,
    histogram_range,
)
from core.display.colour import (
    DifferenceDisplay,
    colorize_difference,
    colormap_lut,
    default_colormap,
    difference_picture,
    difference_range,
)
from core.display.probe import (
    LineSamples,
    PixelReport,
    line_profile,
    line_samples,
    pixel_report,
    pixel_values,
    source_pixel,
)
from core.display.screen import (
    DisplayWindow,
    display_size,
    display_window,
    reduce_for_display,
    to_display,
)
from core.display.spectrum_picture import SPECTRUM_UNITS, SpectrumPicture, spectrum_picture, spectrum_span
from core.io.charts import ChartSpec, list_charts, make_chart
from core.io.read import load_image
from core.io.write import save_image, write_text
from core.methods.conventions import why_they_differ
from core.methods.downsamplers import (
    DownsamplerSpec,
    crop_to_multiple,
    downsample,
    get_downsampler,
    list_downsamplers,
)
from core.methods.explain import PixelExplanation, Tap, explain_pixel, sampling_grid
from core.methods.external.adding import (
    add_model,
    add_result,
    forget_method,
    load_installed_plugins,
    load_plugin,
    loaded_model,
    split_label,
    user_methods,
)
from core.methods.external.model_files import MODEL_SUFFIXES, ModelFacts, load_model_file
from core.methods.external.tiles import tiled_forward
from core.methods.naming import changed_params_text, choice_key, method_title, param_value_text
from core.methods.neural import TransposedConvPlan, transposed_conv_matrix, transposed_conv_plan, zero_inserted
from core.methods.registry import (
    MethodSource,
    MethodSpec,
    Param,
    get_method,
    list_methods,
    register_method,
)
from core.metrics.difference import difference
from core.metrics.flip import flip_available, flip_map
from core.metrics.measures import (
    SSIM_K1,
    SSIM_K2,
    SSIM_RADIUS,
    SSIM_SIGMA,
    Metrics,
    PreparedReference,
    compute_metrics,
    mae,
    max_abs_error,
    mse,
    paper_view,
    psnr,
    ssim,
    ssim_map,
)
from core.metrics.spectrum import checkerboard_score, power_spectrum, radial_profile, spectrum
from core.report.batch import (
    BatchReport,
    ExportRequest,
    ImageOutcome,
    export_images,
    image_files,
    render_figure,
)
from core.report.evaluation import EvaluationSettings, evaluate, open_dataset
from core.report.figures import (
    REGION_COLOURS,
    GridLayout,
    GridOptions,
    comparison_figure,
    grid_layout,
    paper_figure,
)
from core.report.files import (
    export_results,
    metrics_csv,
    metrics_json,
    metrics_rows,
)
from core.report.format import ErrorUnits, format_metric, image_units
from core.report.session import (
    Session,
    View,
    load_session,
    save_session,
    settings_from_dict,
    settings_to_dict,
)
from core.report.table import COLUMNS as TABLE_COLUMNS
from core.report.table import (
    MetricColumn,
    ResultTable,
    TableRow,
    metric_values,
    result_table,
)

__all__ = [
    "checkerboard_score",
    "evaluate",
    "EvaluationSettings",
    "open_dataset",
    "compare_pair",
    "PairComparison",
    "TransposedConvPlan",
    "transposed_conv_plan",
    "why_they_differ",
    "zero_inserted",
    "choice_key",
    "explain_pixel",
    "PixelExplanation",
    "Tap",
    "sampling_grid",
    "transposed_conv_matrix",
    "flip_available",
    "flip_map",
    "power_spectrum",
    "radial_profile",
    "spectrum",
    "spectrum_picture",
    "spectrum_span",
    "SpectrumPicture",
    "SPECTRUM_UNITS",
    "ssim_map",
    "add_model",
    "add_result",
    "forget_method",
    "load_installed_plugins",
    "load_plugin",
    "loaded_model",
    "load_model_file",
    "MethodSource",
    "MODEL_SUFFIXES",
    "ModelFacts",
    "PluginError",
    "split_label",
    "tiled_forward",
    "user_methods",
    "available_backends",
    "available_memory",
    "Backend",
    "BACKEND_LABELS",
    "BACKEND_NAMES",
    "backend_refusal",
    "BackendError",
    "BackendInfo",
    "BackendName",
    "backends_sentence",
    "BatchReport",
    "changed_params_text",
    "ChartSpec",
    "check_memory",
    "check_settings",
    "colorize_difference",
    "colormap_lut",
    "compare",
    "Comparison",
    "comparison_figure",
    "ComparisonSettings",
    "compute_metrics",
    "PreparedReference",
    "Convention",
    "adjusted_display",
    "CHANNEL_VIEWS",
    "channel_view",
    "ChannelView",
    "CONVENTIONS",
    "crop_to_multiple",
    "current_backend",
    "data_range",
    "default_colormap",
    "default_methods",
    "DIFF_FORMULAS",
    "DIFF_KINDS",
    "difference",
    "difference_picture",
    "difference_range",
    "DifferenceDisplay",
    "DiffKind",
    "display_size",
    "display_window",
    "DisplayWindow",
    "downsample",
    "DownsamplerSpec",
    "ENVIRONMENT_VARIABLE",
    "ErrorUnits",
    "estimate_memory",
    "export_images",
    "export_results",
    "ExportRequest",
    "format_metric",
    "get_downsampler",
    "get_method",
    "grid_layout",
    "GridLayout",
    "histogram",
    "Histogram",
    "histogram_range",
    "GridOptions",
    "image_files",
    "image_units",
    "ImageError",
    "ImageOutcome",
    "ImageTooLargeError",
    "limits",
    "line_profile",
    "line_samples",
    "LineSamples",
    "list_charts",
    "list_downsamplers",
    "list_methods",
    "load_image",
    "load_session",
    "luma",
    "LUMA_OFFSET",
    "LUMA_WEIGHTS",
    "mae",
    "make_chart",
    "max_abs_error",
    "method_backends",
    "method_title",
    "MethodChoice",
    "MethodResult",
    "MethodSpec",
    "TABLE_COLUMNS",
    "metric_values",
    "MetricColumn",
    "Metrics",
    "metrics_csv",
    "metrics_json",
    "metrics_rows",
    "Mode",
    "ModelError",
    "OutputExistsError",
    "MODES",
    "mse",
    "NotEnoughMemoryError",
    "paper_figure",
    "paper_view",
    "Param",
    "param_value_text",
    "ParameterError",
    "pixel_report",
    "pixel_values",
    "PixelReport",
    "psnr",
    "reduce_for_display",
    "Region",
    "REGION_COLOURS",
    "register_method",
    "render_figure",
    "requested_backend",
    "result_table",
    "ResultTable",
    "save_image",
    "save_session",
    "Session",
    "set_backend",
    "settings_from_dict",
    "settings_to_dict",
    "size_text",
    "source_pixel",
    "ssim",
    "SSIM_K1",
    "SSIM_K2",
    "SSIM_RADIUS",
    "SSIM_SIGMA",
    "TableRow",
    "to_display",
    "unavailable_backends",
    "UnsupportedScaleError",
    "upsample",
    "UpscopeError",
    "View",
    "write_text",
]


def __getattr__(name: str) -> object:
    """Names that moved out of `core`, still importable from it: ``TerminalProgress``
    (a terminal's progress bar belongs to the command line, `cli.progress`)."""
    if name == "TerminalProgress":
        import warnings

        from cli.progress import TerminalProgress

        warnings.warn("core.TerminalProgress moved to cli.progress.TerminalProgress", DeprecationWarning, stacklevel=2)
        return TerminalProgress
    raise AttributeError(f"module 'core' has no attribute {name!r}")
