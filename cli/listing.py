"""The lists the command line prints: methods with their accepted scales and backends,
and the compute backends that run here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import core



def list_methods_text() -> str:
    """One block per method: id, family, accepted scales, description."""
    import core

    lines = []
    for spec in core.list_methods():
        lines.append(f"{spec.id:<18} {spec.label} [{spec.family}, {accepted_scales(spec)}]")
        lines.append(f"{'':<18} {spec.description}")
        for param in (p for p in spec.params if p.user):
            default = "chosen from the scale" if param.default is None else repr(param.default)
            lines.append(f"{'':<18} [{param.name}=...] {param.description} (default {default})")
        lines.append(f"{'':<18} {core.backends_sentence(spec.id)}")
    return "\n".join(lines)


def accepted_scales(spec: core.MethodSpec) -> str:
    """The scales ``spec`` takes, as --list-methods says them."""
    if spec.trained_scales:
        return ", ".join(f"x{s}" for s in spec.trained_scales) + " only"
    return "whole-number scales" if spec.scales == "integer" else "any scale"


def list_backends_text() -> str:
    """Each backend that runs here with its device, then those that do not, with why."""
    import core

    lines = [f"{info.name:<8} {info.summary()}" for info in core.available_backends()]
    lines += [f"{name:<8} unavailable: {reason}" for name, reason in core.unavailable_backends().items()]
    lines.append(f"in use: {core.current_backend().info().summary()}")
    return "\n".join(lines)
