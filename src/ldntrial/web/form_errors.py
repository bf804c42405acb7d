"""A service's refusal shown on the form that asked for it, on every page of the site."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

__all__ = ["show_errors"]


def show_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's field errors on the form's fields (or on the form when not a field)."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
