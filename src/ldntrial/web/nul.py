"""Requests carrying a NUL character are refused before any view reads them.

No text column holds a NUL on PostgreSQL (SQLite stores it, quietly), so a
NUL in an address, a query or a form would reach the database only to fail
there with a 500. Django's form fields refuse it already; this covers what
a view reads without a form (a participant code in the path, a page number).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

__all__ = ["RefuseNulMiddleware"]


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            return HttpResponseBadRequest(
                "A NUL character (%00) is not allowed in an address.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
