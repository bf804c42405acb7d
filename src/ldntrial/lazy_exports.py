"""A package's front-door names, imported from their home modules on first use (PEP 562).

``import ldntrial`` or ``import ldntrial.interop.formats`` runs the package's
``__init__``; if that imported every module eagerly, the command line's
``--help`` and a protocol check would wait for SciPy, statsmodels and FHIR
models they never use. A package lists where each name lives instead, and
this module supplies the ``__getattr__`` and ``__dir__`` that fetch it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, home_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose names live in ``home_of``.

    ``home_of`` maps each re-exported name to the module that defines it. A name
    is imported once and then kept in the package's namespace like an eager one.
    """

    def __getattr__(name: str) -> Any:
        home = home_of.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(home_of))

    return __getattr__, __dir__
