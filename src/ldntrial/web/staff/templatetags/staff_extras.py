"""Small template helpers for the staff pages."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):  # type: ignore[no-untyped-def]
    """``mapping[key]`` in a template, or None."""
    return mapping.get(key) if mapping else None
