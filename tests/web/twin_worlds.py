"""Twin worlds: one study run twice, the allocation swapped, all a role sees compared.

A blinding test that flips allocations with SQL sees only what reads the
allocation at request time; it misses what the site's own actions leave
behind (audit entries, kits, counts, emails, exports). Here a study is run
through the site's real actions twice, in one database, with the clock
frozen and every random draw fixed, and the two runs differ in one thing
only: the allocation list the pharmacist uploads (world A gives the first
woman LDN first, world B placebo first). Then every role is let loose on
each world (:func:`crawl` follows every link and downloads every export) and
what she saw must be byte-for-byte the same, except for what a test names
as the one allowed difference (an unblinding's own answer).

Each world runs inside a savepoint that is rolled back, and the id
sequences are set back, so world B gets the same primary keys as world A.
"""

from __future__ import annotations

import difflib
import io
import itertools
import json
import logging
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import Client

__all__ = ["Observation", "World", "crawl", "differences", "run_world"]

# Links a crawl does not follow: signing out ends the walk, static files are the same code.
_NOT_FOLLOWED = re.compile(r"^/(accounts/logout|static/|admin/)")
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@dataclass
class Observation:
    """What one visitor got for one request: status, content type and body (or zip members)."""

    status: int
    content_type: str
    body: bytes | dict[str, bytes]


@dataclass
class World:
    """Everything observable after a world ran: what each visitor saw, emails, log lines."""

    seen: dict[str, Observation] = field(default_factory=dict)
    mail: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)

    def see(self, key: str, response: Any) -> Observation:
        """Record ``response`` under ``key`` (who and what), zip members read one by one."""
        body = b"".join(response.streaming_content) if response.streaming else response.content
        kind = response.get("Content-Type", "")
        observed: bytes | dict[str, bytes]
        if kind.startswith("application/zip"):
            # A zip's own bytes carry the files' modification times; its members are the data.
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                observed = {
                    name: _as_written(name, archive.read(name))
                    for name in sorted(archive.namelist())
                }
        else:
            observed = _CSRF.sub(b"", body)
        self.seen[key] = Observation(response.status_code, kind, observed)
        return self.seen[key]


# Stata, SPSS and SAS files carry the moment they were written (readstat reads the C
# clock, which no Python clock can freeze); they are compared by what they hold.
_STAMPED = (".dta", ".sav", ".xpt")


def _as_written(name: str, data: bytes) -> bytes:
    """A member's bytes, or for a time-stamped file its data and labels, read back."""
    if name.endswith(_STAMPED):
        import pyreadstat

        with tempfile.NamedTemporaryFile(suffix=name[-4:]) as file:
            file.write(data)
            file.flush()
            read = {".dta": pyreadstat.read_dta, ".sav": pyreadstat.read_sav}
            frame, meta = read.get(name[-4:], pyreadstat.read_xport)(file.name)
        labels = [meta.file_label, meta.column_names_to_labels, meta.variable_value_labels]
        return frame.to_csv(index=False).encode() + repr(labels).encode()
    if name == "export.json":
        description = json.loads(data)
        for file in description.get("sha256", {}):
            if file.endswith(_STAMPED):
                description["sha256"][file] = "<checksum of a time-stamped file>"
        return json.dumps(description, sort_keys=True).encode()
    return data


