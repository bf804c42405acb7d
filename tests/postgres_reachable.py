"""Exit 0 when the PostgreSQL server of DATABASE_URL-style argv[1] accepts a connection.

`make test` uses it to decide whether the database tests run a second time on
PostgreSQL; under CI (CI=true) an unreachable server is a failure, never a skip.
"""

from __future__ import annotations

import sys

import dj_database_url
import psycopg


def main() -> int:
    settings = dj_database_url.parse(sys.argv[1])
    try:
        psycopg.connect(
            dbname="postgres",
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        print(f"PostgreSQL at {sys.argv[1]} is not reachable: {error}".strip(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
