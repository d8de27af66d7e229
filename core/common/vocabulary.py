"""The words of a comparison, spelled once: modes, metric conventions, difference kinds,
compute backends. Every check, menu, option and file format reads them from here."""

from __future__ import annotations

from typing import Literal

from core.common.errors import ParameterError

Mode = Literal["upscale", "degrade"]
#: ``upscale`` enlarges the image as it is; ``degrade`` shrinks it first and measures.
MODES: tuple[Mode, ...] = ("upscale", "degrade")

Convention = Literal["all", "paper"]
#: ``all``: every pixel and channel in the image's units; ``paper``: luma with the border
#: shaved (see docs/METHODS.md#paper-convention).
CONVENTIONS: tuple[Convention, ...] = ("all", "paper")

DiffKind = Literal["signed", "abs", "squared", "ssim", "flip"]
#: Difference maps, in the order menus offer them (docs/METHODS.md#difference).
DIFF_KINDS: tuple[DiffKind, ...] = ("abs", "signed", "squared", "ssim", "flip")
#: Maps that are not differences of values but their own measures, in their own units.
MEASURE_MAP_KINDS: tuple[DiffKind, ...] = ("ssim", "flip")
#: What each difference map shows, as a colour bar or a header writes it.
DIFF_FORMULAS: dict[str, str] = {
    "abs": "|method - reference|",
    "signed": "method - reference",
    "squared": "(method - reference)\u00b2",
    "ssim": "local SSIM (1: same structure)",
    "flip": "FLIP (0: no visible difference)",
}

BackendName = Literal["cpu", "opencl", "torch"]
#: Every compute backend, the CPU first.
BACKEND_NAMES: tuple[BackendName, ...] = ("cpu", "opencl", "torch")
#: How people call them.
BACKEND_LABELS: dict[str, str] = {"cpu": "CPU", "opencl": "OpenCL", "torch": "PyTorch"}


def check_choice(what: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise `ParameterError` naming ``what`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        quoted = [repr(c) for c in choices]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise ParameterError(f"{what} must be {listed}; got {value!r}")


def check_convention(convention: object) -> None:
    """Raise `ParameterError` unless ``convention`` is one of `CONVENTIONS`."""
    check_choice("convention", convention, CONVENTIONS)


def check_diff_kind(kind: object) -> None:
    """Raise `ParameterError` unless ``kind`` is one of `DIFF_KINDS`."""
    check_choice("difference kind", kind, DIFF_KINDS)


def check_mode(mode: object) -> None:
    """Raise `ParameterError` unless ``mode`` is one of `MODES`."""
    check_choice("mode", mode, MODES)
