"""Small template helpers for the staff pages."""

from django import template

from ldntrial.report.views import format_number, format_p

register = template.Library()


@register.filter
def get_item(mapping, key):  # type: ignore[no-untyped-def]
    """``mapping[key]`` in a template, or None."""
    return mapping.get(key) if mapping else None


@register.filter
def number(value, decimals=None):  # type: ignore[no-untyped-def]
    """A result's number as the reports print it (full precision kept in the data)."""
    return format_number(value, decimals)


@register.filter
def p_value(value):  # type: ignore[no-untyped-def]
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


@register.filter
def status_mark(status):  # type: ignore[no-untyped-def]
    """The heat map's one-character mark for a diary day (blank when nothing is due)."""
    return STATUS_MARKS.get(str(status), "")


@register.filter
def status_words(status):  # type: ignore[no-untyped-def]
    """A diary day's status in words, for the title and for screen readers."""
    return STATUS_WORDS.get(str(status), str(status))
