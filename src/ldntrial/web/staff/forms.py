"""The staff forms. Field rules mirror the core's; the core decides, these only collect."""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.http import HttpRequest

from ldntrial.protocol.eligibility import ESR_MAX_MM_H, PAIN_AREAS, SYMPTOM_MONTHS_MAX
from ldntrial.protocol.model import VisitMeasure
from ldntrial.web.studies.models import Site
from ldntrial.web.trial.models import AdverseEvent, Participant, Screening

SCORE = [(value, str(value)) for value in range(4)]
# Protocol units are UCUM codes; these are how they read on a form.
UNIT_NAMES = {"1": "", "Cel": "°C", "{score}": "0-100", "{capsule}": "capsules"}
YES_NO = [("", "not asked"), ("yes", "yes"), ("no", "no")]


def _label(area: str) -> str:
    return area.replace("_", " ")


def uploaded_name(request: HttpRequest, field: str = "file") -> str:
    """The name of the file uploaded as ``field`` ("" if the browser sent none)."""
    uploaded = request.FILES.get(field)
    return str(uploaded.name or "") if uploaded is not None else ""


FieldKind = TypeVar("FieldKind", bound=forms.Field)


class SiteField(forms.ModelChoiceField):
    """A study's sites, each shown by its name; the form sets ``queryset`` for its study."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


def field_of(form: forms.BaseForm, name: str, kind: type[FieldKind]) -> FieldKind:
    """``form``'s field ``name`` as the kind of field it is (``form.fields`` says only Field)."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"{name}: a {type(field).__name__}, not a {kind.__name__}")
    return field


class ScreeningForm(forms.Form):
    """A screening visit: the ACR 2010/2011/2016 items, safety exclusions and consent."""

    site = SiteField(queryset=Site.objects.none())
    age = forms.IntegerField(min_value=0, max_value=120)
    sex = forms.ChoiceField(choices=[("female", "female"), ("male", "male")])
    pain_areas = forms.MultipleChoiceField(
        choices=[(area, _label(area)) for area in PAIN_AREAS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Areas with pain in the last week (widespread pain index)",
    )
    fatigue = forms.TypedChoiceField(choices=SCORE, coerce=int)
    waking_unrefreshed = forms.TypedChoiceField(choices=SCORE, coerce=int)
    cognitive_symptoms = forms.TypedChoiceField(choices=SCORE, coerce=int)
    somatic_symptoms = forms.TypedChoiceField(
        choices=[("", "not asked"), *SCORE], coerce=int, required=False, empty_value=None
    )
    headaches = forms.ChoiceField(choices=YES_NO, required=False)
    lower_abdominal_pain = forms.ChoiceField(choices=YES_NO, required=False)
    depression = forms.ChoiceField(choices=YES_NO, required=False)
    symptom_months = forms.IntegerField(
        min_value=0, max_value=SYMPTOM_MONTHS_MAX, label="Months with symptoms"
    )
    other_disorder_explains_pain = forms.BooleanField(required=False)
    medications = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line or comma-separated; opioids exclude, some need review",
    )
    pregnant = forms.BooleanField(required=False)
    planning_pregnancy = forms.BooleanField(required=False)
    acute_hepatitis = forms.BooleanField(required=False)
    liver_failure = forms.BooleanField(required=False)
    esr_mm_h = forms.FloatField(
        min_value=0, max_value=ESR_MAX_MM_H, required=False, label="ESR (mm/hr)"
    )
    consent_on = forms.DateField(
        required=False,
        label="Written consent given on",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "site", SiteField).queryset = sites

    def answers(self) -> dict[str, Any]:
        """The cleaned form as ScreeningAnswers fields (unasked items left out)."""
        data = dict(self.cleaned_data)
        for name in ("site", "consent_on"):
            data.pop(name)
        for name in ("headaches", "lower_abdominal_pain", "depression"):
            value = data.pop(name)
            if value:
                data[name] = value == "yes"
        if data["somatic_symptoms"] is None:
            data.pop("somatic_symptoms")
        if data["esr_mm_h"] is None:
            data.pop("esr_mm_h")
        text = data.pop("medications").replace(",", "\n")
        data["medications"] = [line.strip() for line in text.splitlines() if line.strip()]
        return data


class EnrolForm(forms.Form):
    """Enrolment: the day she starts and her time zone (for the diary window)."""

    enrolled_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    timezone = forms.CharField(max_length=64, initial="America/Los_Angeles")


class SignOffForm(forms.Form):
    """An investigator's decision on a screening that needs review, with the reason."""

    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class NotEnrolledForm(forms.Form):
    """She could have been enrolled and will not be: why (a screen failure)."""

    prefix = "not_enrolled"

    reason = forms.ChoiceField(
        choices=[("", "choose"), *Screening.NotEnrolled.choices], label="Why she is not enrolled"
    )
    detail = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="In her words, or yours",
        help_text="Required for 'another reason'",
    )


