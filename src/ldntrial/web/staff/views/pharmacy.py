"""The pharmacist's unblinded pages: the allocation list, lots, labels, dispensing and returns."""

from __future__ import annotations

import io

import pandas as pd
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from ldntrial.errors import LdnTrialError
from ldntrial.protocol.dosage_form import kit_units
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.form_errors import show_errors
from ldntrial.web.staff.forms import (
    AllocationForm,
    AllocationUploadForm,
    DispenseForm,
    LotForm,
    ReturnForm,
    uploaded_name,
)
from ldntrial.web.staff.views.common import study_access
from ldntrial.web.studies.roles import Permission
from ldntrial.web.trial.concealed import (
    kit_counts_by_contents,
    kits_without_lot,
    on_the_pharmacy_list,
)
from ldntrial.web.trial.dates import local_today
from ldntrial.web.trial.dispensing import dispense_visit_kits, record_return, to_dispense
from ldntrial.web.trial.dose import apply_dose_reduction
from ldntrial.web.trial.kit_lots import label_of, lot_problem, record_lot
from ldntrial.web.trial.models import (
    AllocationSlot,
    DoseReduction,
    Kit,
    Participant,
)
from ldntrial.web.trial.pharmacy import generate_allocation, upload_allocation
from ldntrial.web.trial.record_status import SOON_DAYS
from ldntrial.web.trial.up_and_down import assign_next_dose, is_up_and_down, ladder

# Handing kits out and taking them back is dispensing; every other form prepares kits.
PERMISSION_OF_FORM = {"dispense": Permission.DISPENSE, "return": Permission.DISPENSE}


