"""The participant API attacked with schemathesis from its own published OpenAPI document.

Every operation is sent cases generated from the document (valid and not),
without a token and with her live device token. No case may get a server
error, and every answer must be one the document lists, in the media type
and shape it promises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from ldntrial.web.trial.models import Participant

from .test_diary_api import _device, recent  # noqa: F401  (the fixture, and her phone)

pytestmark = pytest.mark.django_db

CASES_PER_OPERATION = 60  # per operation, token (none, hers) and mode (valid, invalid)


@contextmanager
def _the_site() -> Iterator[Any]:
    """The site's WSGI application, kept from closing the test's database connection.

    A real request ends by closing old connections; inside a test that would
    close the transaction the test runs in (Django's own test client does the same).
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(
    recent: Participant,  # noqa: F811
) -> None:
    token = _device(recent).defaults["HTTP_AUTHORIZATION"]
    sent: Counter[int] = Counter()
    with _the_site() as site:
        _fuzz(schemathesis.openapi.from_wsgi("/api/v1/openapi.json", site), token, sent)
    print(f"fuzzed {sum(sent.values())} requests; answers by status: {dict(sorted(sent.items()))}")
    assert sum(sent.values()) >= 1000, sent
    assert not [status for status in sent if status >= 500]


def _fuzz(schema, token: str, sent: Counter[int]) -> None:  # type: ignore[no-untyped-def]
    for result in schema.get_all_operations():
        operation = result.ok()
        for authorization in (None, token):
            for mode in GenerationMode:  # cases the document allows, and cases it refuses
                _fuzz_operation(operation, authorization, mode, sent)


def _fuzz_operation(operation, authorization: str | None, mode, sent: Counter[int]) -> None:  # type: ignore[no-untyped-def]
    """Send one operation its generated cases, with this Authorization header or none."""
    headers = {"Authorization": authorization} if authorization else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case) -> None:  # type: ignore[no-untyped-def]
        if not authorization and case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(headers=headers)
        sent[response.status_code] += 1
        assert response.status_code < 500, (case.path, case.body, response.text[:300])
        # A schema cannot say "recorded in that day's window": a valid-looking entry may
        # still break a rule, and a 422 naming it is the right answer (not a failure).
        case.validate_response(
            response,
            headers=headers,
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )

    fuzz()
