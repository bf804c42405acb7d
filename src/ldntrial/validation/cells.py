"""The reported numbers a validation checks: one cell per analysis and row.

A cell names the analysis function that the trial analysis calls
(:func:`~ldntrial.stats.analyze.analyze` runs the same ones), the row of its
estimates that is reported as the comparison of LDN with its comparator, and
the estimand that row estimates (:mod:`ldntrial.validation.estimands`), or
None where the row has a p-value but no interval (responder comparisons).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.design import Comparison, Design
from ldntrial.protocol.model import Protocol
from ldntrial.simulate.events import REDUCED_ON_LDN
from ldntrial.stats.cytokines import analyse_cytokines
from ldntrial.stats.daily_model import fit_daily_model
from ldntrial.stats.dose_finding import analyse_dose_finding
from ldntrial.stats.esr import analyse_esr
from ldntrial.stats.nof1 import answer_and_pool
from ldntrial.stats.primary import analyse_endpoint, primary_term
from ldntrial.stats.responders import classify_responders
from ldntrial.stats.results import AnalysisResult
from ldntrial.stats.safety import ANY_EVENT, analyse_blinding, analyse_safety
from ldntrial.stats.thresholds import analyse_thresholds, threshold_measures
from ldntrial.vocab import Blinding, ConditionKind

__all__ = ["Cell", "cells_for"]

Analysis = Callable[[TrialData], object]
Row = tuple[float, float, float, float, float]
NAN_ROW: Row = (math.nan,) * 5


def term_row(result: AnalysisResult | None, term: str) -> Row:
    """(estimate, std_error, ci_lower, ci_upper, p_value) of ``term``, NaN where absent."""
    if result is None or term not in set(result.estimates["term"]):
        return NAN_ROW
    row = result.term(term)

    def number(column: str) -> float:
        value = row.get(column, math.nan)
        return float(value) if value is not None else math.nan

    return (
        number("estimate"),
        number("std_error"),
        number("ci_lower"),
        number("ci_upper"),
        number("p_value"),
    )


@dataclass(frozen=True)
class Cell:
    """One reported comparison: ``analysis`` run on a trial, the row ``term`` of its estimates.

    ``item`` and ``estimand`` name the true value the row's estimate and
    interval are judged against in the truths table: a diary item and
    "endpoint" or "daily", or a group such as "effective_doses" and "ED50";
    ``estimand`` None: judged on its p-value only. ``exact_test`` marks an
    exact test on counts, which rejects less often than alpha by construction
    (conservative, not wrong). ``per_participant`` cells read one row per
    participant (an N-of-1 answer), each judged against her own true value.
    ``slow`` cells (a mixed model per trial) may run on fewer simulated trials
    than the others. ``tests_ldn`` is False where the comparison has no
    placebo, so that rejecting "no change" is no evidence about LDN and a
    rejection under ``null`` is not an error rate. ``has_p_value`` False: an
    estimate only (an effective dose), judged by coverage and, where no true
    value exists, by how often it is reported at all. ``read`` replaces the
    row lookup for a cell that summarises a family (the smallest adjusted
    p-value of a panel). ``tables`` are the simulated tables it needs.
    """

    key: str
    title: str
    analysis: Analysis
    analysis_key: str
    term: str
    item: str
    estimand: str | None
    slow: bool
    tests_ldn: bool
    exact_test: bool = False
    per_participant: bool = False
    has_p_value: bool = True
    read: Callable[[object], list[Row]] | None = None
    tables: tuple[str, ...] = ("diary",)

    def rows(self, result: object) -> list[Row]:
        """The rows this cell reads from its analysis' result: one, or one per participant."""
        if self.read is not None:
            return self.read(result)
        if self.analysis_key == "nof1":
            answers, pooled = result if isinstance(result, tuple) else ([], None)
            if self.per_participant:
                return [term_row(answer.result, self.term) for answer in answers]
            return [term_row(pooled, self.term)]
        if result is not None and not isinstance(result, AnalysisResult):
            raise TypeError(f"{self.key}: its analysis gave a {type(result).__name__}")
        return [term_row(result, self.term)]