class UnblindForm(forms.Form):
    """Emergency unblinding of one participant: password again, and why."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password, again, at the moment of unblinding",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    told_to = forms.CharField(
        required=False, max_length=200, label="Allocation given to (if not yourself)"
    )


class AdverseEventForm(forms.ModelForm):
    """An adverse event: term, onset, severity, seriousness, relatedness, outcome, action."""

    class Meta:
        model = AdverseEvent
        fields = [
            "term",
            "onset",
            "severity",
            "serious",
            "related",
            "outcome",
            "resolved_on",
            "action_taken",
        ]
        widgets = {
            "onset": forms.DateInput(attrs={"type": "date"}),
            "resolved_on": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {
            "related": "Related to the study capsules",
            "serious": "Serious",
            "resolved_on": "Ended on",
            "action_taken": "Action taken with the capsules",
        }
        help_texts = {"resolved_on": "Once she recovered (or died); empty while it goes on"}


class CorrectEventForm(forms.ModelForm):
    """What was recorded wrongly about an adverse event, and why (audited)."""

    prefix = "correct"

    reason = forms.CharField(
        label="What was wrong, and who agreed",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A serious event recorded in error needs the sponsor's agreement",
    )

    class Meta:
        model = AdverseEvent
        fields = ["term", "onset", "related", "serious"]
        widgets = {"onset": forms.DateInput(attrs={"type": "date"})}
        labels = {"related": "Related to the study capsules", "serious": "Serious"}


class FollowUpForm(forms.ModelForm):
    """Where an adverse event stands now, and what was learnt (the reason is audited)."""

    reason = forms.CharField(
        label="What was learnt, and from whom",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. discharged from hospital, as her GP's letter says",
    )

    class Meta:
        model = AdverseEvent
        fields = ["outcome", "resolved_on", "action_taken", "severity", "serious"]
        widgets = {"resolved_on": forms.DateInput(attrs={"type": "date"})}
        labels = {
            "resolved_on": "Ended on",
            "action_taken": "Action taken with the capsules",
            "serious": "Serious",
        }
        help_texts = {"serious": "Ticking it sends the serious-event alert; it cannot be unticked"}


NOT_DONE = "__not_done"
"""Suffix of a measure's "not done, because" field."""


def visit_form_class(measures: list[VisitMeasure], correcting: bool) -> type[_VisitForm]:
    """A form for one visit: its date, each measure the blind site plan asks, medications.

    Each measure takes a value or "not done" with its reason (never a forced value).
    Correcting a saved visit needs a reason (AUD-9), so the field appears then.
    """
    fields: dict[str, forms.Field] = {
        "held_on": forms.DateField(
            label="Visit held on", widget=forms.DateInput(attrs={"type": "date"})
        )
    }
    for measure in measures:
        unit = UNIT_NAMES.get(measure.unit, measure.unit)
        label = measure.label + (f" ({unit})" if unit else "")
        if measure.kind == "number":
            fields[measure.id] = forms.FloatField(
                label=label, min_value=measure.min, max_value=measure.max, required=False
            )
        elif measure.kind == "choice":
            fields[measure.id] = forms.ChoiceField(
                label=label,
                choices=[("", "-"), *((c, c.replace("_", " ")) for c in measure.choices or [])],
                required=False,
            )
        else:
            fields[measure.id] = forms.BooleanField(label=label, required=False)
        fields[measure.id + NOT_DONE] = forms.CharField(
            required=False, max_length=200, label=f"{measure.label}: not done, because"
        )
    fields["medications"] = forms.CharField(
        required=False,
        label="Concomitant medications",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line; an opioid raises a safety flag",
    )
    if correcting:
        fields["reason"] = forms.CharField(
            label="Reason for the correction", widget=forms.Textarea(attrs={"rows": 2})
        )
    ids = [measure.id for measure in measures]
    return type("VisitForm", (_VisitForm,), {**fields, "measure_ids": ids})


def _given(value: object) -> bool:
    """A ticked box, or any value but an empty one (0 is a value)."""
    return value if isinstance(value, bool) else value not in (None, "")


class _VisitForm(forms.Form):
    """Each measure: a value, or "not done" with its reason; never both, never neither."""

    measure_ids: list[str] = []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        for measure in self.measure_ids:
            value, why = data.get(measure), (data.get(measure + NOT_DONE) or "").strip()
            given = _given(value)
            if given and why:
                self.add_error(measure + NOT_DONE, "a value was given: leave 'not done' empty")
            elif not given and not why and measure not in self.errors:
                self.add_error(measure, "This field is required. Or say why it was not done.")
        return data

    def split(self) -> tuple[dict[str, Any], dict[str, str]]:
        """(values given, {measure: why not done}) from the cleaned data."""
        data = self.cleaned_data
        values = {m: data[m] for m in self.measure_ids if _given(data.get(m))}
        not_done = {
            m: data[m + NOT_DONE].strip() for m in self.measure_ids if data.get(m + NOT_DONE)
        }
        return values, not_done


