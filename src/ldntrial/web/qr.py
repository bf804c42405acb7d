"""A QR code as inline SVG (segno), so a phone's camera opens a link printed or on screen."""

from __future__ import annotations

import io

import segno

__all__ = ["qr_svg"]


def qr_svg(text: str, *, title: str) -> str:
    """``text`` as an SVG QR code (error correction M) with an accessible ``title``."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=5, xmldecl=False, svgns=True, title=title
    )
    return buffer.getvalue().decode("utf-8")
