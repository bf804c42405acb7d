"""The published evidence on LDN in fibromyalgia, pooled, for staff and physicians.

Anyone signed in reads the shipped synthesis (nothing in it is about a
study on this site). A statistician may pool with it the studies whose
locked data she has unblinded here: only those, only hers to analyse, so
the page shows no result a blinded role could not already read.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ldntrial.errors import AnalysisError
from ldntrial.report.evidence import evidence_lines, forest_plot, what_it_says
from ldntrial.report.figures import embed
from ldntrial.stats.evidence import Synthesis, TrialRow, row_from_document, synthesise
from ldntrial.web.analysis.models import DatabaseLock
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.audit.tracking import actor_for
from ldntrial.web.studies.access import Access
from ldntrial.web.studies.roles import Permission

FIGURE_CAPTION = (
    "Each trial's standardised difference in pain with its 95 % CI (squares by weight; open "
    "grey squares are not pooled); the diamond is the pooled mean with its 95 % CI, the dashed "
    "line the prediction interval for a new population."
)


def _unblinded_studies(request: HttpRequest) -> list[DatabaseLock]:
    """The locks whose analysis this person may read: unblinded, and hers to analyse."""
    locks = DatabaseLock.objects.filter(unblinded_at__isnull=False).select_related("study")
    return [
        lock
        for lock in locks.order_by("study__code")
        if Access.of(request.user, lock.study).can(Permission.ANALYSE_LOCKED)
    ]


def _chosen_rows(
    request: HttpRequest, locks: list[DatabaseLock]
) -> tuple[list[TrialRow], list[str]]:
    """The rows of the studies ticked in ``?add=``, and why any of them could not join."""
    wanted = set(request.GET.getlist("add"))
    rows, refused = [], []
    for lock in locks:
        if lock.study.code not in wanted:
            continue
        if lock.analysis is None:  # unblinded, but its analyses could not run
            refused.append(f"{lock.study.code}: no analysis to pool ({lock.analysis_error})")
            continue
        try:
            rows.append(
                row_from_document(
                    lock.analysis,
                    lock.study.code,
                    citation=f"{lock.study.title} ({lock.study.code}, this site)",
                    year=lock.locked_at.year,
                    origin=f"study {lock.study.code}",
                )
            )
        except AnalysisError as error:
            refused.append(str(error))
    return rows, refused


def _synthesis(request: HttpRequest) -> tuple[Synthesis, list[DatabaseLock], list[str]]:
    locks = _unblinded_studies(request)
    rows, refused = _chosen_rows(request, locks)
    return synthesise(extra=rows), locks, refused


@login_required
def evidence(request: HttpRequest) -> HttpResponse:
    synthesis, locks, refused = _synthesis(request)
    added = {
        row.id.removeprefix("own:") for row in synthesis.table.rows if row.id.startswith("own:")
    }
    return render(
        request,
        "staff/evidence.html",
        {
            "synthesis": synthesis,
            "lines": list(zip(synthesis.table.rows, evidence_lines(synthesis), strict=True)),
            "without": list(zip(synthesis.rows_pooled(), synthesis.without, strict=True)),
            "formulas": sorted({effect.formula for effect in synthesis.effects}),
            "says": what_it_says(synthesis.pooled),
            "figure": embed(forest_plot(synthesis), FIGURE_CAPTION),
            "locks": locks,
            "added": added,
            "refused": refused,
        },
    )


@login_required
def evidence_json(request: HttpRequest) -> HttpResponse:
    """The same synthesis as ``ldntrial evidence --json``, with any studies added.

    A study's unblinded result leaves the site in it, so each added study's
    download is recorded in the audit trail as its analysis downloads are (AUD-11).
    """
    synthesis, locks, _ = _synthesis(request)
    added = {
        row.id.removeprefix("own:") for row in synthesis.table.rows if row.id.startswith("own:")
    }
    for lock in locks:
        if lock.study.code in added:
            record_event(
                actor=actor_for(request.user),
                action=Action.EXPORT,
                about=lock,
                changes={"export": [None, "ldn-evidence.json"]},
            )
    body = json.dumps(synthesis.to_dict(), indent=2, allow_nan=False)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="ldn-evidence.json"'
    response["Cache-Control"] = "no-store"
    return response
