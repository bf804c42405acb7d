"""Her diary page: one shell the phone keeps (service worker), which talks to the API.

``/diary/`` is the page; her personal link opens it as ``/diary/#code=<code>``,
and its script trades the code and drops it from the address (the code is
never sent to the server, never stays in the address bar or history, and is
never sent as a referrer: standards.md D3). ``/diary/sw.js`` keeps the page, its script and
style on the phone so it opens with no connection; it never keeps API answers.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from ldntrial.web.diary.strings import page_strings

# What the service worker keeps: the page and what it loads.
SHELL = ("diary/app.js", "diary/app.css")


@require_GET
def diary_page(request: HttpRequest) -> HttpResponse:
    response = render(
        request, "diary/page.html", {"strings": json.dumps(page_strings(), ensure_ascii=False)}
    )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    shell = ["/diary/", *(static(path) for path in SHELL)]
    response = render(
        request,
        "diary/sw.js",
        {"shell": json.dumps(shell), "version": json.dumps("-".join(shell))},
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/diary/"
    return response
