"""Small template helpers for the staff pages."""

from collections.abc import Iterable
from datetime import date

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ldntrial.report.views import format_number, format_p

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template, or None."""
    return mapping.get(key) if mapping else None


@register.filter
def number(value, decimals=None):
    """A result's number as the reports print it (full precision kept in the data)."""
    return format_number(value, decimals)


@register.filter
def p_value(value):
    """A p-value as the reports print it ("< 0.001" below a thousandth)."""
    return format_p(value)


STATUS_MARKS = {"on_time": "✓", "late": "L", "missed": "✗", "open": "…"}
STATUS_WORDS = {
    "on_time": "on time",
    "late": "late",
    "missed": "missed",
    "open": "open now",
    "not_yet": "not open yet",
    "not_scheduled": "not in the study",
}


def _cell(status: str) -> str:
    """A day cell of ``status`` with ``{day}`` left to fill (escaped once, here)."""
    words, mark = STATUS_WORDS.get(status, status), STATUS_MARKS.get(status, "")
    return format_html(
        '<td class="d d-{}" title="{{day}}: {}">{}<span class="visually-hidden"> {{day}} {}</span>'
        "</td>",
        status,
        words,
        mark,
        words,
    )


_CELLS = {status: _cell(status) for status in STATUS_WORDS}


@register.simple_tag
def heatmap_cells(cells: Iterable[tuple[date, str]]) -> SafeString:
    """One heat-map row's day cells, built in Python: a page of 50 rows has 1,400 cells,
    and the template language spent most of the dashboard's time formatting them. Each
    status's cell is escaped once; only the ISO date (digits and dashes) goes in."""
    return mark_safe(
        "".join(
            (_CELLS.get(str(status)) or _cell(str(status))).format(day=day.isoformat())
            for day, status in cells
        )
    )
