"""The worker's entry point (web/wsgi.py): ready to answer, start-up kept out of collections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WORKER = """
import gc, json, sys
import ldntrial.web.wsgi
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "collected_over": len(gc.get_objects()),
    "views_imported": "ldntrial.web.participant_api" in sys.modules,
}))
"""


def test_a_worker_imports_every_view_and_freezes_start_up_before_its_first_request(
    tmp_path: Path,
) -> None:
    """A full collection would otherwise walk the ~290,000 objects start-up made (a pause of
    about 150 ms on a slow 2-core machine, in the middle of someone's request), and the first
    request would pay for importing the views."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LDNTRIAL_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env["LDNTRIAL_DATA_DIR"] = str(tmp_path)
    worker = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, check=True
    )
    state = json.loads(worker.stdout)
    assert state["views_imported"]
    assert state["frozen"] > 100_000
    assert state["collected_over"] < 0.05 * state["frozen"]
