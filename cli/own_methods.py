"""``--model``, ``--model-255``, ``--result`` and ``--plugin``: the user's own methods
added before anything else runs, and the installed plugins of the ``upscope.methods``
entry-point group.

A method that cannot be added is named on stderr with the reason; the rest (the listing,
the export with the other methods) goes on, and the exit code says that something
failed (`EXIT_INPUT`).
"""

from __future__ import annotations

import argparse
import sys

from cli import EXIT_OK


def add_own_method_options(parser: argparse.ArgumentParser) -> None:
    """The options of this module, as one group of ``parser``."""
    own = parser.add_argument_group("your own methods (added to the comparison)")
    own.add_argument("--model", metavar="[LABEL=]PATH", action="append", default=[],
                     help="a model file as a method: ONNX (.onnx) or a PyTorch checkpoint (.pth, .pt, .ckpt, "
                     ".safetensors; the network is recognised by spandrel). Repeatable. Needs the models extra")
    own.add_argument("--model-255", metavar="[LABEL=]PATH", action="append", default=[],
                     help="as --model, for a network that takes and returns values 0-255 instead of 0-1")
    own.add_argument("--result", metavar="LABEL=PATH", action="append", default=[],
                     help="an image made by another tool, shown and measured as a method; its size must be the "
                     "comparison's output size. Repeatable")
    own.add_argument("--plugin", metavar="FILE", action="append", default=[],
                     help="a Python file whose functions register themselves with core.register_method. Repeatable")
    own.add_argument("--plugin-timeout", metavar="S", type=float,
                     help="seconds a plugin's method may run on one image before it is stopped (default 300)")


def add_own_methods(args: argparse.Namespace) -> tuple[list[str], int]:
    """Add what the options name (plugins first, then models, then result images) and
    the installed plugins. Returns the ids added, in that order, and `EXIT_OK`,
    `EXIT_INPUT` when one could not be added (each failure printed on stderr), or
    `EXIT_USAGE` with nothing added for a ``--result`` without its label."""
    import core
    from cli import EXIT_INPUT, EXIT_USAGE

    for text in args.result:  # a usage error stops before anything is loaded
        if core.split_label(text)[0] is None:
            print(f"upscope: --result {text}: give it as LABEL=PATH (the label names its panel)", file=sys.stderr)
            return [], EXIT_USAGE
    timeout = args.plugin_timeout
    if timeout is not None:
        if not (timeout > 0 and timeout < float("inf")):
            print(f"upscope: --plugin-timeout must be a positive number of seconds; got {timeout:g}", file=sys.stderr)
            return [], EXIT_USAGE
        core.limits.plugin_seconds = timeout
    added: list[str] = []
    failed = False

    def tell(message: object) -> None:
        nonlocal failed
        failed = True
        print(f"upscope: {str(message).splitlines()[0] if str(message) else message}", file=sys.stderr)

    installed, problems = core.load_installed_plugins()
    added += installed
    for problem in problems:
        tell(problem)
    for path in args.plugin:
        try:
            added += core.load_plugin(path)
        except core.UpscopeError as exc:
            tell(exc)
    for value_range, given in (("0-1", args.model), ("0-255", args.model_255)):
        for text in given:
            label, path = core.split_label(text)
            try:
                added.append(core.add_model(path, label, value_range=value_range))
            except core.UpscopeError as exc:
                tell(exc)
    for text in args.result:
        label, path = core.split_label(text)
        try:
            added.append(core.add_result(label or path, path))
        except core.UpscopeError as exc:
            tell(exc)
    unique = list(dict.fromkeys(added))  # the same file given twice is one method
    return unique, (EXIT_INPUT if failed else EXIT_OK)


def with_added_methods(methods: tuple[str, ...] | None, added: list[str]) -> tuple[str, ...] | None:
    """The method list of a comparison with the added methods: appended to ``methods``
    (or to the default methods when none were named), unless ``methods`` names them."""
    if not added:
        return methods
    import core

    chosen = methods if methods is not None else tuple(choice.id for choice in core.default_methods())
    return chosen + tuple(method_id for method_id in added if method_id not in chosen)