class _Deterministic:
    """Stands in for :mod:`secrets` where the site draws codes: the same draws in every world.

    Every random draw of the site is fixed this way (diary codes, kit codes, the
    second factor's key); a new one shows up as a difference between the worlds.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def token_urlsafe(self, nbytes: int = 32) -> str:
        return f"twin-world-code-{next(self._counter):04d}".ljust(nbytes + 11, "x")


# The site's loggers: what an operator's log file would hold.
_LOGGERS = ("ldntrial", "django", "axes")


@contextmanager
def _logs_into(lines: list[str]) -> Iterator[None]:
    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.name} {record.levelname} {record.getMessage()}")

    handler = Keep(level=logging.INFO)
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def _reset_id_sequences() -> None:
    """Next ids = highest id + 1 in every table, so both worlds number their rows alike.

    SQLite rolls its AUTOINCREMENT counters back with the savepoint;
    PostgreSQL's sequences do not roll back and are set here.
    """
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def run_world(script: Callable[..., None], start: datetime, **choices: Any) -> World:
    """Run ``script(world, clock)`` from ``start`` inside a savepoint, then roll it all back.

    ``choices`` are passed on to the script (the allocation that makes the
    two worlds differ). The clock does not tick by itself; the
    script moves it. Mail is caught, log lines kept, and callbacks run on commit.
    """
    from django_otp.plugins.otp_totp import models as totp

    from ldntrial.web.diary import links
    from ldntrial.web.trial import pharmacy

    world = World()
    real_prepare = pharmacy.prepare_kits
    cache.clear()
    mail.outbox = []
    _reset_id_sequences()
    savepoint = transaction.savepoint()
    try:
        with (
            pytest.MonkeyPatch.context() as patch,
            time_machine.travel(start, tick=False) as clock,
            _logs_into(world.logs),
        ):
            patch.setattr(links, "secrets", _Deterministic())
            patch.setattr(totp, "random_hex", lambda length=20: "ab" * length)
            patch.setattr(
                pharmacy,
                "prepare_kits",
                lambda protocol, allocations: real_prepare(protocol, allocations, seed=7),
            )
            script(world, clock, **choices)
        world.mail = [
            f"To: {', '.join(sorted(m.to))}\nSubject: {m.subject}\n\n{m.body}" for m in mail.outbox
        ]
    finally:
        transaction.savepoint_rollback(savepoint)
        _reset_id_sequences()
        cache.clear()
    return world


def crawl(world: World, who: str, client: Client, starts: list[str], limit: int = 400) -> None:
    """GET every page ``client`` can reach from ``starts`` by links, in a fixed order."""
    queue, seen = list(starts), set(starts)
    while queue:
        url = queue.pop(0)
        observed = world.see(f"{who} GET {url}", client.get(url))
        if isinstance(observed.body, dict) or not observed.content_type.startswith("text/html"):
            continue
        for link in re.findall(rb'href="([^"#]+)', observed.body):
            target = link.decode().replace("&amp;", "&")
            if target.startswith("/") and not _NOT_FOLLOWED.match(target) and target not in seen:
                seen.add(target)
                queue.append(target)
        assert len(seen) <= limit, f"{who}: more than {limit} pages; is a link endless?"


def differences(first: World, second: World, *, allowed: set[str] = frozenset()) -> list[str]:
    """Every difference between two worlds, as readable diffs; ``allowed`` keys are skipped."""
    found = []
    keys = sorted(set(first.seen) | set(second.seen))
    for key in keys:
        if key in allowed:
            continue
        a, b = first.seen.get(key), second.seen.get(key)
        if a is None or b is None:
            found.append(f"{key}: seen in only one world")
        elif a != b:
            found.append(f"{key}:\n{_diff(a, b)}")
    for name, a_lines, b_lines in (
        ("mail", first.mail, second.mail),
        ("logs", first.logs, second.logs),
    ):
        if a_lines != b_lines:
            found.append(
                f"{name}:\n" + "\n".join(difflib.unified_diff(a_lines, b_lines, lineterm="", n=0))
            )
    return found


def _diff(a: Observation, b: Observation) -> str:
    if a.status != b.status:
        return f"status {a.status} / {b.status}"
    if isinstance(a.body, dict) and isinstance(b.body, dict):
        members = sorted(set(a.body) | set(b.body))
        return "\n".join(
            f"  member {m}:\n" + _text_diff(a.body.get(m, b""), b.body.get(m, b""))
            for m in members
            if a.body.get(m) != b.body.get(m)
        )
    return _text_diff(a.body, b.body)  # type: ignore[arg-type]


def _text_diff(a: bytes, b: bytes) -> str:
    lines = difflib.unified_diff(
        a.decode(errors="replace").splitlines(),
        b.decode(errors="replace").splitlines(),
        lineterm="",
        n=1,
    )
    return "\n".join(itertools.islice(lines, 40))
