"""The diary's evening rush (`make bench`): entries per second through gunicorn, p50 and p99.

For SQLite and for PostgreSQL (when one answers at ``PG_TEST_URL``): a fresh
database of 200 participants with device tokens, `ldntrial serve` on
loopback, and wrk (Debian's package) holding 200 connections that each send
new entries (a new id each time, a random participant) for 15 seconds, as
fast as the site answers: its capacity. Then entries offered at 300 a
second for 15 seconds, arriving as a Poisson stream whatever the answers
(an open loop in asyncio, each entry on its own connection as a phone sends
it; wrk's paced mode opens the connection first and then waits, which holds
gunicorn's sync workers idle), each latency counted from when the entry was
due, so a queue shows in full: the latency a participant sees on a busy
evening below capacity. The same at half the capacity just measured, so that
the tail can be compared between days when this shared machine runs at
different speeds (on a slow day 300/s is beyond what it can answer).
Beside it, in the same run, two baselines: the raw INSERT rate of the same
database (one connection inserting rows of the same size, each its own
committed transaction, which is what one durable entry at least costs), and
the same server answering the same POST with no token (a 401 before any
database work), which is what Django, django-ninja and gunicorn cost alone on
this machine: no entry can be stored faster than that.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.live_diary import free_port, prepare, serving, site_env

PARTICIPANTS, CONNECTIONS, SECONDS = 200, 200, 15
GOAL = "on PostgreSQL at least 500/s, and p99 under 100 ms at 300/s offered"
OFFERED = 300  # entries a second, for the paced run
INSERTS = 3000

NO_TOKEN_LUA = """
wrk.method = "POST"
wrk.path = "/api/v1/diary/entries"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"client_id":"00000000-0000-4000-8000-000000000000"}'
"""

# Each thread counts the answers that are not the expected status (a retry answered 200
# is not a new entry); done() adds them to wrk's socket errors. ``id`` is a global of each
# thread's Lua state, set by setup() in the main one (a local would be 0 in every thread,
# and the threads would send the same entries).
DONE = """
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
unexpected = 0
function response(status, headers, body)
  if status ~= %(expected)d then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local e, wrong = summary.errors, 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("unexpected") end
  io.write(string.format("RESULT %%d %%f %%f %%f %%d\\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + wrong))
end
"""

LUA = """
local tokens = {%(tokens)s}
local counter = 0
function init(args) math.randomseed(id * 7919) end
function request()
  counter = counter + 1
  local body = '{"client_id":"' .. string.format("%%08x-%(run)s-4000-8000-%%012x", id, counter) ..
    '","diary_date":"%(day)s","recorded_at":"%(at)s","items":{"pain":60,"fatigue":50,' ..
    '"sleep_quality":40,"mood":50,"satisfaction":45,"symptoms":55},"side_effects":[]}'
  return wrk.format("POST", "/api/v1/diary/entries", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}, body)
end
"""


def main() -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: the diary load is skipped (apt-get install wrk)")
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="ldntrial-load-") as folder:
        rows += _measure("SQLite (WAL)", Path(folder) / "sqlite", None)
        postgres = _fresh_postgres()
        if postgres is None:
            print("no PostgreSQL answers at PG_TEST_URL: the PostgreSQL rows are skipped")
        else:
            url, drop = postgres
            try:
                rows += _measure("PostgreSQL", Path(folder) / "pg", url)
            finally:
                drop()
    print(f"\nDiary load: {CONNECTIONS} connections on loopback for {SECONDS} s, "
          f"{PARTICIPANTS} participants, gunicorn with 2 processes ({GOAL})\n")  # fmt: skip
    columns = ["database", "request", "offered", "per second", "p50 ms", "p99 ms", "errors"]
    print("| " + " | ".join([*columns, "raw INSERT/s"]) + " |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _measure(name: str, data_dir: Path, database_url: str | None) -> list[list[str]]:
    """Four rows of the table: new entries at capacity, then paced at 300/s and at half the
    capacity, then the same POST with no token (the ceiling)."""
    env = site_env(data_dir, database_url)
    tokens, zone, today = prepare(env, PARTICIPANTS)
    at = (datetime.now(ZoneInfo(zone)) - timedelta(minutes=1)).isoformat(timespec="seconds")

    def entries() -> str:  # each run its own client ids: new entries, not replays
        quoted = ",".join(f'"{t}"' for t in tokens)
        return LUA % {"tokens": quoted, "run": secrets.token_hex(2), "day": today, "at": at}

    port = free_port()
    with serving(env, port):
        capacity, stored = _wrk(data_dir / "entries.lua", entries(), port, expected=201)
        _drain(port)
        offered = asyncio.run(_offered(port, tokens, today, at, OFFERED))
        half = round(capacity / 2)
        at_half = asyncio.run(_offered(port, tokens, today, at, half))
        refused = _wrk(data_dir / "no_token.lua", NO_TOKEN_LUA, port, expected=401)[1]
    raw = f"{_raw_insert_rate(data_dir, database_url):,.0f}"
    return [
        [name, "new entry: 201", "all it takes", *stored, raw],
        [name, "new entry: 201", f"{OFFERED}/s", *offered, ""],
        [name, "new entry: 201", f"{half}/s (half of capacity)", *at_half, ""],
        [name, "no token: 401", "all it takes", *refused, ""],
    ]


def _wrk(script: Path, lua: str, port: int, *, expected: int) -> tuple[float, list[str]]:
    """wrk's run of ``lua``: answers per second, and as table cells that rate, p50 and p99
    (ms) and the unexpected answers."""
    script.write_text(lua + DONE % {"expected": expected})
    run = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"RESULT (\d+) ([\d.]+) ([\d.]+) ([\d.]+) (-?\d+)", run.stdout)
    requests, seconds, p50, p99, errors = found.groups()
    rate = int(requests) / float(seconds)
    return rate, [f"{rate:,.0f}", f"{float(p50):.1f}", f"{float(p99):.1f}", errors]


def _drain(port: int) -> None:
    """Return once the site has answered what wrk left queued.

    wrk stops with a request waiting on each of its connections; gunicorn still answers
    them (up to one per connection: a third of a second's work at 600/s, a second's on a
    slow day), and a run started at once would count that queue as its own latency.
    Connections are accepted in the order they arrive, so a probe's answer means every
    earlier request has been taken up; a second probe waits out the one the other worker
    may still hold.
    """
    for _probe in range(2):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/api/v1/diary/entries", body=b"{}",
                               headers={"Content-Type": "application/json"})  # fmt: skip
            connection.getresponse().read()
        finally:
            connection.close()


async def _offered(port: int, tokens: list[str], day: str, at: str, rate: int) -> list[str]:
    """Entries arriving at ``rate`` a second (Poisson) for ``SECONDS``: table cells of
    the rate stored, p50 and p99 latency from when each was due (ms), and the failures."""
    rng = random.Random(20261204)
    loop = asyncio.get_running_loop()
    due, start, results = 0.0, loop.time() + 0.5, []
    arrivals = []
    while (due := due + rng.expovariate(rate)) < SECONDS:
        arrivals.append(due)

    async def send(number: int, when: float) -> None:
        await asyncio.sleep(max(0.0, start + when - loop.time()))
        body = json.dumps(
            {"client_id": str(uuid.uuid4()), "diary_date": day, "recorded_at": at,
             "items": {"pain": 60, "fatigue": 50, "sleep_quality": 40, "mood": 50,
                       "satisfaction": 45, "symptoms": 55}, "side_effects": []}
        )  # fmt: skip
        head = (
            "POST /api/v1/diary/entries HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {tokens[number % len(tokens)]}\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        status = 0
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write((head + body).encode())
            status_line = await asyncio.wait_for(reader.readline(), 30)
            await reader.read()
            writer.close()
            status = int(status_line.split()[1])
        except (OSError, TimeoutError, ValueError, IndexError):
            pass
        results.append((loop.time() - (start + when), status))

    await asyncio.gather(*(send(k, when) for k, when in enumerate(arrivals)))
    latencies = sorted(seconds for seconds, status in results if status == 201)
    failed = sum(status != 201 for _seconds, status in results)
    p50, p99 = (1000 * latencies[int(q * (len(latencies) - 1))] for q in (0.5, 0.99))
    return [f"{len(latencies) / SECONDS:,.0f}", f"{p50:.1f}", f"{p99:.1f}", str(failed)]


def _raw_insert_rate(data_dir: Path, database_url: str | None) -> float:
    """Rows per second, one committed INSERT each, on one connection to the same database."""
    row = ("x" * 36, "2026-12-01", json.dumps({"pain": 60, "fatigue": 50, "mood": 50}), "y" * 64)
    create = "CREATE TABLE bench_raw (id TEXT, day TEXT, items TEXT, fingerprint TEXT)"
    if database_url is None:
        connection = sqlite3.connect(data_dir / "ldntrial.sqlite3", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # as the site runs it
        connection.execute(create)
        start = time.perf_counter()
        for _ in range(INSERTS):
            connection.execute(
                "INSERT INTO bench_raw VALUES (?, ?, ?, ?)", (str(uuid.uuid4()), *row[1:])
            )
        elapsed = time.perf_counter() - start
        connection.close()
        return INSERTS / elapsed
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(create)
        start = time.perf_counter()
        for _ in range(INSERTS):
            connection.execute(
                "INSERT INTO bench_raw VALUES (%s, %s, %s, %s)", (str(uuid.uuid4()), *row[1:])
            )
        return INSERTS / (time.perf_counter() - start)


def _fresh_postgres():  # type: ignore[no-untyped-def]
    url = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/ldntrial")
    try:
        import psycopg

        server = url.rsplit("/", 1)[0]
        name = f"ldntrial_load_{secrets.token_hex(4)}"
        with psycopg.connect(server + "/postgres", autocommit=True, connect_timeout=3) as c:
            c.execute(f"CREATE DATABASE {name}")
    except Exception:
        return None

    def drop() -> None:
        with psycopg.connect(server + "/postgres", autocommit=True) as c:
            c.execute(f"DROP DATABASE {name} WITH (FORCE)")

    return f"{server}/{name}", drop


if __name__ == "__main__":
    main()
