"""The staff dashboard of a study with 1,000 participants (`make bench`).

A crossover-2013 study on SQLite, its participants entered as a site enters
them (screened, enrolled, their diary days sent as entries) from a simulated
trial, 1,000 women recruited over two weeks and a month into the study. The
dashboard is asked for by a signed-in coordinator through Django's test client
(the whole request: middleware, queries, template), best and median of five.
The baseline, measured in the same run, is the dashboard of a study of 50
(one page of participants): pagination should make 1,000 cost about as much.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta

GOAL_SECONDS = 0.3
SIZES = tuple(int(size) for size in os.environ.get("DASHBOARD_SIZES", "50,1000").split(","))
REPEATS = 5


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ldntrial-dashboard-") as folder:
        os.environ["LDNTRIAL_DATA_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "ldntrial.web.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        timings = {size: _time_dashboard(size) for size in SIZES}
    print("\nstaff dashboard (a coordinator's whole request, SQLite)\n")
    print("| study | build (s) | dashboard best (s) | median (s) | ratio to baseline | goal |")
    print("|---|---:|---:|---:|---:|---|")
    baseline = timings[SIZES[0]][1]
    for size, (built, best, median) in timings.items():
        label = f"{size:,} participants" + (" (baseline: one page)" if size == SIZES[0] else "")
        goal = f"< {GOAL_SECONDS:g} s: {'met' if best < GOAL_SECONDS else 'MISSED'}"
        print(
            f"| {label} | {built:.0f} | {best:.3f} | {median:.3f} | {best / baseline:.1f} "
            f"| {goal if size != SIZES[0] else ''} |"
        )


def _time_dashboard(size: int) -> tuple[float, float, float]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    start = time.perf_counter()
    study = _study_of(size)
    built = time.perf_counter() - start
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=f"coordinator-{size}"))
    url = reverse("staff:dashboard", kwargs={"code": study.code})
    seconds = []
    for _ in range(REPEATS + 1):  # the first warms the caches
        start = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - start)
        if response.status_code != 200:
            sys.exit(f"the dashboard answered {response.status_code}")
    return built, min(seconds[1:]), statistics.median(seconds[1:])


def _study_of(size: int):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from ldntrial.protocol.loader import builtin_protocol_text, load_protocol
    from ldntrial.simulate import simulate_trial
    from ldntrial.web.analysis.trial_import import import_trial
    from ldntrial.web.demo import ELIGIBLE  # her age, sex and ESR come from each row
    from ldntrial.web.studies.models import Membership, Site, Study
    from ldntrial.web.studies.roles import Role

    today = timezone.localdate()
    trial = simulate_trial(
        load_protocol("crossover-2013"),
        n=size,
        seed=size,
        start_date=today - timedelta(days=44),
        recruitment_days=14,
        tables=("diary",),
    )
    # The simulator's log-normal ESR has a tail past the 200 mm/h the screening form
    # accepts (about 1 in 1,000 women); such a woman is screened at 200.
    trial.participants["esr_baseline"] = trial.participants["esr_baseline"].clip(upper=200)
    study = Study.objects.create(
        code=f"bench-{size}",
        title=f"Dashboard benchmark, {size} participants",
        protocol_text=builtin_protocol_text("crossover-2013"),
        actor="system:benchmark",
    )
    site = Site.objects.create(study=study, code="site-1", name="Site 1", actor="system:benchmark")
    user = get_user_model().objects.create_user(f"coordinator-{size}", password="x")
    Membership.objects.create(
        user=user, study=study, site=None, role=Role.COORDINATOR, actor="system:benchmark"
    )
    import_trial(
        study,
        trial,
        sites={"site-1": site},
        answers=ELIGIBLE,
        timezone="America/Los_Angeles",
        through=today - timedelta(days=1),
        actor="system:benchmark",
    )
    return study


if __name__ == "__main__":
    main()
