"""The server is killed with SIGKILL while phones send entries, and started again.

Every entry the server acknowledged (201, or 200 for a retry) must be in the
database afterwards, and the phones' retries, which resend the same entry
with the same id until it is acknowledged, must store nothing twice. Runs
on SQLite (a file in its own folder) and, when the suite runs on
PostgreSQL, on a fresh PostgreSQL database.
"""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from .live_diary import LDNTRIAL, Entry, free_port, post, prepare, site_env, start, stop

PHONES, ENTRIES_EACH, KILL_AFTER = 12, 10, 40


@pytest.fixture
def database_url():  # type: ignore[no-untyped-def]
    """None for SQLite; else a fresh PostgreSQL database beside the suite's, dropped after."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield None
        return
    import psycopg

    name = f"ldntrial_crash_{uuid.uuid4().hex[:8]}"
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    yield url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _stored_client_ids(env: dict[str, str], data_dir: Path, database_url: str | None) -> list:
    sql = "SELECT client_id FROM diary_diaryentry"
    if database_url is None:
        with sqlite3.connect(data_dir / "ldntrial.sqlite3") as connection:
            return [str(uuid.UUID(row[0])) for row in connection.execute(sql)]
    import psycopg

    with psycopg.connect(database_url) as connection:
        return [str(row[0]) for row in connection.execute(sql)]


def test_every_acknowledged_entry_survives_a_kill_and_retries_store_nothing_twice(
    tmp_path: Path, database_url
) -> None:
    env = site_env(tmp_path, database_url)
    tokens, zone, today = prepare(env, PHONES)
    port = free_port()
    server = start(env, port)
    acknowledged: list[str] = []
    resent: list[str] = []  # entries sent again after the connection broke
    lock = threading.Lock()
    problems: list[str] = []

    def phone(token: str, number: int) -> None:
        entries = [Entry.make(token, today, zone, pain=10 + k) for k in range(ENTRIES_EACH)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for entry in entries:
            while True:  # a phone resends the same entry until the server acknowledges it
                try:
                    status = post(connection, entry)
                except (OSError, http.client.HTTPException):  # the server died mid-answer
                    resent.append(entry.client_id)
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    time.sleep(0.1)
                    continue
                if status in (200, 201):
                    with lock:
                        acknowledged.append(entry.client_id)
                    break
                if status >= 500:
                    time.sleep(0.1)
                    continue
                problems.append(f"phone {number}: {status}")
                break
        connection.close()

    phones = [threading.Thread(target=phone, args=(t, k)) for k, t in enumerate(tokens)]
    for thread in phones:
        thread.start()
    while len(acknowledged) < KILL_AFTER:
        time.sleep(0.01)
    os.killpg(server.pid, signal.SIGKILL)  # no warning, no clean shutdown
    server.wait(timeout=30)
    killed_at = len(acknowledged)
    time.sleep(0.5)
    server = start(env, port)
    try:
        for thread in phones:
            thread.join(timeout=120)
    finally:
        stop(server)
    assert problems == []
    assert killed_at < PHONES * ENTRIES_EACH and resent  # the kill came mid-way, phones resent
    stored = _stored_client_ids(env, tmp_path, database_url)
    assert set(acknowledged) <= set(stored)  # nothing acknowledged was lost
    assert len(stored) == len(set(stored)) == PHONES * ENTRIES_EACH  # nothing stored twice
    verified = subprocess.run(
        [*LDNTRIAL, "manage", "verify_audit"], env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0 and "audit trail intact" in verified.stdout