def cells_for(protocol: Protocol) -> list[Cell]:
    """Every reported comparison of ``protocol``'s pre-specified analyses, as cells."""
    design = protocol.design
    if design == Design.DOSE_FINDING:
        return _dose_finding_cells()
    comparison = protocol.comparison
    tests_ldn = comparison.comparator is not None
    endpoint_term = primary_term(protocol)
    daily_term = f"condition[{comparison.treatment}]"
    endpoints = protocol.endpoints
    cells = []
    for item in [endpoints.primary_item, *endpoints.secondary_items]:
        primary = item == endpoints.primary_item
        prefix = "" if primary else f"secondary.{item}."
        cells += [
            Cell(
                key=f"{prefix}{'primary' if primary else 'endpoint'}",
                title=f"{item}: end point, {endpoint_term}",
                analysis=partial(analyse_endpoint, item=item),
                analysis_key=f"endpoint:{item}",
                term=endpoint_term,
                item=item,
                estimand="endpoint",
                slow=False,
                tests_ldn=tests_ldn,
            ),
            Cell(
                key=f"{prefix}mixed_model",
                title=f"{item}: daily model, {daily_term}",
                analysis=partial(fit_daily_model, item=item),
                analysis_key=f"daily:{item}",
                term=daily_term,
                item=item,
                estimand="daily",
                slow=True,
                tests_ldn=tests_ldn,
            ),
        ]
    if design == Design.NOF1:
        cells += [
            Cell(
                key="nof1.pooled",
                title=f"{endpoints.primary_item}: N-of-1 series pooled, population mean",
                analysis=answer_and_pool,
                analysis_key="nof1",
                term="population mean",
                item=endpoints.primary_item,
                estimand="daily",
                slow=True,
                tests_ldn=True,
            ),
            Cell(
                key="nof1.patients",
                title=f"{endpoints.primary_item}: each patient's own answer, {daily_term}",
                analysis=answer_and_pool,
                analysis_key="nof1",
                term=daily_term,
                item=endpoints.primary_item,
                estimand="daily",
                slow=True,
                tests_ldn=True,
                per_participant=True,
            ),
        ]
    if tests_ldn and design != Design.PARALLEL:
        # Responder rates are compared within participants (McNemar) where both are seen.
        composite = any(rule.also_any_of for rule in endpoints.responders)
        names = [rule.id for rule in endpoints.responders] + [
            f"significant_{endpoints.primary_item}",
            *(["significant_composite"] if composite else []),
        ]
        contrast = f"{comparison.treatment} - {comparison.comparator}"
        cells += [
            Cell(
                key=f"responders.{name}",
                title=f"responders {name}: {contrast} (McNemar)",
                analysis=classify_responders,
                analysis_key="responders",
                term=f"{name} [{contrast}]",
                item=endpoints.primary_item,
                estimand=None,
                slow=True,
                tests_ldn=True,
                exact_test=True,
            )
            for name in names
        ]
    return (
        cells + _lab_and_safety_cells(protocol, comparison, tests_ldn) + _blinding_cells(protocol)
    )


def _dose_finding_cells() -> list[Cell]:
    return [
        Cell(
            key=f"dose_finding.{dose}",
            title=f"{dose}: the dose at which {share} of women respond (centred isotonic)",
            analysis=analyse_dose_finding,
            analysis_key="dose_finding",
            term=f"{dose} (mg), centred isotonic",
            item="effective_doses",
            estimand=dose,
            slow=False,
            tests_ldn=False,
            has_p_value=False,
        )
        for dose, share in (("ED50", "half"), ("ED95", "95 %"))
    ]


