"""Who responded: threshold rules from the protocol and per-participant significance tests.

Two readings of "responder" appear in the Stanford papers (studies.md §1.5,
§2.3), and both are computed:

- threshold rules from ``[[endpoints.responders]]``: % improvement from
  baseline of at least X (AAPM 2012: 57 % had >= 30 % less pain on LDN),
  optionally with another item also improving (the 2013 composite);
- significance rules on each participant's daily data, by generalised least
  squares with AR(1) days so that autocorrelated days are not counted as
  independent evidence, after the first 14 days of each treated phase
  (:mod:`ldntrial.stats.individual`): "LDN significantly better than
  placebo" (the pilot's 6 of 10 drug responders) and, per condition against
  baseline, "significant reduction in pain plus in fatigue or sleep problems"
  (the 2013 composite, 32 % vs 11 %).

LDN and placebo response rates are compared with the exact McNemar test
(binomial test on the discordant pairs) within participants, or Fisher's
exact test between arms of a parallel trial. Rates carry Clopper-Pearson
exact 95 % intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import ResponderRule
from ldntrial.protocol.windows import daily_window_days
from ldntrial.stats.daily_model import compared_diary_rows, comparison_frame
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.individual import per_participant_difference
from ldntrial.stats.prepared import Analysable, PreparedTrial, prepare
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["classify_responders", "exact_mcnemar", "rate_with_ci"]

ALPHA = 0.05


def rate_with_ci(responders: int, n: int, term: str) -> dict[str, float | str]:
    """Proportion with its Clopper-Pearson exact 95 % interval."""
    row: dict[str, float | str] = {"term": term, "n": n, "responders": responders}
    if n == 0:
        return {**row, "estimate": np.nan}
    interval = stats.binomtest(responders, n).proportion_ci(0.95, method="exact")
    return {
        **row,
        "estimate": responders / n,
        "ci_lower": interval.low,
        "ci_upper": interval.high,
    }


def exact_mcnemar(first_only: int, second_only: int) -> float:
    """Two-sided exact McNemar p-value: binomial test of the discordant pairs against 1/2."""
    discordant = first_only + second_only
    if discordant == 0:
        return 1.0
    return float(stats.binomtest(first_only, discordant, 0.5).pvalue)


def classify_responders(trial: Analysable) -> AnalysisResult:
    """Responder rates per condition and their comparison, by every rule the protocol names."""
    context = prepare(trial)
    protocol = context.protocol
    comparison = protocol.comparison
    design = protocol.design
    rules = protocol.endpoints.responders or [
        ResponderRule(
            id="pain30", item=protocol.endpoints.primary_item, min_improvement_percent=30
        )
    ]
    improvements = _improvements(context, rules)
    flags = pd.DataFrame(index=improvements.index)
    for rule in rules:
        flags[rule.id] = _meets(rule, improvements)
    significance = _significance(context, comparison, design, rules)
    flags = flags.join(significance["flags"], how="outer")
    rows = []
    conditions = comparison.conditions
    for rule_id in flags.columns:
        column = flags[rule_id].unstack("condition")
        for condition in conditions:
            if condition in column:
                known = column[condition].dropna().astype(bool)
                rows.append(rate_with_ci(int(known.sum()), len(known), f"{rule_id} [{condition}]"))
        if comparison.comparator and {comparison.treatment, comparison.comparator} <= set(column):
            rows.append(_compare(column, comparison, design, rule_id))
    rows += significance["rows"]
    return AnalysisResult(
        name="responders",
        title="Responders",
        n=int(flags.index.get_level_values("participant_id").nunique()),
        definition="; ".join(_describe(rule) for rule in rules)
        + "; significant_* rules: the participant's own daily ratings differ at p < 0.05 in "
        "the improving direction (generalised least squares with AR(1) days) between the "
        "baseline and the daily model's window of each condition (its final "
        f"{daily_window_days(protocol)} days after a "
        f"{protocol.endpoints.daily_model.run_in_days}-day run-in), so that a long and a "
        "short phase are tested with the same number of days",
        method=(
            "Rates with Clopper-Pearson exact 95 % CI; LDN vs comparator: exact McNemar test "
            "within participants (Fisher's exact test between parallel arms); estimate of a "
            "comparison = difference in rates"
        ),
        estimates=estimates_frame(rows),
        missing_data=(
            "A participant without an end point (or without days on both sides of a "
            "significance test) is not classified for that rule and not counted in its n."
        ),
        assumptions=(
            "Per-participant tests: days on the two conditions differ only by the "
            "condition (a slow LDN onset dilutes the difference)",
        ),
        tables={"participants": flags.reset_index()},
        values={"alpha": ALPHA},
    )


def _improvements(context: PreparedTrial, rules: list[ResponderRule]) -> pd.DataFrame:
    items = sorted({rule.item for rule in rules} | {i for rule in rules for i in rule.also_any_of})
    columns = {}
    for item in items:
        endpoints = context.frame(condition_endpoints, item)
        columns[item] = endpoints.set_index(["participant_id", "condition"])["improvement_percent"]
    return pd.DataFrame(columns)


def _meets(rule: ResponderRule, improvements: pd.DataFrame) -> pd.Series:
    """True/False where decidable, NaN where an item needed is missing."""
    main = improvements[rule.item]
    result = main >= rule.min_improvement_percent
    known = main.notna()
    if rule.also_any_of:
        others = improvements[rule.also_any_of]
        threshold = rule.also_min_improvement_percent or rule.min_improvement_percent
        result = result & (others >= threshold).any(axis=1)
        known = known & others.notna().any(axis=1)
    return result.astype(object).where(known, np.nan)


def _describe(rule: ResponderRule) -> str:
    text = f"{rule.id}: {rule.item} improved by at least {rule.min_improvement_percent:g} %"
    if rule.also_any_of:
        threshold = rule.also_min_improvement_percent or rule.min_improvement_percent
        text += f" and {' or '.join(rule.also_any_of)} by at least {threshold:g} %"
    return text


def _compare(
    column: pd.DataFrame, comparison: Comparison, design: Design, rule_id: str
) -> dict[str, float | str]:
    treatment, comparator = comparison.treatment, comparison.comparator
    term = f"{rule_id} [{treatment} - {comparator}]"
    if design == Design.PARALLEL:
        a = column[treatment].dropna().astype(bool)
        b = column[comparator].dropna().astype(bool)
        table = [[int(a.sum()), int((~a).sum())], [int(b.sum()), int((~b).sum())]]
        p = float(stats.fisher_exact(table).pvalue)
        estimate = a.mean() - b.mean() if len(a) and len(b) else np.nan
        return {"term": term, "estimate": estimate, "p_value": p, "n": len(a) + len(b)}
    both = column[[treatment, comparator]].dropna().astype(bool)
    first_only = int((both[treatment] & ~both[comparator]).sum())
    second_only = int((~both[treatment] & both[comparator]).sum())
    return {
        "term": term,
        "estimate": (first_only - second_only) / len(both) if len(both) else np.nan,
        "p_value": exact_mcnemar(first_only, second_only),
        "n": len(both),
        "discordant_treatment_only": first_only,
        "discordant_comparator_only": second_only,
    }


def _significance(
    context: PreparedTrial, comparison: Comparison, design: Design, rules: list[ResponderRule]
) -> dict[str, Any]:
    """Per-participant AR(1) tests: each condition vs baseline, and LDN vs comparator."""
    protocol = context.protocol
    primary = protocol.endpoints.primary_item
    composite = next((rule for rule in rules if rule.also_any_of), None)
    items = [primary, *(composite.also_any_of if composite else [])]
    better_when_higher = {item.id: item.higher_is_better for item in protocol.diary.items}
    significant: dict[tuple[str, str], pd.Series] = {}
    conditions = comparison.conditions
    for item in items:
        rows = context.frame(compared_diary_rows, item)
        baseline = rows["phase"] == comparison.baseline_phase
        for condition in conditions:
            on = rows["condition"] == condition
            part = rows[on | baseline]
            test = per_participant_difference(
                part["participant_id"],
                part["study_day"].to_numpy(),
                on[on | baseline].to_numpy(),
                part["value"].to_numpy(),
            )
            significant[(item, condition)] = _improved(test, better_when_higher[item])
    columns: dict[str, list[pd.Series]] = {}
    for condition in conditions:
        pain = significant[(primary, condition)]
        columns.setdefault(f"significant_{primary}", []).append(pain.rename(condition))
        if composite:
            others = [significant[(i, condition)] for i in composite.also_any_of]
            either = pd.concat(others, axis=1).astype(float).max(axis=1)
            both = (pain.astype(float) + either == 2).astype(object)
            both = both.where(pain.notna() & either.notna(), np.nan)
            columns.setdefault("significant_composite", []).append(both.rename(condition))
    flags = pd.concat(
        {
            name: pd.concat(parts, axis=1)
            .rename_axis(columns="condition")
            .stack(future_stack=True)
            for name, parts in columns.items()
        },
        axis=1,
    )
    estimates = []
    if comparison.comparator and design != Design.PARALLEL:
        frame = context.frame(comparison_frame, primary, comparison)
        test = per_participant_difference(
            frame["participant_id"],
            frame["study_day"].to_numpy(),
            frame["treated"].to_numpy(),
            frame["value"].to_numpy(),
        )
        better = _improved(test, better_when_higher[primary]).dropna().astype(bool)
        estimates.append(
            rate_with_ci(
                int(better.sum()),
                len(better),
                f"significant_{primary} [{comparison.treatment} better than "
                f"{comparison.comparator}]",
            )
        )
    return {"flags": flags, "rows": estimates}


def _improved(test: pd.DataFrame, higher_is_better: bool) -> pd.Series:
    direction = test["difference"] > 0 if higher_is_better else test["difference"] < 0
    result = (direction & (test["p_value"] < ALPHA)).astype(object)
    return result.where(test["p_value"].notna(), np.nan)
