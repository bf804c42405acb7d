"""The participant API (django-ninja), published as OpenAPI at ``/api/v1/openapi.json``.

- ``POST /api/v1/participant/session`` trades her link's one-time code for a
  device token (:func:`ldntrial.web.diary.links.exchange_link`);
- ``GET /api/v1/participant/me``: her diary as the page draws it (items and
  anchors, the checklist, the window, today's report day, her calendar with
  nothing that tells her arm);
- ``POST /api/v1/diary/entries``: 201 when stored, 200 with the stored entry
  for a retry of the same ``client_id``, 409 for the same ``client_id`` with
  other content, 422 naming each field and its rule;
- ``GET /api/v1/diary/entries``: her own entries, every version;
- ``GET /api/v1/participant/report``: her N-of-1 report, once released.

Every call but the first carries ``Authorization: Bearer <device token>``;
a revoked token, or a participant who has left the study, gets 401. She
sees only her own data. Answers are never cached (SEC-WF-7).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer
from pydantic import AwareDatetime, StrictFloat, StrictInt

from ldntrial.protocol.diary_timing import open_report_day
from ldntrial.protocol.schedule import diary_window, shared_periods
from ldntrial.web.diary.entries import (
    OTHER_SIDE_EFFECT,
    DiaryConflict,
    DiarySubmission,
    record_entry,
)
from ldntrial.web.diary.links import LinkRefused, device_for, exchange_link
from ldntrial.web.diary.models import Device, DiaryEntry
from ldntrial.web.diary.throttle import (
    REFUSAL_WINDOW,
    REFUSALS_ALLOWED,
    note_refusal,
    too_many_refusals,
)
from ldntrial.web.headers import REPORT_POLICY
from ldntrial.web.nof1.models import Nof1Trial
from ldntrial.web.studies.models import StudyLocked
from ldntrial.web.trial.models import Participant

__all__ = ["api"]

TOO_MANY_REFUSALS = (
    "too many links that cannot be used have come from this network; "
    "please try again in an hour, or ask your study team"
)
STUDY_CLOSED = (
    "the study has closed its diary: its data are locked for analysis "
    "(every entry you sent before is kept)"
)


def _her(request: HttpRequest) -> Participant:
    """The participant whose device token signed this call (django-ninja keeps what
    :class:`DeviceToken` returned as ``request.auth``, which HttpRequest's type lacks)."""
    device: Device = request.auth  # type: ignore[attr-defined]
    return device.participant


class DeviceToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Device | None:
        return device_for(token)


api = NinjaAPI(
    title="ldntrial participant API",
    version="1",
    description="The daily diary of a participant in an LDN trial, from her own device.",
    urls_namespace="api",
    auth=DeviceToken(),
)


class FieldProblem(Schema):
    field: str
    message: str


class Problem(Schema):
    detail: str
    errors: list[FieldProblem] = []


# Answers every operation may give besides its own, listed in the OpenAPI document.
NEEDS_TOKEN = {401: Problem}
TAKES_A_BODY = {400: Problem, 413: Problem, 422: Problem}
NO_TOKEN = (
    "Authorization: no live device token; open your personal link again, "
    "or ask your study team for a new one"
)


class SessionIn(Schema):
    code: str = Field(min_length=20, max_length=100)


class SessionOut(Schema):
    token: str
    participant: str
    language: str


Rating = Annotated[StrictInt | StrictFloat, Field(description="On the item's scale, 0-100")]


class EntryIn(Schema):
    client_id: UUID = Field(description="The device's own id for this entry (a UUID)")
    diary_date: date = Field(description="The report day, her local date")
    recorded_at: AwareDatetime = Field(description="Device time of the entry, with its offset")
    items: dict[str, Rating]
    side_effects: list[str] = []


class EntryOut(Schema):
    client_id: UUID
    diary_date: date
    version: int
    recorded_at: datetime = Field(description="Device time, in UTC")
    recorded_offset_minutes: int = Field(description="The device's UTC offset then")
    received_at: datetime = Field(description="Server time, in UTC")
    items: dict[str, float]
    side_effects: list[str]
    late: bool
    lateness_hours: float | None


class ItemOut(Schema):
    id: str
    label: str
    low_anchor: str
    high_anchor: str
    min: int
    max: int
    required: bool


class WindowOut(Schema):
    opens: str = Field(description="Local time the day's diary opens, HH:MM")
    closes: str = Field(description="Local time it closes, HH:MM")
    closes_next_day: bool


class PeriodOut(Schema):
    label: str
    first: date
    last: date


class VisitOut(Schema):
    visit: int
    date: date


class MeOut(Schema):
    participant: str
    language: str
    timezone: str
    study_day: int
    total_days: int
    first_day: date
    last_day: date
    report_day: date | None = Field(description="The day whose window is open now, if any")
    window_opens: datetime | None
    window_closes: datetime | None
    next_window_opens: datetime | None
    entered_today: bool
    window: WindowOut
    report_released: bool
    items: list[ItemOut]
    side_effects: list[str]
    periods: list[PeriodOut] | None = Field(
        description="Null when period lengths differ between arms (they would tell the arm)"
    )
    visits: list[VisitOut]


@api.exception_handler(SchemaError)
def _schema_problem(request: HttpRequest, error: SchemaError) -> HttpResponse:
    problems = [
        {
            "field": ".".join(str(part) for part in issue["loc"][2:]) or "body",
            "message": issue["msg"],
        }
        for issue in error.errors
    ]
    return _problem(request, 422, "the entry breaks a rule", problems)


@api.exception_handler(AuthenticationError)
def _no_token(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return _problem(request, 401, NO_TOKEN)


@api.exception_handler(HttpError)
def _http_problem(request: HttpRequest, error: HttpError) -> HttpResponse:
    """ninja's own refusals (a body that is not JSON) in the API's problem shape."""
    return _problem(request, error.status_code, f"body: {error}")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _problem(request, 413, f"body: larger than {limit} bytes; send one entry at a time")


def _problem(request, status: int, detail: str, errors: list[dict] | None = None):
    response = api.create_response(
        request, {"detail": detail, "errors": errors or []}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def _field_problems(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": field, "message": " ".join(messages)}
        for field, messages in error.message_dict.items()
    ]


@api.post(
    "/participant/session",
    auth=None,
    response={201: SessionOut, 401: Problem, 429: Problem, **TAKES_A_BODY},
    summary="Trade a personal link's one-time code for a device token",
    description=f"{REFUSALS_ALLOWED} refused codes from one address within "
    f"{REFUSAL_WINDOW.seconds // 60} minutes, and it gets 429 until the oldest is that old.",
)
def create_session(request: HttpRequest, response: HttpResponse, payload: SessionIn):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    now = timezone.now()
    if too_many_refusals(request, now=now):
        response["Retry-After"] = str(int(REFUSAL_WINDOW.total_seconds()))
        return Status(429, {"detail": TOO_MANY_REFUSALS, "errors": []})
    try:
        device, token = exchange_link(payload.code, now=now)
    except LinkRefused:
        note_refusal(request, now=now)
        return Status(401, {"detail": LinkRefused.message, "errors": []})
    person = device.participant
    return Status(201, {"token": token, "participant": person.code, "language": person.language})


@api.get(
    "/participant/me",
    response={200: MeOut, **NEEDS_TOKEN},
    summary="Her diary and calendar, as the page draws it",
)
def me(request: HttpRequest, response: HttpResponse):
    response["Cache-Control"] = "no-store"
    person = _her(request)
    protocol = person.study.protocol
    now = timezone.now()
    total = person.study.calendar_length
    local_today = now.astimezone(_zone(person)).date()
    report_day = open_report_day(protocol.diary, now, person.timezone)
    opens = closes = None
    if report_day is not None:
        opens, closes = diary_window(protocol.diary, report_day, _zone(person))
    next_day = local_today if report_day != local_today else local_today + timedelta(days=1)
    next_opens = diary_window(protocol.diary, next_day, _zone(person))[0]
    periods = shared_periods(protocol)
    day = person.enrolled_on
    return {
        "participant": person.code,
        "language": person.language,
        "timezone": person.timezone,
        "study_day": (local_today - day).days + 1,
        "total_days": total,
        "first_day": day,
        "last_day": day + timedelta(days=total - 1),
        "report_day": report_day,
        "window_opens": opens,
        "window_closes": closes,
        "next_window_opens": next_opens,
        "entered_today": report_day is not None
        and person.diary_entries.filter(diary_date=report_day).exists(),
        "window": {
            "opens": f"{protocol.diary.opens:%H:%M}",
            "closes": f"{protocol.diary.closes:%H:%M}",
            "closes_next_day": protocol.diary.closes_next_day,
        },
        "report_released": _released_report(person) is not None,
        "items": [_item(item, person.language) for item in protocol.diary.items],
        "side_effects": [*protocol.diary.side_effects, OTHER_SIDE_EFFECT],
        "periods": None
        if periods is None
        else [
            {
                "label": label,
                "first": day + timedelta(days=first - 1),
                "last": day + timedelta(days=last - 1),
            }
            for label, first, last in periods
        ],
        "visits": [{"visit": v["visit"], "date": v["date"]} for v in person.visit_calendar()],
    }


@api.get(
    "/participant/report",
    response={200: str, 404: Problem, **NEEDS_TOKEN},
    summary="Her N-of-1 report, once her physician has released it (an HTML page)",
)
def report(request: HttpRequest):
    html = _released_report(_her(request))
    if html is None:
        return Status(404, {"detail": "no report has been released to you yet", "errors": []})
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = REPORT_POLICY
    return response


def _released_report(person) -> str | None:
    trial = Nof1Trial.objects.filter(study=person.study_id, released_at__isnull=False).first()
    return trial.report_html if trial is not None else None


def _item(item, language: str) -> dict[str, Any]:
    wording = item.wording(language)
    return {
        "id": item.id,
        "label": wording.label,
        "low_anchor": wording.low_anchor,
        "high_anchor": wording.high_anchor,
        "min": item.min,
        "max": item.max,
        "required": item.required,
    }


@api.post(
    "/diary/entries",
    response={200: EntryOut, 201: EntryOut, 409: Problem, **NEEDS_TOKEN, **TAKES_A_BODY},
    summary="Send one diary entry (idempotent by client_id)",
)
def send_entry(request: HttpRequest, response: HttpResponse, payload: EntryIn):
    response["Cache-Control"] = "no-store"
    person = _her(request)
    submission = DiarySubmission(
        client_id=payload.client_id,
        diary_date=payload.diary_date,
        recorded_at=payload.recorded_at,
        items=payload.items,
        side_effects=payload.side_effects,
    )
    try:
        recorded = record_entry(
            person, submission, received_at=timezone.now(), actor=f"participant:{person.code}"
        )
    except DiaryConflict as conflict:
        return Status(409, {"detail": "client_id: " + conflict.messages[0], "errors": []})
    except ValidationError as error:
        return Status(422, {"detail": "the entry breaks a rule", "errors": _field_problems(error)})
    except StudyLocked:
        return Status(
            422, {"detail": STUDY_CLOSED, "errors": [{"field": "study", "message": STUDY_CLOSED}]}
        )
    return Status(201 if recorded.created else 200, _entry(recorded.entry))


@api.get(
    "/diary/entries",
    response={200: list[EntryOut], **NEEDS_TOKEN},
    summary="Her own entries, every version",
)
def list_entries(request: HttpRequest, response: HttpResponse):
    response["Cache-Control"] = "no-store"
    entries = DiaryEntry.objects.filter(participant=_her(request)).order_by(
        "diary_date", "version"
    )
    return [_entry(entry) for entry in entries]


def _entry(entry: DiaryEntry) -> dict[str, Any]:
    return {
        "client_id": entry.client_id,
        "diary_date": entry.diary_date,
        "version": entry.version,
        "recorded_at": entry.recorded_at.astimezone(UTC),
        "recorded_offset_minutes": entry.recorded_offset_minutes,
        "received_at": entry.received_at.astimezone(UTC),
        "items": entry.items,
        "side_effects": entry.side_effects,
        "late": entry.late,
        "lateness_hours": entry.lateness_hours,
    }


def _zone(person) -> ZoneInfo:
    return ZoneInfo(person.timezone)
