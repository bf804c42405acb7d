"""Rendering the report templates (Jinja2, autoescaped: no text from data becomes markup)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

__all__ = ["render"]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("ldntrial.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """``template`` from ``report/templates`` filled with ``context``."""
    return _environment().get_template(template).render(**context)
