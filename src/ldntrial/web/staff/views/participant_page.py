"""Her page: everything recorded about her, and the forms her viewer's role lets her use.

Every action on her record comes back here: after success with its
confirmation, after a refusal with the refused form in place of the blank
one and its fields' errors named (422), the rest of the page as it was.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ldntrial.web.quality.casebook import casebook_forms
from ldntrial.web.quality.signing import SIGNATURE_MEANING, current_signature, verification_status
from ldntrial.web.staff.forms import (
    AdverseEventForm,
    CompleteForm,
    DiarySettingsForm,
    DoseReductionForm,
    EsrForm,
    LiverTestForm,
    RevokeForm,
    UnblindForm,
    WithdrawForm,
)
from ldntrial.web.staff.quality_forms import RaiseQueryForm, SignForm
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.liver_test import liver_test_of
from ldntrial.web.trial.models import Participant
from ldntrial.web.trial.status import last_planned_day


def her_page(
    request: HttpRequest,
    access: Access,
    person: Participant,
    *,
    status: int = 200,
    **forms: object,
) -> HttpResponse:
    """Her page; ``forms`` (a refused form, by its context name) replace the blank ones."""
    may = access.can
    context = {
        "study": access.study,
        "participant": person,
        "unblindings": person.unblindings.select_related("by").order_by("at"),
        "unblind_form": UnblindForm() if may(Permission.EMERGENCY_UNBLIND, person.site) else None,
        "adverse_events": person.adverse_events.order_by("onset", "pk"),
        "sees_adverse_events": may(Permission.VIEW_SAFETY),
        "dose_reductions": person.dose_reductions.order_by("ordered_at"),
        "lab_results": person.lab_results.order_by("sampled_on", "analyte"),
        "esr_form": EsrForm() if may(Permission.ENTER_LABS, person.site) else None,
        "liver_test": (liver := liver_test_of(person)),
        "liver_state": liver.state_on(local_today(person.timezone)) if liver else "",
        "liver_form": LiverTestForm()
        if liver and not liver.done_on and may(Permission.ENTER_LABS, person.site)
        else None,
        "dose_form": DoseReductionForm()
        if may(Permission.ORDER_DOSE_REDUCTION, person.site)
        and not person.dose_reductions.exists()
        else None,
        "recorded": {v.number: v for v in person.visits.all()},
        "deviations": person.deviations.order_by("raised_at"),
        "can_record_visits": may(Permission.RECORD_VISIT, person.site),
        "ae_form": AdverseEventForm()
        if may(Permission.REPORT_ADVERSE_EVENT, person.site)
        else None,
        "first_kit_code": request.session.pop("first_kit_code", None),
        "just_enrolled": request.session.pop("just_enrolled", False),
        "can_link": may(Permission.ENROL, person.site) and person.status == person.Status.ACTIVE,
        "diary_form": DiarySettingsForm(initial=_diary_initial(person))
        if may(Permission.ENROL, person.site)
        else None,
        "revoke_form": RevokeForm() if may(Permission.ENROL, person.site) else None,
        "devices": person.devices.filter(revoked_at__isnull=True).count(),
        **_ending_forms(access, person),
        **quality_context(access, person),
    }
    context.update(forms)
    return render(request, "staff/participant.html", context, status=status)


def _ending_forms(access: Access, person: Participant) -> dict[str, object]:
    """The forms that end her participation, for those who may, while she is active."""
    if person.status != person.Status.ACTIVE or not access.can(Permission.ENROL, person.site):
        return {}
    today = local_today(person.timezone)
    last = last_planned_day(person)
    return {
        "withdraw_form": WithdrawForm(initial={"on": today}),
        "complete_form": CompleteForm(initial={"on": last}) if today >= last else None,
        "last_planned_day": last,
    }


def _diary_initial(person: Participant) -> dict[str, object]:
    reminders = getattr(person, "reminders", None)
    if reminders is None or not reminders.active:
        return {"language": person.language, "email": "", "remind_at": None}
    return {
        "language": person.language,
        "email": reminders.email,
        "remind_at": reminders.remind_at,
    }


def quality_context(access: Access, person: Participant) -> dict[str, object]:
    """What her page shows of her data's quality, and the forms her viewer may use."""
    may = access.can
    forms_ = casebook_forms(person)
    verified = verification_status(person)
    signature, valid = current_signature(person)
    return {
        "queries": person.queries.select_related("raised_by", "answered_by", "closed_by").order_by(
            "-raised_at"
        ),
        "casebook": [(form, verified.get(form.record)) for form in forms_],
        "form_labels": {form.record: form.label for form in forms_},
        "verified_count": sum(1 for v in verified.values() if v is not None),
        "signature": signature,
        "signature_valid": valid,
        "signature_meaning": SIGNATURE_MEANING,
        "query_form": RaiseQueryForm(person=person)
        if may(Permission.RAISE_QUERY, person.site)
        else None,
        "may_answer": may(Permission.ANSWER_QUERY, person.site),
        "may_close": may(Permission.RAISE_QUERY, person.site),
        "may_verify": may(Permission.VERIFY_SOURCE, person.site),
        "sign_form": SignForm() if may(Permission.SIGN_CASEBOOK, person.site) else None,
    }
