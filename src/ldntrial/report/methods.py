"""The methods section, written from the protocol and the analyses that were run.

Nothing here is typed by hand per study: the design, schedule, interventions,
outcomes, end-point definitions and statistical methods all come from the
protocol file and the results' own ``method`` statements, so the section
cannot drift from what was done.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata

from ldntrial.protocol.model import Protocol, Reference
from ldntrial.report.views import TableView
from ldntrial.stats.analyze import TrialAnalysis
from ldntrial.stats.nof1 import Nof1Spec
from ldntrial.version import __version__
from ldntrial.vocab import AllocationMethod

__all__ = ["MethodsSection", "methods_section"]

SOFTWARE = ("numpy", "pandas", "scipy", "statsmodels", "matplotlib")


@dataclass(frozen=True)
class MethodsSection:
    """Paragraphs under headings, plus the schedule as a table and the references."""

    paragraphs: list[tuple[str, list[str]]]
    schedule: TableView
    references: list[str]


def methods_section(
    protocol: Protocol, analysis: TrialAnalysis, nof1_spec: Nof1Spec | None = None
) -> MethodsSection:
    """Design, interventions, outcomes, statistics and software for ``protocol``."""
    spec = nof1_spec or Nof1Spec()
    paragraphs = [
        ("Design", _design(protocol)),
        ("Interventions", _interventions(protocol)),
        ("Outcomes", _outcomes(protocol)),
        ("Statistical analysis", _statistics(analysis, spec)),
        ("Software", [_software()]),
    ]
    return MethodsSection(
        paragraphs=paragraphs,
        schedule=_schedule(protocol),
        references=[_reference(r) for r in protocol.references],
    )


def _design(protocol: Protocol) -> list[str]:
    allocation = protocol.allocation
    sequences = protocol.all_sequences
    if allocation.method == AllocationMethod.PERMUTED_BLOCKS:
        blocks = ", ".join(str(size) for size in allocation.block_sizes)
        how = (
            f"Participants were allocated to {len(sequences)} sequences "
            f"({', '.join(s.name for s in sequences)}) by permuted blocks"
            + (f" of {blocks}" if blocks else "")
            + (
                f", stratified by {', '.join(s.name for s in allocation.strata)}"
                if allocation.strata
                else ""
            )
            + "."
        )
    elif allocation.method == AllocationMethod.RANDOMISED_PAIRS:
        how = (
            f"Each patient took {allocation.pairs} pairs of blocks "
            f"({' and '.join(allocation.pair)}), in random order within each pair."
        )
    elif allocation.method == AllocationMethod.UP_AND_DOWN:
        doses = ", ".join(f"{d:g}" for d in allocation.doses_mg)
        how = (
            f"Doses ({doses} mg) were assigned by an up-and-down rule starting at "
            f"{allocation.start_mg:g} mg: each participant's dose followed the previous "
            f"participant's response ('{allocation.response_rule}')."
        )
    else:
        how = f"Every participant followed the same sequence ({sequences[0].name})."
    text = [protocol.title + ".", protocol.summary.strip(), how]
    if protocol.population:
        text.append(f"Population: {protocol.population}.")
    return [" ".join(part for part in text if part)]


def _interventions(protocol: Protocol) -> list[str]:
    lines = []
    for key, condition in protocol.conditions.items():
        label = condition.label or key
        dose = f", {condition.dose_mg:g} mg" if condition.dose_mg and "mg" not in label else ""
        reduced = (
            f" (reducible to {condition.reduced_dose_mg:g} mg for side effects)"
            if condition.reduced_dose_mg
            else ""
        )
        lines.append(f"{label}{dose}{reduced}")
    dosing = protocol.dosing
    return [
        "; ".join(lines)
        + f". Capsules were taken at {dosing.time_of_day}, {dosing.capsules_per_day} a day."
    ]


def _outcomes(protocol: Protocol) -> list[str]:
    diary = protocol.diary
    items = "; ".join(
        f"{item.label} ({item.min}-{item.max}, '{item.low_anchor}' to '{item.high_anchor}')"
        for item in diary.items
    )
    window = (
        f"from {diary.opens:%H:%M} until {diary.closes:%H:%M}"
        + (" the next day" if diary.closes_next_day else "")
        + f"; late entries: {diary.late_entries}"
    )
    endpoints = protocol.endpoints
    baseline = (
        f"the last {endpoints.baseline_days} days of '{endpoints.baseline_phase}'"
        if endpoints.baseline_days
        else f"all of '{endpoints.baseline_phase}'"
    )
    endpoint = (
        f"the final {endpoints.endpoint_days} days of each condition"
        if endpoints.endpoint_days
        else "all days of each condition"
    )
    text = [
        f"A daily diary rated {items}, entered {window}.",
        f"Primary outcome: {endpoints.primary_item}; % improvement = (baseline - end point) / "
        f"baseline x 100 (turned where higher is better), baseline = mean over {baseline}, "
        f"end point = mean over {endpoint}.",
    ]
    if endpoints.secondary_items:
        text.append(f"Secondary outcomes: {', '.join(endpoints.secondary_items)}.")
    for rule in endpoints.responders:
        extra = (
            f" and at least {rule.also_min_improvement_percent:g} % in one of "
            f"{', '.join(rule.also_any_of)}"
            if rule.also_any_of
            else ""
        )
        text.append(
            f"Responder '{rule.id}': at least {rule.min_improvement_percent:g} % improvement "
            f"in {rule.item}{extra}."
        )
    if protocol.visits:
        measures = ", ".join(m.label for m in protocol.visits.measures)
        text.append(f"Lab visits every {protocol.visits.interval_days} days: {measures}.")
    for panel in protocol.labs:
        text.append(f"{panel.label} ({panel.unit}): {', '.join(panel.analytes)}.")
    return [" ".join(text)]


def _statistics(analysis: TrialAnalysis, spec: Nof1Spec) -> list[str]:
    lines = [f"{result.title}: {result.method}." for result in analysis.results().values()]
    if analysis.nof1 is not None:
        lines.append(
            f"Each patient's answer leaves out the first {spec.run_in_days} days of every "
            f"block and calls a benefit meaningful at {spec.meaningful_points:g} points; a "
            f"verdict needs a probability of at least {spec.decision_probability:g}."
        )
    lines += [f"Not run: {key} ({reason})." for key, reason in analysis.not_applicable.items()]
    return lines


def _software() -> str:
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in SOFTWARE)
    return f"ldntrial {__version__} on Python {platform.python_version()} ({versions})."


def _schedule(protocol: Protocol) -> TableView:
    rows = []
    for phase in protocol.phases:
        condition = protocol.conditions[phase.condition]
        rows.append(
            [
                phase.label or phase.name,
                str(phase.days),
                condition.label or phase.condition,
                str(phase.blinding),
            ]
        )
    sequences = "; ".join(f"{s.name}: {' > '.join(s.phases)}" for s in protocol.all_sequences)
    return TableView(["Phase", "Days", "Condition", "Blinding"], rows, caption=sequences)


def _reference(reference: Reference) -> str:
    links = [
        f"doi:{reference.doi}" if reference.doi else "",
        f"PMID {reference.pmid}" if reference.pmid else "",
        reference.registry or "",
    ]
    extra = "; ".join(link for link in links if link)
    return reference.citation + (f" ({extra})" if extra else "")