@login_required
def pharmacy(request: HttpRequest, code: str) -> HttpResponse:
    """The unblinded pharmacy view: list versions, slots in use, kits by contents."""
    access = study_access(request, code, Permission.VIEW_ALLOCATION)
    study = access.study
    posted = request.POST.get("form") if request.method == "POST" else None
    needed = PERMISSION_OF_FORM.get(posted or "", Permission.MANAGE_KITS)
    if posted and not access.can(needed):
        raise PermissionDenied(
            "the database of this study is locked: nothing more is entered"
            if access.locked
            else f"your role here does not allow {needed.value}"
        )
    # Three forms on one page: their own element ids, so every label finds its field.
    form = AllocationForm(request.POST if posted == "allocation" else None, auto_id="list_%s")
    dispense = DispenseForm(request.POST if posted == "dispense" else None, auto_id="out_%s")
    units = kit_units(study.protocol.dosing)
    back = ReturnForm(request.POST if posted == "return" else None, auto_id="back_%s", units=units)
    fill = LotForm(request.POST if posted == "lot" else None, auto_id="lot_%s")
    upload = AllocationUploadForm(
        request.POST if posted == "upload" else None,
        request.FILES if posted == "upload" else None,
        auto_id="upload_%s",
    )
    reduction_problem = dose_problem = ""
    if posted == "next_dose":
        try:
            person, dose, made = assign_next_dose(study, actor=actor_for(request.user))
        except ValidationError as error:
            dose_problem = " ".join(error.messages)
        else:
            messages.success(
                request,
                f"{person.code} takes {dose:g} mg: kits {', '.join(k.code for k in made)} "
                "made for her visits.",
            )
            return redirect("staff:pharmacy", code=code)
    if posted == "apply_reduction":
        asked = request.POST.get("order", "")
        order = (
            DoseReduction.objects.filter(
                pk=int(asked), participant__study=study, applied_at__isnull=True
            ).first()
            if asked.isdigit()
            else None
        )
        if order is None:
            reduction_problem = f"Order: no dose reduction waiting with number {asked!r}"
        else:
            apply_dose_reduction(order, actor=actor_for(request.user))
            messages.success(
                request,
                f"Dose reduction applied to {order.participant.code}'s kits not yet dispensed.",
            )
            return redirect("staff:pharmacy", code=code)
    if posted == "allocation" and form.is_valid():
        try:
            version = generate_allocation(
                study, per_stratum=form.cleaned_data["per_stratum"], actor=actor_for(request.user)
            )
        except LdnTrialError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Version {version} of the allocation list made.")
            return redirect("staff:pharmacy", code=code)
    if posted == "upload" and upload.is_valid():
        try:
            table = pd.read_csv(io.StringIO(upload.cleaned_data["file"]), dtype="str")
            version = upload_allocation(
                study,
                table,
                source=f"{uploaded_name(request)} from {request.user.get_username()}",
                actor=actor_for(request.user),
            )
        except (LdnTrialError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            upload.add_error("file", str(error))
        else:
            messages.success(request, f"Version {version} of the allocation list uploaded.")
            return redirect("staff:pharmacy", code=code)
    if posted == "dispense" and dispense.is_valid():
        recipient = Participant.objects.filter(
            study=study, code=dispense.cleaned_data["participant"]
        ).first()
        if recipient is None:
            dispense.add_error("participant", "no participant with this code in the study")
        else:
            try:
                given = dispense_visit_kits(
                    recipient,
                    dispense.cleaned_data["visit"],
                    dispense.cleaned_data["on"],
                    actor=actor_for(request.user),
                )
            except ValidationError as error:
                show_errors(dispense, error)
            else:
                messages.success(
                    request,
                    f"Dispensed to {recipient.code} at visit {dispense.cleaned_data['visit']}: "
                    f"{', '.join(kit.code for kit in given)}.",
                )
                return redirect("staff:pharmacy", code=code)
    if posted == "lot" and fill.is_valid():
        try:
            filled = record_lot(
                study,
                fill.codes(),
                fill.cleaned_data["lot"],
                fill.cleaned_data["compounded_on"],
                fill.cleaned_data["beyond_use_on"],
                actor=actor_for(request.user),
            )
        except ValidationError as error:
            show_errors(fill, error)
        else:
            messages.success(
                request,
                f"Lot {fill.cleaned_data['lot'].strip()} recorded for "
                f"{', '.join(kit.code for kit in filled)}.",
            )
            return redirect("staff:pharmacy", code=code)
    if posted == "return" and back.is_valid():
        kit = Kit.objects.filter(
            study=study, code=back.cleaned_data["kit"].strip().upper()
        ).first()
        if kit is None:
            back.add_error("kit", "no kit with this code in the study")
        else:
            try:
                record_return(
                    kit,
                    back.cleaned_data["on"],
                    back.cleaned_data["capsules"],
                    actor=actor_for(request.user),
                )
            except ValidationError as error:
                show_errors(back, error)
            else:
                messages.success(
                    request,
                    f"Kit {kit.code} returned with {back.cleaned_data['capsules']} {units}.",
                )
                return redirect("staff:pharmacy", code=code)
    slots = AllocationSlot.objects.filter(study=study)
    return render(
        request,
        "staff/pharmacy.html",
        {
            "study": study,
            "locked": access.locked,
            "form": form,
            "versions": study.allocation_lists.order_by("version"),
            "slots_total": slots.count(),
            "slots_used": slots.filter(participant__isnull=False).count(),
            "kits": kit_counts_by_contents(study),
            "dispense_form": dispense,
            "to_dispense": to_dispense(study, local_today()),
            "soon_days": SOON_DAYS,
            "pending_reductions": DoseReduction.objects.filter(
                participant__study=study, applied_at__isnull=True
            ).select_related("participant"),
            "return_form": back,
            "lot_form": fill,
            "to_fill": on_the_pharmacy_list(
                kits_without_lot(Kit.objects.filter(study=study, slot__participant__isnull=False))
                .select_related("slot__participant")
                .order_by("slot__participant__code", "kit_number")[:50]
            ),
            "units": units,
            "upload_form": upload,
            "reduction_problem": reduction_problem,
            "ladder": ladder(study) if is_up_and_down(study) else None,
            "dose_problem": dose_problem,
            "handed_out": on_the_pharmacy_list(
                Kit.objects.filter(study=study, dispensed_on__isnull=False)
                .select_related("slot__participant")
                .order_by("-dispensed_on", "code")[:50]
            ),
        },
        status=422
        if form.errors
        or dispense.errors
        or back.errors
        or fill.errors
        or upload.errors
        or reduction_problem
        or dose_problem
        else 200,
    )


@login_required
def kit_labels(request: HttpRequest, code: str, participant: str, number: int) -> HttpResponse:
    """The printable labels of the kits ``participant`` receives at visit ``number``.

    The page is unblinded (it is the pharmacy's), the labels are not: they
    carry only what every arm shares (:mod:`ldntrial.protocol.kit_label`).
    """
    access = study_access(request, code, Permission.VIEW_ALLOCATION)
    person = get_object_or_404(Participant, study=access.study, code=participant)
    kits = Kit.objects.filter(slot=person.slot, dispense_visit=number).order_by("kit_number")
    if not kits:
        raise Http404(f"{participant} receives no kit at visit {number}")
    return render(
        request,
        "staff/kit_labels.html",
        {
            "study": access.study,
            "participant": person,
            "visit": number,
            "labels": [(kit, label_of(kit), lot_problem(kit)) for kit in kits],
        },
    )