class AllocationForm(forms.Form):
    """A new version of the allocation list, made by the core's permuted blocks."""

    per_stratum = forms.IntegerField(
        min_value=1, max_value=10_000, label="Allocations per stratum (whole blocks)"
    )


class DispenseForm(forms.Form):
    """Hand out the kits the protocol dispenses to a participant at a visit."""

    participant = forms.CharField(max_length=20, label="Participant code")
    visit = forms.IntegerField(min_value=1)
    on = forms.DateField(label="Dispensed on", widget=forms.DateInput(attrs={"type": "date"}))


class ReturnForm(forms.Form):
    """A kit back at the pharmacy, with its unused capsules (or mL of liquid) counted."""

    kit = forms.CharField(max_length=12, label="Kit code")
    on = forms.DateField(label="Returned on", widget=forms.DateInput(attrs={"type": "date"}))
    capsules = forms.IntegerField(min_value=0, label="Capsules returned")

    def __init__(self, *args, units: str = "capsules", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if units != "capsules":
            self.fields["capsules"].label = f"{units} returned"


class LotForm(forms.Form):
    """The kits filled from one lot: the lot's number and its beyond-use date."""

    kits = forms.CharField(
        max_length=2000,
        label="Kit codes (separated by spaces or commas)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lot = forms.CharField(max_length=40, label="Lot number")
    compounded_on = forms.DateField(
        label="Compounded on", widget=forms.DateInput(attrs={"type": "date"})
    )
    beyond_use_on = forms.DateField(
        required=False,
        label="Beyond-use date (empty: the protocol's beyond-use period after compounding)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def codes(self) -> list[str]:
        """The kit codes typed, in order."""
        return self.cleaned_data["kits"].replace(",", " ").split()


class DoseReductionForm(forms.Form):
    """A blind order to reduce her dose for side effects."""

    reason = forms.CharField(
        label="Why (side effect, since when)", widget=forms.Textarea(attrs={"rows": 2})
    )


class WithdrawForm(forms.Form):
    """She leaves early: her last day, why, and what she agrees may still be collected."""

    prefix = "withdraw"  # her page holds several forms; their fields' ids must differ

    on = forms.DateField(
        label="Her last day in the study", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.ChoiceField(
        choices=[("", "choose"), *Participant.WithdrawalReason.choices], label="Why she left"
    )
    detail = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="In her words, or yours",
        help_text="Required for 'another reason'; never the arm",
    )
    after = forms.ChoiceField(
        choices=Participant.AfterWithdrawal.choices,
        label="What may still be collected",
        help_text="As she agreed; entries she did not agree to are refused",
    )


class CompleteForm(forms.Form):
    """She finished the study as planned (after her last planned day)."""

    prefix = "complete"

    on = forms.DateField(label="Completed on", widget=forms.DateInput(attrs={"type": "date"}))


class EsrForm(forms.Form):
    """One ESR reading (Westergren, mm/hr) and the day the blood was drawn."""

    sampled_on = forms.DateField(
        label="Blood drawn on", widget=forms.DateInput(attrs={"type": "date"})
    )
    value = forms.FloatField(label="ESR (mm/hr)")


class LiverTestForm(forms.Form):
    """Her liver test: ALT and AST (U/L) from one draw."""

    prefix = "liver"
    sampled_on = forms.DateField(
        label="Blood drawn on", widget=forms.DateInput(attrs={"type": "date"})
    )
    alt = forms.FloatField(label="ALT (U/L)")
    ast = forms.FloatField(label="AST (U/L)")


class LockForm(forms.Form):
    """The study admin's signature on the database lock (SIG-1: name, time, meaning)."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password, again: the lock is signed",
    )
    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What you confirm",
        help_text="e.g. every query resolved, the data complete; the lock is final",
    )
    past_checklist = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why lock with items still open",
        help_text="Only when the checklist above is not clear; kept in the lock's statement",
    )


class UnblindSnapshotForm(forms.Form):
    """The statistician's planned end-of-study unblinding of the locked data."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password, again: the unblinding is signed",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. the statistical analysis plan is final (give its version)",
    )


MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class LabFileForm(forms.Form):
    """A laboratory file to preview: which panel, and the CSV (long or plate layout)."""

    panel = forms.ChoiceField()
    file = forms.FileField(
        label="CSV file",
        help_text="One row per sample and analyte, or a plate export with one column per analyte",
    )

    def __init__(self, *args: Any, panels: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field_of(self, "panel", forms.ChoiceField).choices = panels

    def clean_file(self) -> str:
        return uploaded_text(self.cleaned_data["file"])


def uploaded_text(upload: Any) -> str:
    """An uploaded CSV's text: UTF-8, at most 2 MB."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError("is larger than 2 MB; split it")
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise forms.ValidationError("is not UTF-8 text; save it as CSV (UTF-8)") from None


class AllocationUploadForm(forms.Form):
    """An allocation list made elsewhere: a CSV with sequence (and stratum, number) columns."""

    file = forms.FileField(
        label="Allocation list (CSV)",
        help_text="Columns: sequence; stratum if the protocol is stratified; "
        "randomisation_number if yours has them. Rows in allocation order.",
    )

    def clean_file(self) -> str:
        return uploaded_text(self.cleaned_data["file"])


# The built-in designs a physician starts an N-of-1 trial from, by protocol id.
NOF1_DESIGNS = {
    "nof1": "LDN 4.5 mg against placebo, 3 pairs of 4-week blocks (26 weeks)",
    "nof1-titration": "Open titration from 1.5 mg (up 0.5 mg a week), then 4.5 mg against "
    "placebo (32 weeks)",
    "nof1-dose": "LDN 4.5 mg against 1.5 mg, 3 pairs of 4-week blocks (26 weeks)",
}


class Nof1StartForm(forms.Form):
    """A physician's N-of-1 trial for one patient: a name, the pharmacy, the protocol."""

    name = forms.SlugField(
        max_length=30,
        label="Name of the trial",
        help_text="Letters, digits and '-', e.g. your initials and the year; never her name",
    )
    pharmacy_email = forms.EmailField(
        label="Compounding pharmacy's email",
        help_text="The pharmacy gets the kit list with the contents; you will not see it",
    )
    design = forms.ChoiceField(
        label="Design",
        choices=list(NOF1_DESIGNS.items()),
        initial="nof1",
        required=False,
        help_text="A built-in design; your own protocol below replaces it",
    )
    protocol_text = forms.CharField(
        required=False,
        label="Your own protocol (TOML), if not a built-in design",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Start from `ldntrial protocol new --from nof1`; leave empty for the design",
    )

    def clean_design(self) -> str:
        return self.cleaned_data["design"] or "nof1"


class EndNof1Form(forms.Form):
    """Ending an N-of-1 trial: the password again, and why if before her last block is over."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Your password, again: ending the trial locks and unblinds it",
    )
    early_reason = forms.CharField(
        required=False,
        label="Why end before her last block is over",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when ending early: the analysis then has fewer blocks to go on",
    )


class DiarySettingsForm(forms.Form):
    """Her diary's language and her reminders, as she asked for them."""

    language = forms.ChoiceField(choices=[("en", "English"), ("es", "Español")])
    email = forms.EmailField(required=False, label="Email for reminders")
    remind_at = forms.TimeField(
        required=False,
        label="Reminder time (her local time)",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="If her entry is still missing then; a follow-up comes before the window closes",
    )
    reason = forms.CharField(
        label="Why (for the audit trail)", help_text="e.g. as she asked at visit 2"
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("email")) != bool(data.get("remind_at")):
            raise forms.ValidationError("give both an email and a time for reminders, or neither")
        return data


class RevokeForm(forms.Form):
    """Revoke her devices and unused links at once (a lost phone)."""

    reason = forms.CharField(label="Why", help_text="e.g. she lost her phone")


class ExportForm(forms.Form):
    """Which export she wants; real codes and dates only for those who may have them."""

    format = forms.ChoiceField(
        choices=[
            ("csv", "CSV: one file per table (R, Python, a spreadsheet)"),
            ("parquet", "Parquet: one file per table (R arrow, pandas, DuckDB)"),
            ("stata", "Stata (.dta), with variable and value labels"),
            ("spss", "SPSS (.sav), with variable and value labels"),
            ("sas", "SAS transport (.xpt, version 8), with variable labels"),
            ("redcap", "REDCap: data dictionary, records and events, to mirror the study"),
            ("fhir", "FHIR R4 Bundle: diary responses, lab and visit observations, events"),
            ("odm", "CDISC ODM 1.3.2: the study's metadata and clinical data"),
        ],
        widget=forms.RadioSelect,
        initial="csv",
    )
    identified = forms.BooleanField(
        required=False,
        label="Real participant codes and dates (identified)",
        help_text="Leave unticked for a de-identified export: pseudonyms, shifted dates",
    )

    def __init__(self, *args, may_identify: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_identify:
            del self.fields["identified"]
