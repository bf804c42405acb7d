"""Safety, tolerability and blinding: what LDN cost the participants, and whether they could tell.

- Adverse events: per term (and any event), the share of participants
  exposed to a condition who had at least one event starting on it; LDN
  against placebo by the exact McNemar test within participants or Fisher's
  exact test between parallel arms (the 2013 trial: vivid dreams 37 % vs
  13 %, headache 16 % vs 3 %, studies.md §2.4).
- Exposure-adjusted rates: events per participant-week on each condition and
  their LDN / comparator rate ratio, exact conditional on the total (the
  events on LDN are binomial given all events and the two exposures; Clopper-
  Pearson limits turned into limits of the ratio). Incidence alone compared 12
  weeks of LDN with 4 of placebo in 2013 as if they were alike.
- Tolerability: the 0-100 visit rating (100 = perfectly tolerated; 89.2 vs
  89.4 in 2013), averaged per participant and condition, compared by a paired
  (or Welch) t-test.
- Blinding: Bang's blinding index per actual condition, (correct - incorrect
  guesses) / all guesses, "don't know" included (Bang, Ni & Davis, Control
  Clin Trials 2004;25:143-156): 0 is consistent with intact blinding, 1 all
  correct, -1 all wrong; its SE is that of a difference of two multinomial
  shares.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.design import Comparison, Design
from ldntrial.stats.primary import mean_with_ci
from ldntrial.stats.responders import exact_mcnemar, rate_with_ci
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["analyse_blinding", "analyse_safety"]

ANY_EVENT = "any adverse event"


def analyse_safety(trial: TrialData) -> AnalysisResult:
    """Adverse-event incidence and tolerability by condition."""
    comparison = trial.protocol.comparison
    design = trial.protocol.design
    conditions = comparison.conditions
    exposed = {
        c: set(trial.diary.loc[trial.diary["condition"] == c, "participant_id"].unique())
        for c in conditions
    }
    events = trial.adverse_events
    rows = []
    terms = [ANY_EVENT, *sorted(set(events["term"]))]
    for term in terms:
        chosen = events if term == ANY_EVENT else events[events["term"] == term]
        had = {c: set(chosen.loc[chosen["condition"] == c, "participant_id"]) for c in conditions}
        for c in conditions:
            rows.append(rate_with_ci(len(had[c] & exposed[c]), len(exposed[c]), f"{term} [{c}]"))
        if comparison.comparator:
            rows.append(_compare_incidence(term, had, exposed, comparison, design))
    weeks = _exposure_weeks(trial, conditions)
    for term in terms:
        chosen = events if term == ANY_EVENT else events[events["term"] == term]
        rows += _rates(term, chosen, weeks, comparison)
    rows += _tolerability(trial, comparison, design)
    serious = events[events["serious"]]
    return AnalysisResult(
        name="safety",
        title="Adverse events and tolerability",
        n=len(set().union(*exposed.values())),
        definition=(
            "Incidence = participants with at least one event starting while on the "
            "condition / participants exposed to it (a diary day on it); rate = events "
            "starting on the condition / participant-weeks on it (from each participant's "
            "first to last diary day on it); tolerability = mean of the participant's 0-100 "
            "visit ratings on the condition"
        ),
        method=(
            "Clopper-Pearson exact 95 % CIs; LDN vs comparator by exact McNemar test "
            "(within participants) or Fisher's exact test (parallel arms); rates with exact "
            "Poisson CIs and the rate ratio by the exact conditional (binomial) test; "
            "tolerability by paired or Welch t-test"
        ),
        estimates=estimates_frame(rows),
        missing_data="A participant counts as exposed from her first diary day on a "
        "condition; events without a condition at onset (baseline, follow-up) are listed "
        "but not attributed.",
        assumptions=("Events are attributed to the condition taken at onset",),
        tables={
            "events": events,
            "severity": events.groupby(["condition", "severity"])
            .size()
            .rename("events")
            .reset_index(),
        },
        values={"serious_events": len(serious), "events": len(events)},
    )


def _exposure_weeks(trial: TrialData, conditions: list[str]) -> dict[str, float]:
    """Participant-weeks on each condition: first to last diary day on it, per participant."""
    diary = trial.diary[trial.diary["condition"].isin(conditions)]
    spans = diary.groupby(["participant_id", "condition"], observed=True)["study_day"].agg(
        ["min", "max"]
    )
    days = (spans["max"] - spans["min"] + 1).groupby(level="condition", observed=True).sum()
    return {c: float(days.get(c, 0)) / 7 for c in conditions}


def _rates(
    term: str, events: pd.DataFrame, weeks: dict[str, float], comparison: Comparison
) -> list[dict[str, Any]]:
    """Events per participant-week on each condition, and the LDN / comparator rate ratio."""
    counts = {c: int((events["condition"] == c).sum()) for c in weeks}
    rows = []
    for condition, exposure in weeks.items():
        k = counts[condition]
        low = stats.chi2.ppf(0.025, 2 * k) / 2 if k else 0.0
        high = stats.chi2.ppf(0.975, 2 * k + 2) / 2
        rows.append(
            {
                "term": f"{term} per participant-week [{condition}]",
                "estimate": k / exposure if exposure else np.nan,
                "ci_lower": low / exposure if exposure else np.nan,
                "ci_upper": high / exposure if exposure else np.nan,
                "events": k,
                "participant_weeks": exposure,
            }
        )
    treatment, comparator = comparison.treatment, comparison.comparator
    if comparator and weeks[treatment] and weeks[comparator]:
        a, b = counts[treatment], counts[comparator]
        share = weeks[treatment] / (weeks[treatment] + weeks[comparator])
        row = {"term": f"{term} rate ratio [{treatment} / {comparator}]", "events": a + b}
        if a + b:
            test = stats.binomtest(a, a + b, share)
            interval = test.proportion_ci(method="exact")
            scale = weeks[comparator] / weeks[treatment]

            def ratio(p: float) -> float:
                return p / (1 - p) * scale if p < 1 else math.inf

            row.update(
                estimate=ratio(a / (a + b)) if b else math.inf,
                ci_lower=ratio(interval.low),
                ci_upper=ratio(interval.high),
                p_value=float(test.pvalue),
            )
        rows.append(row)
    return rows


def _compare_incidence(
    term: str,
    had: dict[str, set[Any]],
    exposed: dict[str, set[Any]],
    comparison: Comparison,
    design: Design,
) -> dict[str, Any]:
    treatment, comparator = comparison.treatment, str(comparison.comparator)
    label = f"{term} [{treatment} - {comparator}]"
    if design == Design.PARALLEL:
        a, b = had[treatment] & exposed[treatment], had[comparator] & exposed[comparator]
        na, nb = len(exposed[treatment]), len(exposed[comparator])
        table = [[len(a), na - len(a)], [len(b), nb - len(b)]]
        estimate = len(a) / na - len(b) / nb if na and nb else np.nan
        return {
            "term": label,
            "estimate": estimate,
            "p_value": float(stats.fisher_exact(table).pvalue),
            "n": na + nb,
        }
    both = exposed[treatment] & exposed[comparator]
    first_only = len((had[treatment] - had[comparator]) & both)
    second_only = len((had[comparator] - had[treatment]) & both)
    return {
        "term": label,
        "estimate": (first_only - second_only) / len(both) if both else np.nan,
        "p_value": exact_mcnemar(first_only, second_only),
        "n": len(both),
    }


def _tolerability(
    trial: TrialData, comparison: Comparison, design: Design
) -> list[dict[str, Any]]:
    visits = trial.visits[trial.visits["measure"] == "tolerability"]
    if visits.empty:
        return []
    condition = (
        visits["phase"]
        .astype(str)
        .map({phase.name: phase.condition for phase in trial.protocol.phases})
    )
    means = (
        visits.assign(condition=condition)
        .groupby(["participant_id", "condition"], observed=True)["value"]
        .mean()
        .unstack()
    )
    rows = [
        mean_with_ci(means[c].to_numpy(), f"tolerability [{c}]")
        for c in comparison.conditions
        if c in means
    ]
    for row in rows:  # a mean rating is not tested against 0
        row.pop("p_value", None)
        row.pop("wilcoxon_p", None)
    treatment, comparator = comparison.treatment, comparison.comparator
    if comparator and {treatment, comparator} <= set(means.columns):
        if design == Design.PARALLEL:
            a, b = means[treatment].dropna(), means[comparator].dropna()
            test = stats.ttest_ind(a, b, equal_var=False)
            rows.append(
                {
                    "term": f"tolerability [{treatment} - {comparator}]",
                    "estimate": a.mean() - b.mean(),
                    "p_value": float(test.pvalue),
                    "n": len(a) + len(b),
                }
            )
        else:
            pairs = means[[treatment, comparator]].dropna()
            row = mean_with_ci(
                (pairs[treatment] - pairs[comparator]).to_numpy(),
                f"tolerability [{treatment} - {comparator}]",
            )
            row.pop("wilcoxon_p", None)
            rows.append(row)
    return rows


def analyse_blinding(trial: TrialData) -> AnalysisResult | None:
    """Bang's blinding index per actual condition from the end-of-phase guesses."""
    guesses = trial.blinding_guesses
    if guesses.empty:
        return None
    kind = {key: str(c.kind) for key, c in trial.protocol.conditions.items()}
    actual = guesses["phase"].map({phase.name: phase.condition for phase in trial.protocol.phases})
    data = guesses.assign(actual=actual, actual_kind=actual.map(kind))
    rows, counts = [], []
    for condition, group in data.groupby("actual"):
        n = len(group)
        correct = int((group["guess"] == group["actual_kind"]).sum())
        unsure = int((group["guess"] == "dont_know").sum())
        wrong = n - correct - unsure
        p_c, p_w = correct / n, wrong / n
        index = p_c - p_w
        se = math.sqrt(max(p_c + p_w - index**2, 0.0) / n)
        rows.append(
            {
                "term": f"blinding index [{condition}]",
                "estimate": index,
                "std_error": se,
                "ci_lower": index - 1.96 * se,
                "ci_upper": index + 1.96 * se,
                "p_value": float(2 * stats.norm.sf(abs(index / se))) if se > 0 else np.nan,
                "n": n,
            }
        )
        counts.append(
            {"condition": condition, "correct": correct, "wrong": wrong, "dont_know": unsure}
        )
    return AnalysisResult(
        name="blinding",
        title="Blinding: could participants tell what they took?",
        n=int(data["participant_id"].nunique()),
        definition="Bang's blinding index = (correct - wrong guesses) / all guesses, per "
        "actual condition; 'don't know' counts in the denominator",
        method="Normal 95 % CI from the multinomial variance; p-value against 0 (random guessing)",
        estimates=estimates_frame(rows),
        missing_data="Phases without a recorded guess are left out.",
        assumptions=("Guesses in different phases of one participant are treated as independent",),
        tables={"guesses": pd.DataFrame(counts)},
    )