def _lab_and_safety_cells(
    protocol: Protocol, comparison: Comparison, tests_ldn: bool
) -> list[Cell]:
    """Cytokines, ESR, thresholds and adverse events: each judged on its p-values under
    ``null`` (where LDN changes none of them), the cytokine panel by its family-wise rate."""
    cells = []
    scheduled = [p for p in protocol.labs if p.at == "scheduled"]
    cytokines = sorted({a for p in scheduled for a in p.analytes if a != "esr"})
    if cytokines:
        cells.append(
            Cell(
                key="cytokines.any",
                title="cytokine panel: any analyte changed (smallest Holm-adjusted p)",
                analysis=analyse_cytokines,
                analysis_key="cytokines",
                term="",
                item="cytokines",
                estimand=None,
                slow=True,
                tests_ldn=tests_ldn,
                read=_smallest_holm_p,
                tables=("labs",),
            )
        )
        reduced = sorted(set(cytokines) & REDUCED_ON_LDN)
        cells += [
            Cell(
                key=f"cytokines.{analyte}",
                title=f"cytokine {analyte}: mean log change",
                analysis=analyse_cytokines,
                analysis_key="cytokines",
                term=analyte,
                item="cytokines",
                estimand=analyte,
                slow=True,
                tests_ldn=tests_ldn,
                tables=("labs",),
            )
            for analyte in reduced[:1]
        ]
    if any("esr" in p.analytes for p in protocol.labs) and comparison.comparator:
        cells.append(
            Cell(
                key="esr.slope",
                title="response to LDN against baseline ESR: slope",
                analysis=analyse_esr,
                analysis_key="esr",
                term="slope (% points per mm/hr)",
                item="esr",
                estimand=None,
                slow=False,
                tests_ldn=True,
                tables=("diary", "labs"),
            )
        )
    if comparison.comparator:
        cells += [
            Cell(
                key=f"thresholds.{measure}",
                title=f"{measure}: condition[{comparison.treatment}] at lab visits",
                analysis=analyse_thresholds,
                analysis_key="thresholds",
                term=f"{measure}: condition[{comparison.treatment}]",
                item="thresholds",
                estimand=None,
                slow=True,
                tests_ldn=True,
                tables=("visits",),
            )
            for measure in threshold_measures(protocol)
        ]
        contrast = f"{comparison.treatment} / {comparison.comparator}"
        difference = f"{comparison.treatment} - {comparison.comparator}"
        cells += [
            Cell(
                key="safety.incidence",
                title=f"adverse events, share of participants: {difference}",
                analysis=analyse_safety,
                analysis_key="safety",
                term=f"{ANY_EVENT} [{difference}]",
                item="safety",
                estimand=None,
                slow=False,
                tests_ldn=True,
                exact_test=True,
                tables=("diary", "adverse_events", "visits"),
            ),
        ]
        if "tolerability" in {m.id for m in (protocol.visits.measures if protocol.visits else [])}:
            cells.append(
                Cell(
                    key="safety.tolerability",
                    title=f"tolerability 0-100: {difference}",
                    analysis=analyse_safety,
                    analysis_key="safety",
                    term=f"tolerability [{difference}]",
                    item="safety",
                    estimand=None,
                    slow=False,
                    tests_ldn=True,
                    tables=("diary", "adverse_events", "visits"),
                )
            )
        cells.append(
            Cell(
                key="safety.rate_ratio",
                title=f"adverse events per participant-week: rate ratio {contrast}",
                analysis=analyse_safety,
                analysis_key="safety",
                term=f"{ANY_EVENT} rate ratio [{contrast}]",
                item="safety",
                estimand=None,
                slow=False,
                tests_ldn=True,
                exact_test=True,
                tables=("diary", "adverse_events", "visits"),
            )
        )
    return cells


def _blinding_cells(protocol: Protocol) -> list[Cell]:
    """Bang's index per condition where participants guess (a blinded treated phase)."""
    guessed = sorted(
        {
            phase.condition
            for phase in protocol.phases
            if protocol.conditions[phase.condition].kind != ConditionKind.NONE
            and phase.blinding != Blinding.OPEN
        }
    )
    return [
        Cell(
            key=f"blinding.{condition}",
            title=f"blinding index, guesses on {condition}",
            analysis=analyse_blinding,
            analysis_key="blinding",
            term=f"blinding index [{condition}]",
            item="blinding",
            estimand="index",
            slow=False,
            tests_ldn=True,
            tables=("blinding_guesses",),
        )
        for condition in guessed
    ]


def _smallest_holm_p(result: object) -> list[Row]:
    """The panel as one test: it says "something changed" when any Holm-adjusted p < alpha."""
    if not isinstance(result, AnalysisResult) or result.estimates.empty:
        return [NAN_ROW]
    return [(math.nan, math.nan, math.nan, math.nan, float(result.estimates["p_holm"].min()))]
