"""Forms of data quality: a query on one of her forms, the investigator's signature."""

from __future__ import annotations

from django import forms

from ldntrial.web.quality.casebook import casebook_forms
from ldntrial.web.staff.forms import field_of
from ldntrial.web.trial.models import Participant


class RaiseQueryForm(forms.Form):
    prefix = "query"

    record = forms.ChoiceField(label="About which form")
    field = forms.CharField(
        required=False, max_length=100, label="Which value", help_text="e.g. heat_threshold"
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="The question")

    def __init__(self, *args, person: Participant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        records = [(f.record, f.label) for f in casebook_forms(person)]
        field_of(self, "record", forms.ChoiceField).choices = records


class SignForm(forms.Form):
    prefix = "sign"

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password, again: the signature is yours alone",
    )
