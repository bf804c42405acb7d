"""One page for a patient and her doctor: did LDN lower *her* pain, and how sure can we be?

The answer is :func:`~ldntrial.stats.nof1.answer_for_participant`; this page
puts it first in plain words, then her diary as a picture, the numbers, and
for her doctor the method and its assumptions. It also says what larger
trials found on average, with their sources, because one woman's answer is
read against them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from ldntrial import __version__
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.report import figures
from ldntrial.report.html import render
from ldntrial.report.views import TableView, format_number, interval, result_view
from ldntrial.stats.design import comparison_of
from ldntrial.stats.nof1 import Nof1Answer, Nof1Spec, Verdict, answer_for_participant

__all__ = ["render_participant_report"]

HEADLINES = {
    Verdict.HELPED: "LDN probably helped you by an amount that matters.",
    Verdict.NOT_MEANINGFUL: "LDN probably did not help you by an amount that matters.",
    Verdict.CANNOT_TELL: "We cannot tell yet whether LDN helps you.",
}

EVIDENCE = (
    "What larger trials found on average: in the Stanford crossover (Younger et al., "
    "Arthritis Rheum 2013;65:529-538) pain fell 28.8 % on LDN and 18.0 % on placebo. Two "
    "later Danish trials found no benefit on pain: FINAL (Bruun et al., Lancet Rheumatol "
    "2024;6:e31-e39; 99 women, 6 mg for 12 weeks; difference -0.34 points on a 0-10 scale, "
    "95 % CI -0.95 to 0.27) and a crossover of 58 women (Bested et al., PAIN Reports "
    "2023;8:e1080; no clinically relevant effect on pain). An average can hide women who "
    "benefit and women who do not; a personal trial asks which you are."
)


def render_participant_report(
    trial: TrialData, participant_id: str, *, spec: Nof1Spec | None = None
) -> str:
    """The page for ``participant_id`` as one self-contained HTML document."""
    if participant_id not in set(trial.participants["participant_id"].astype(str)):
        raise AnalysisError(f"--participant: no participant '{participant_id}' in this trial")
    spec = spec or Nof1Spec()
    protocol = trial.protocol
    answer = answer_for_participant(trial, participant_id, spec)
    item = protocol.endpoints.primary_item
    diary = trial.diary
    mine = diary[(diary["participant_id"] == participant_id) & (diary["item"] == item)]
    labels = {key: c.label or key for key, c in protocol.conditions.items()}
    kinds = {key: str(c.kind) for key, c in protocol.conditions.items()}
    course = figures.personal_course_figure(
        mine, set(answer.days["study_day"]), labels, kinds, item
    )
    caption = (
        f"Your daily {item} ratings. Filled dots are the days compared; hollow dots are the "
        f"first {spec.run_in_days} days of each block (LDN needs time to start and stop "
        "working) and days with no capsules."
    )
    dates = mine["date"]
    return render(
        "participant.html.j2",
        title=f"Your LDN trial: {participant_id}",
        participant_id=participant_id,
        protocol=protocol,
        period=(
            f"{dates.min():%d %b %Y} to {dates.max():%d %b %Y}" if len(dates) else "no diary yet"
        ),
        headline=HEADLINES[answer.verdict],
        paragraph=answer.paragraph,
        course=figures.embed(course, caption),
        numbers=_numbers(answer, spec, item, comparison_of(protocol).comparator_label),
        details=result_view("nof1", answer.result),
        evidence=EVIDENCE,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def _numbers(answer: Nof1Answer, spec: Nof1Spec, item: str, comparator: str) -> TableView:
    values = answer.result.values
    estimates = answer.result.estimates
    condition = estimates[estimates["term"].str.startswith("condition[")]
    rows = [
        ["Days compared on LDN", format_number(values.get("days_on_treatment"))],
        [f"Days compared on {comparator}", format_number(values.get("days_on_comparator"))],
    ]
    if len(condition):
        row = condition.iloc[0]
        rows += [
            [f"Average {item} on LDN", format_number(values["treatment_mean"], 0)],
            [f"Average {item} on {comparator}", format_number(values["comparator_mean"], 0)],
            [f"Difference (LDN minus {comparator})", format_number(row["estimate"], 1)],
            ["95 % interval of the difference", interval(row["ci_lower"], row["ci_upper"], 1)],
            [
                f"Chance of at least {spec.meaningful_points:g} points better on LDN",
                _percent(answer.probability_meaningful),
            ],
            [
                f"Chance of at least {spec.meaningful_percent:g} % better on LDN",
                _percent(answer.probability_percent),
            ],
        ]
    return TableView(["", ""], rows, row_headers=True)


def _percent(probability: float) -> str:
    return "-" if not math.isfinite(probability) else f"{probability:.0%}"
