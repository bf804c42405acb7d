"""Every write made while serving a request is recorded as the signed-in user's (AUD-2)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ldntrial.web.audit.tracking import acting_as, actor_for


class AuditActorMiddleware:
    """Wraps the view in :func:`acting_as` for the user; a form field ``reason`` is the reason."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.get_response(request)
        reason = request.POST.get("reason", "") if request.method == "POST" else ""
        with acting_as(actor_for(request.user), reason=reason):
            return self.get_response(request)
