"""Every upsampling method. Importing this package registers each module's methods.

To add a method, write one function with a ``@register_method(...)`` decorator in any
module here (or a new module: it is found automatically).
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
