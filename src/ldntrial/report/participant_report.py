"""One page for a patient and her doctor: did LDN lower *her* pain, and how sure can we be?

The answer is :func:`~ldntrial.stats.nof1.answer_for_participant`; this page
puts it first in short sentences (in English or Spanish, words from
:mod:`ldntrial.report.patient_words`), then her diary as a picture, pain,
fatigue and sleep compared the same way, her chance of a meaningful benefit
under three priors, her side effects beside the trials' rates, what her ESR
does and does not tell, what the trials found together, and for her doctor
the method and its assumptions. Every statement about the trials names its
source; a dose comparison names the two doses instead of LDN and placebo.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.model import Protocol
from ldntrial.report import figures
from ldntrial.report.html import render
from ldntrial.report.patient_words import Words, words_for
from ldntrial.report.views import TableView, result_view
from ldntrial.stats.evidence import synthesise
from ldntrial.stats.nof1 import (
    Nof1Answer,
    Nof1Spec,
    Verdict,
    answer_and_pool,
    answer_for_participant,
)
from ldntrial.version import __version__

__all__ = ["render_participant_report"]

SOURCES = (
    "Younger J et al. Arthritis Rheum 2013;65:529-538; side effects from the AAPM 2012 "
    "abstract of the same trial (Pain Med 2012;13(2), abstract 251).",
    "Bruun KD et al. Lancet Rheumatol 2024;6:e31-e39 (FINAL).",
    "Younger J, Mackey S. Pain Med 2009;10:663-672 (the pilot; ESR).",
    "The pooled trials: the evidence table shipped with ldntrial (ldntrial evidence).",
)


def render_participant_report(
    trial: TrialData,
    participant_id: str,
    *,
    spec: Nof1Spec | None = None,
    language: str = "en",
) -> str:
    """The page for ``participant_id`` as one self-contained HTML document, in ``language``."""
    if participant_id not in set(trial.participants["participant_id"].astype(str)):
        raise AnalysisError(f"--participant: no participant '{participant_id}' in this trial")
    words = words_for(language)
    spec = spec or Nof1Spec()
    protocol = trial.protocol
    item = protocol.endpoints.primary_item
    answer = answer_for_participant(trial, participant_id, spec)
    names = _names(words, protocol)
    diary = trial.diary
    mine = diary[(diary["participant_id"] == participant_id) & (diary["item"] == item)]
    kinds = {key: str(c.kind) for key, c in protocol.conditions.items()}
    labels = {
        key: words.kind_labels.get(kinds[key], c.label or key)
        for key, c in protocol.conditions.items()
    }
    course = figures.personal_course_figure(
        mine,
        set(answer.days["study_day"]),
        labels,
        kinds,
        item,
        axis_labels=(words.axis_day, words.axis_rating.format(item=_item_word(words, item))),
    )
    caption = words.figure_caption.format(item=_item_word(words, item), run_in=spec.run_in_days)
    dates = mine["date"]
    return render(
        "participant.html.j2",
        w=words,
        title=words.title.format(participant_id),
        participant_id=participant_id,
        protocol=protocol,
        period=(f"{dates.min():%Y-%m-%d} - {dates.max():%Y-%m-%d}" if len(dates) else "-"),
        headline=_headline(words, answer, names),
        plain=_plain_lines(words, answer, spec, item, names),
        course=figures.embed(course, caption),
        items=_items_table(words, trial, participant_id, spec, names),
        chances=_chances_table(words, answer, spec),
        pooled=_pooled_line(words, trial, participant_id, spec),
        side_effects=_side_effects_table(words, trial, participant_id, names),
        esr=_esr_line(words, trial, participant_id),
        evidence=_evidence_line(words),
        sources=SOURCES,
        details=result_view("nof1", answer.result),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )


def _item_word(words: Words, item: str) -> str:
    return words.item_names.get(item, item.replace("_", " "))


def _names(words: Words, protocol: Protocol) -> dict[str, str]:
    """How the compared conditions read: LDN and placebo, or the two doses by their labels."""
    comparison = protocol.comparison
    if comparison.dose_comparison:
        named = {key: c.label or key for key, c in protocol.conditions.items()}
        comparator = named[str(comparison.comparator)]
        return {
            "treatment": named[comparison.treatment],
            "comparator": comparator,
            "more": words.more_than.format(comparator=comparator),
        }
    label = comparison.comparator_label
    return {
        "treatment": words.condition_names["ldn"],
        "comparator": words.condition_names.get(label.lower(), label),
        "more": "",
    }


def _headline(words: Words, answer: Nof1Answer, names: dict[str, str]) -> str:
    sentence = {
        Verdict.HELPED: words.helped,
        Verdict.NOT_MEANINGFUL: words.not_meaningful,
        Verdict.CANNOT_TELL: words.cannot_tell,
    }[answer.verdict]
    return _capitalised(sentence.format(**names))


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _points(value: float) -> str:
    return f"{value:+.0f}".replace("-", "\u2212")


def _plain_lines(
    words: Words, answer: Nof1Answer, spec: Nof1Spec, item: str, names: dict[str, str]
) -> list[str]:
    """Her answer in short sentences: the numbers, the chance, the chance with the trials."""
    values = answer.result.values
    if not len(answer.result.estimates):
        return [
            words.too_few_days.format(
                on=values.get("days_on_treatment", 0),
                off=values.get("days_on_comparator", 0),
                needed=spec.min_days_per_condition,
                **names,
            ),
            words.not_a_prescription,
        ]
    row = answer.result.estimates.iloc[0]
    lines = [
        words.numbers_line.format(
            item=_item_word(words, item),
            on=f"{values['treatment_mean']:.0f}",
            off=f"{values['comparator_mean']:.0f}",
            difference=_points(row["estimate"]),
            lower=_points(row["ci_lower"]),
            upper=_points(row["ci_upper"]),
            **names,
        ),
        words.chance_line.format(
            item=_item_word(words, item),
            points=f"{spec.meaningful_points:g}",
            chance=f"{answer.probability_meaningful:.0%}",
            **names,
        ),
    ]
    informed = answer.posterior("evidence")
    if informed is not None:
        lines.append(
            words.informed_line.format(
                finding=words.findings[synthesise().pooled.finding],
                chance=f"{informed.probability_meaningful:.0%}",
            )
        )
    lines.append(words.not_a_prescription)
    return lines


def _items_table(
    words: Words, trial: TrialData, participant_id: str, spec: Nof1Spec, names: dict[str, str]
) -> TableView:
    """Every diary item compared the same way: averages, difference and what it means."""
    rows = []
    for diary_item in trial.protocol.diary.items:
        answer = answer_for_participant(trial, participant_id, spec, item=diary_item.id)
        if not len(answer.result.estimates):
            continue
        values, row = answer.result.values, answer.result.estimates.iloc[0]
        sign = 1 if diary_item.higher_is_better else -1
        if row["ci_lower"] * row["ci_upper"] > 0:  # the 95 % interval leaves out no change
            meaning = words.better if sign * row["estimate"] > 0 else words.worse
        else:
            meaning = words.unclear
        meaning = meaning.format(**names)
        rows.append(
            [
                _item_word(words, diary_item.id).capitalize(),
                f"{values['treatment_mean']:.0f}",
                f"{values['comparator_mean']:.0f}",
                f"{_points(row['estimate'])} "
                f"({_points(row['ci_lower'])} / {_points(row['ci_upper'])})",
                meaning,
            ]
        )
    headers = [h.format(**names) for h in words.item_columns]
    return TableView(headers, rows, caption=words.items_intro.format(**names), row_headers=True)


def _chances_table(words: Words, answer: Nof1Answer, spec: Nof1Spec) -> TableView:
    headers = [
        h.format(points=f"{spec.meaningful_points:g}", percent=f"{spec.meaningful_percent:g}")
        for h in words.chance_columns
    ]
    rows = [
        [
            words.prior_names.get(p.prior.name, p.prior.name),
            f"{p.probability_meaningful:.0%}",
            f"{p.probability_percent:.0%}",
        ]
        for p in answer.posteriors
    ]
    return TableView(headers, rows, caption=words.chances_intro, row_headers=True)


def _pooled_line(words: Words, trial: TrialData, participant_id: str, spec: Nof1Spec) -> str:
    """Said only when other patients of the same series finished: her estimate shrunk."""
    if trial.participants["participant_id"].nunique() < 2:
        return ""
    answers, pooled = answer_and_pool(trial, spec)
    with_estimates = [a.participant_id for a in answers if len(a.result.estimates)]
    if pooled is None or participant_id not in with_estimates:
        return ""
    index = with_estimates.index(participant_id)
    own = answers[[a.participant_id for a in answers].index(participant_id)]
    return words.pooled_line.format(
        others=len(with_estimates) - 1,
        own=f"{own.result.estimates.iloc[0]['estimate']:+.1f}".replace("-", "\u2212"),
        shrunk=f"{pooled.values['shrunken'][index]:+.1f}".replace("-", "\u2212"),
    )


def _side_effects_table(
    words: Words, trial: TrialData, participant_id: str, names: dict[str, str]
) -> TableView | None:
    """Her adverse events by the condition she was on when each began (None if she had none)."""
    events = trial.adverse_events
    mine = events[events["participant_id"] == participant_id]
    if mine.empty:
        return None
    kinds = {key: str(c.kind) for key, c in trial.protocol.conditions.items()}
    on = mine.assign(kind=mine["condition"].map(kinds).fillna("none"))
    counts = on.groupby(["term", "kind"]).size()
    rows = []
    for term in sorted(on["term"].unique()):
        rows.append(
            [
                words.side_effect_terms.get(str(term), str(term).replace("_", " ")),
                str(int(counts.get((term, "ldn"), 0))),
                str(int(counts.get((term, "placebo"), 0))),
            ]
        )
    headers = [h.format(**names) for h in words.side_effect_columns]
    return TableView(headers, rows, row_headers=True)


def _esr_line(words: Words, trial: TrialData, participant_id: str) -> str:
    people = trial.participants
    value = people.loc[people["participant_id"] == participant_id, "esr_baseline"]
    if value.empty or not math.isfinite(float(value.iloc[0])):
        return words.esr_unknown
    return words.esr_line.format(esr=f"{float(value.iloc[0]):.0f}")


def _evidence_line(words: Words) -> str:
    pooled = synthesise().pooled
    return words.evidence_line.format(trials=pooled.k, finding=words.findings[pooled.finding])
