"""A real diary site in other processes: a database of participants with tokens, gunicorn, clients.

Shared by the crash test (tests/web/test_diary_crash.py) and the diary load
benchmark (benchmarks/diary_load.py). The site runs exactly as `ldntrial serve`
runs it, on a database of its own (a SQLite file, or a fresh PostgreSQL
database), so killing it harms nothing else.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LDNTRIAL = [sys.executable, "-c", "from ldntrial.cli.main import run; run()"]

PREPARE = r"""
import json, os, sys
from datetime import timedelta
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "ldntrial.web.settings"
django.setup()
from zoneinfo import ZoneInfo
from django.core.management import call_command
from django.utils import timezone
from ldntrial.protocol.eligibility import PAIN_AREAS
from ldntrial.protocol.loader import builtin_protocol_text
from ldntrial.web.diary.links import exchange_link, issue_diary_link
from ldntrial.web.studies.models import Site, Study
from ldntrial.web.trial.enrolment import enrol
from ldntrial.web.trial.pharmacy import generate_allocation
from ldntrial.web.trial.screening import record_screening

n, zone = int(sys.argv[1]), sys.argv[2]
call_command("migrate", verbosity=0)
answers = {
    "age": 45, "sex": "female", "pain_areas": list(PAIN_AREAS[:12]), "fatigue": 3,
    "waking_unrefreshed": 3, "cognitive_symptoms": 2, "somatic_symptoms": 2,
    "headaches": True, "lower_abdominal_pain": False, "depression": False,
    "symptom_months": 24, "esr_mm_h": 22.0,
}
today = timezone.now().astimezone(ZoneInfo(zone)).date()
tokens = []
actor = "system:load"
study = Study.objects.create(
    code="load", title="load", protocol_text=builtin_protocol_text("crossover-2013"), actor=actor
)
site = Site.objects.create(study=study, code="a", name="A", actor=actor)
generate_allocation(study, per_stratum=n, actor=actor)
for _ in range(n):
    screening = record_screening(site, answers, today - timedelta(days=30), actor=actor)
    started = today - timedelta(days=20)
    person = enrol(screening, enrolled_on=started, timezone=zone, actor=actor).participant
    code = issue_diary_link(person, now=timezone.now(), actor=actor)[1]
    tokens.append(exchange_link(code, now=timezone.now())[1])
print(json.dumps({"tokens": tokens, "today": str(today)}))
"""


def evening_zone() -> str:
    """A fixed-offset zone where it is 20:00 to 21:00 now: the diary window is open there."""
    offset = (20 - datetime.now(UTC).hour + 12) % 24 - 12
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


def site_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LDNTRIAL_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["LDNTRIAL_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def prepare(env: dict[str, str], participants: int) -> tuple[list[str], str, str]:
    """Migrate, enrol ``participants`` with a device token each; (tokens, zone, their today)."""
    zone = evening_zone()
    done = subprocess.run(
        [sys.executable, "-c", PREPARE, str(participants), zone],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["tokens"], zone, result["today"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], port: int, *extra: str) -> Iterator[subprocess.Popen]:
    """`ldntrial serve` in a session of its own (so that it can be killed whole)."""
    server = start(env, port, *extra)
    try:
        yield server
    finally:
        stop(server)


def start(env: dict[str, str], port: int, *extra: str) -> subprocess.Popen:
    server = subprocess.Popen(
        [*LDNTRIAL, "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_up(port)
    return server


def stop(server: subprocess.Popen, signal_number: int = 15) -> None:
    try:
        os.killpg(server.pid, signal_number)
    except ProcessLookupError:
        return
    server.wait(timeout=30)


def wait_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise TimeoutError(f"the site did not answer on port {port}")


@dataclass
class Entry:
    """One entry as a phone holds it: the same id and content however often it is sent."""

    token: str
    body: bytes

    @classmethod
    def make(cls, token: str, day: str, zone: str, pain: int) -> Entry:
        from zoneinfo import ZoneInfo

        body = {
            "client_id": str(uuid.uuid4()),
            "diary_date": day,
            "recorded_at": datetime.now(ZoneInfo(zone)).isoformat(),
            "items": {
                "pain": pain,
                "fatigue": 50,
                "sleep_quality": 50,
                "mood": 50,
                "satisfaction": 50,
                "symptoms": 50,
            },
            "side_effects": [],
        }
        return cls(token, json.dumps(body).encode())

    @property
    def client_id(self) -> str:
        return json.loads(self.body)["client_id"]


def post(connection: http.client.HTTPConnection, entry: Entry) -> int:
    """Send one entry on a kept-alive connection; the status, or raises OSError or
    http.client.HTTPException (a connection cut mid-answer)."""
    connection.request(
        "POST",
        "/api/v1/diary/entries",
        body=entry.body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {entry.token}"},
    )
    response = connection.getresponse()
    response.read()
    return response.status
