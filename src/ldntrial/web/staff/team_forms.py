"""Forms of a study's set-up and team: a new study, an invitation, removing a role."""

from __future__ import annotations

from typing import Any

from django import forms

from ldntrial.protocol.loader import builtin_protocol_ids, builtin_protocol_text
from ldntrial.web.staff.forms import SiteField, field_of, uploaded_text
from ldntrial.web.studies.models import Site
from ldntrial.web.studies.roles import Role
from ldntrial.web.studies.setup import SiteSpec, parse_sites

OWN = "own"


class NewStudyForm(forms.Form):
    """A study from a protocol file: a built-in one or the team's own."""

    code = forms.SlugField(max_length=40, help_text="Short, in addresses and exports: ldn-2027")
    title = forms.CharField(max_length=300)
    protocol = forms.ChoiceField(
        choices=[(OWN, "our own protocol file (upload it below)")]
        + [(pid, f"built-in: {pid}") for pid in builtin_protocol_ids()],
        help_text="Start your own from `ldntrial protocol new --from crossover-2013`",
    )
    protocol_file = forms.FileField(
        required=False, label="Protocol file (TOML)", help_text="Only with 'our own protocol file'"
    )
    sites = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: code, name, time zone (e.g. stanford, Stanford, "
        "America/Los_Angeles)",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("protocol") == OWN:
            if not data.get("protocol_file"):
                self.add_error("protocol_file", "upload your protocol file, or choose a built-in")
            else:
                try:
                    data["protocol_text"] = uploaded_text(data["protocol_file"])
                except forms.ValidationError as error:
                    self.add_error("protocol_file", error)
        elif data.get("protocol"):
            data["protocol_text"] = builtin_protocol_text(data["protocol"])
        return data

    def site_specs(self) -> list[SiteSpec]:
        return parse_sites(self.cleaned_data["sites"])


class InviteForm(forms.Form):
    """Invite an address to a role, at one site or at every site."""

    prefix = "invite"

    email = forms.EmailField()
    role = forms.ChoiceField(choices=[(r.value, r.value.replace("_", " ")) for r in Role])
    site = SiteField(queryset=Site.objects.none(), required=False, empty_label="every site")

    def __init__(self, *args: Any, study, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "site", SiteField).queryset = study.sites.order_by("code")


class ReasonForm(forms.Form):
    """Why a role is removed or an invitation withdrawn (audited)."""

    reason = forms.CharField(max_length=300, label="Why")
