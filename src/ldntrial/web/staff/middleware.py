"""The reason typed on a form is the reason of the writes its request makes (AUD-9).

Who acts is not set here: each view passes ``actor_for(request.user)`` to the
action it calls (issue 17), so no write is credited to a person by being near
her request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ldntrial.web.audit.tracking import because


class AuditReasonMiddleware:
    """Wraps the view in :func:`because` with the form field ``reason`` of a POST."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:  # a participant's diary posts no reasons
            return self.get_response(request)
        reason = request.POST.get("reason", "") if request.method == "POST" else ""
        with because(reason):
            return self.get_response(request)
