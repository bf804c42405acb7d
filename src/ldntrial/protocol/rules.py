"""Rules that tie protocol fields together, each reported at the field that breaks it.

Field-level rules (types, ranges) are enforced by the pydantic models; these
run once every field is valid on its own and answer questions such as "does
this sequence name a phase that exists?". Each check appends
:class:`~ldntrial.errors.ProtocolIssue` objects; none raises, so a user sees
every broken rule of a file at once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable

from ldntrial.errors import ProtocolIssue
from ldntrial.protocol.dosage_form import dosing_issues
from ldntrial.protocol.model import (
    DailyModel,
    PermutedBlocks,
    Protocol,
    RandomisedPairs,
    UpAndDown,
)
from ldntrial.vocab import AllocationMethod, ConditionKind

__all__ = ["check_protocol"]


def check_protocol(protocol: Protocol) -> list[ProtocolIssue]:
    """Every cross-field rule the protocol breaks, in file order."""
    issues: list[ProtocolIssue] = []
    for check in (
        _check_conditions,
        _check_phases,
        _check_sequences,
        _check_allocation,
        _check_diary,
        _check_visits,
        _check_labs,
        _check_eligibility,
        _check_endpoints,
    ):
        issues.extend(check(protocol))
    if not issues:  # laying out the kits needs every other rule to hold
        issues.extend(dosing_issues(protocol))
    return issues


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "(none)"


def _duplicates(field: str, values: list[str], what: str) -> Iterable[ProtocolIssue]:
    counts = Counter(values)
    seen: set[str] = set()
    for index, value in enumerate(values):
        if counts[value] > 1 and value in seen:
            yield ProtocolIssue(f"{field}[{index}]", f"{what} '{value}' is defined more than once")
        seen.add(value)


def _unknown_phase(field: str, name: str, protocol: Protocol) -> ProtocolIssue:
    known = _names(phase.name for phase in protocol.phases)
    return ProtocolIssue(field, f"no phase named '{name}'; phases are {known}")


def _check_conditions(protocol: Protocol) -> Iterable[ProtocolIssue]:
    up_and_down = protocol.allocation.method == AllocationMethod.UP_AND_DOWN
    for key, condition in protocol.conditions.items():
        field = f"conditions.{key}"
        if condition.kind == ConditionKind.LDN:
            if condition.dose_mg is None and condition.titration is None and not up_and_down:
                yield ProtocolIssue(
                    f"{field}.dose_mg",
                    "an LDN condition needs dose_mg or a titration "
                    "(only an up_and_down allocation may assign the dose)",
                )
            if condition.dose_mg is not None and condition.titration is not None:
                yield ProtocolIssue(
                    f"{field}.titration", "give either dose_mg or a titration, not both"
                )
        else:
            for attribute in ("dose_mg", "reduced_dose_mg", "titration"):
                if getattr(condition, attribute) is not None:
                    yield ProtocolIssue(
                        f"{field}.{attribute}",
                        f"a '{condition.kind}' condition has no dose; remove {attribute}",
                    )
        titration = condition.titration
        if titration is not None and titration.max_mg < titration.start_mg:
            yield ProtocolIssue(
                f"{field}.titration.max_mg",
                f"must be at least start_mg ({titration.start_mg}), got {titration.max_mg}",
            )
        if (
            condition.reduced_dose_mg is not None
            and condition.dose_mg is not None
            and condition.reduced_dose_mg >= condition.dose_mg
        ):
            yield ProtocolIssue(
                f"{field}.reduced_dose_mg",
                f"must be below dose_mg ({condition.dose_mg}), got {condition.reduced_dose_mg}",
            )


def _check_phases(protocol: Protocol) -> Iterable[ProtocolIssue]:
    yield from _duplicates("phases", [phase.name for phase in protocol.phases], "phase")
    for index, phase in enumerate(protocol.phases):
        if phase.condition not in protocol.conditions:
            yield ProtocolIssue(
                f"phases[{index}].condition",
                f"no condition named '{phase.condition}'; "
                f"conditions are {_names(protocol.conditions)}",
            )


def _check_sequences(protocol: Protocol) -> Iterable[ProtocolIssue]:
    yield from _duplicates("sequences", [seq.name for seq in protocol.sequences], "sequence")
    known = {phase.name for phase in protocol.phases}
    for index, sequence in enumerate(protocol.sequences):
        for position, name in enumerate(sequence.phases):
            if name not in known:
                yield _unknown_phase(f"sequences[{index}].phases[{position}]", name, protocol)


def _check_allocation(protocol: Protocol) -> Iterable[ProtocolIssue]:
    """What a method's own fields cannot say: how its sequences, phases and rules fit.

    Which fields a method has, and which it needs, the model says
    (:data:`~ldntrial.protocol.model.Allocation`); the loader reports those.
    """
    allocation = protocol.allocation
    n_sequences = len(protocol.sequences)
    if isinstance(allocation, RandomisedPairs):
        yield from _check_randomised_pairs(protocol, allocation)
        return
    method = allocation.method
    if n_sequences == 0:
        yield ProtocolIssue("sequences", f"a '{method}' allocation needs at least one sequence")
    if isinstance(allocation, PermutedBlocks):
        yield from _check_permuted_blocks(allocation, n_sequences)
    elif n_sequences > 1:
        yield ProtocolIssue(
            "sequences", f"a '{method}' allocation needs exactly one sequence, got {n_sequences}"
        )
    if isinstance(allocation, UpAndDown):
        yield from _check_up_and_down(protocol, allocation)


def _check_permuted_blocks(
    allocation: PermutedBlocks, n_sequences: int
) -> Iterable[ProtocolIssue]:
    if n_sequences < 2:
        yield ProtocolIssue(
            "sequences", f"permuted blocks need at least two sequences, got {n_sequences}"
        )
    ratio = allocation.ratio or [1] * n_sequences
    if len(ratio) != n_sequences:
        yield ProtocolIssue(
            "allocation.ratio",
            f"needs one number per sequence ({n_sequences}), got {len(ratio)}",
        )
    total = sum(ratio)
    for index, size in enumerate(allocation.block_sizes):
        if size % total:
            yield ProtocolIssue(
                f"allocation.block_sizes[{index}]",
                f"must be a multiple of the ratio total {total}, got {size}",
            )
    yield from _duplicates(
        "allocation.strata", [stratum.name for stratum in allocation.strata], "stratum"
    )


def _check_randomised_pairs(
    protocol: Protocol, allocation: RandomisedPairs
) -> Iterable[ProtocolIssue]:
    if protocol.sequences:
        yield ProtocolIssue(
            "sequences", "randomised_pairs generates its own sequences; remove this list"
        )
    known = {phase.name for phase in protocol.phases}
    for field in ("lead_in", "pair", "follow_up"):
        for position, name in enumerate(getattr(allocation, field)):
            if name not in known:
                yield _unknown_phase(f"allocation.{field}[{position}]", name, protocol)
    first, second = allocation.pair
    same_condition = (
        first in known
        and second in known
        and protocol.phase(first).condition == protocol.phase(second).condition
    )
    if same_condition:
        yield ProtocolIssue(
            "allocation.pair", "the two phases of a pair must have different conditions"
        )


def _check_up_and_down(protocol: Protocol, allocation: UpAndDown) -> Iterable[ProtocolIssue]:
    doses = allocation.doses_mg
    if any(low >= high for low, high in itertools.pairwise(doses)):
        yield ProtocolIssue("allocation.doses_mg", "must be in strictly increasing order")
    if allocation.start_mg not in doses:
        yield ProtocolIssue(
            "allocation.start_mg", f"must be one of doses_mg, got {allocation.start_mg}"
        )
    rules = {rule.id for rule in protocol.endpoints.responders}
    if allocation.response_rule not in rules:
        yield ProtocolIssue(
            "allocation.response_rule",
            f"no responder rule '{allocation.response_rule}'; "
            f"endpoints.responders are {_names(rules)}",
        )


def _check_diary(protocol: Protocol) -> Iterable[ProtocolIssue]:
    diary = protocol.diary
    yield from _duplicates("diary.items", protocol.diary_item_ids, "diary item")
    for index, item in enumerate(diary.items):
        if item.min >= item.max:
            yield ProtocolIssue(
                f"diary.items[{index}].max", f"must be above min ({item.min}), got {item.max}"
            )
    if not diary.closes_next_day and diary.closes <= diary.opens:
        yield ProtocolIssue(
            "diary.closes",
            f"must be after opens ({diary.opens:%H:%M}) unless closes_next_day is true",
        )


def _check_visits(protocol: Protocol) -> Iterable[ProtocolIssue]:
    visits = protocol.visits
    if visits is None:
        return
    if 2 * visits.window_days >= visits.interval_days:
        yield ProtocolIssue(
            "visits.window_days",
            f"must be less than half of interval_days ({visits.interval_days}) "
            f"so windows do not overlap, got {visits.window_days}",
        )
    yield from _duplicates("visits.measures", [m.id for m in visits.measures], "measure")
    for index, measure in enumerate(visits.measures):
        field = f"visits.measures[{index}]"
        if measure.kind == "choice" and not measure.choices:
            yield ProtocolIssue(f"{field}.choices", "a choice measure needs its choices")
        if measure.kind == "number" and (measure.min is None or measure.max is None):
            # Without bounds the visit form takes anything: a capsule count of 1e30.
            yield ProtocolIssue(
                f"{field}.{'min' if measure.min is None else 'max'}",
                "a number measured at a visit needs its lowest and highest possible values",
            )
        if measure.min is not None and measure.max is not None and measure.min >= measure.max:
            yield ProtocolIssue(
                f"{field}.max", f"must be above min ({measure.min}), got {measure.max}"
            )


def _check_labs(protocol: Protocol) -> Iterable[ProtocolIssue]:
    yield from _duplicates("labs", [panel.id for panel in protocol.labs], "lab panel")
    known = {phase.name for phase in protocol.phases}
    for index, panel in enumerate(protocol.labs):
        field = f"labs[{index}]"
        if panel.at == "scheduled" and panel.times_per_week is None:
            yield ProtocolIssue(f"{field}.times_per_week", "is required for scheduled draws")
        if panel.at == "screening" and panel.times_per_week is not None:
            yield ProtocolIssue(
                f"{field}.times_per_week", "a screening draw happens once; remove times_per_week"
            )
        for position, name in enumerate(panel.phases or []):
            if name not in known:
                yield _unknown_phase(f"{field}.phases[{position}]", name, protocol)
        yield from _duplicates(f"{field}.analytes", panel.analytes, "analyte")


def _check_eligibility(protocol: Protocol) -> Iterable[ProtocolIssue]:
    rules = protocol.eligibility
    if rules.min_age > rules.max_age:
        yield ProtocolIssue(
            "eligibility.max_age",
            f"must be at least min_age ({rules.min_age}), got {rules.max_age}",
        )


def _check_daily_model(model: DailyModel, shortest: int) -> Iterable[ProtocolIssue]:
    """The run-in and the window must leave days to compare in the shortest treated phase."""
    field = "endpoints.daily_model"
    if model.run_in_days >= shortest:
        yield ProtocolIssue(
            f"{field}.run_in_days",
            f"must be shorter than the shortest treatment phase ({shortest} days), "
            f"got {model.run_in_days}",
        )
    elif model.window_days is not None and model.window_days > shortest - model.run_in_days:
        yield ProtocolIssue(
            f"{field}.window_days",
            f"must be at most the shortest treatment phase minus the run-in "
            f"({shortest} - {model.run_in_days} = {shortest - model.run_in_days} days), "
            f"got {model.window_days}",
        )


def _check_endpoints(protocol: Protocol) -> Iterable[ProtocolIssue]:
    endpoints = protocol.endpoints
    items = set(protocol.diary_item_ids)

    def item_issue(field: str, item: str) -> ProtocolIssue:
        return ProtocolIssue(field, f"no diary item '{item}'; diary items are {_names(items)}")

    if endpoints.primary_item not in items:
        yield item_issue("endpoints.primary_item", endpoints.primary_item)
    for index, item in enumerate(endpoints.secondary_items):
        if item not in items:
            yield item_issue(f"endpoints.secondary_items[{index}]", item)
    known = {phase.name for phase in protocol.phases}
    if endpoints.baseline_phase not in known:
        yield _unknown_phase("endpoints.baseline_phase", endpoints.baseline_phase, protocol)
    else:
        baseline = protocol.phase(endpoints.baseline_phase)
        baseline_condition = protocol.conditions.get(baseline.condition)
        if baseline_condition is not None and baseline_condition.kind != ConditionKind.NONE:
            yield ProtocolIssue(
                "endpoints.baseline_phase", "the baseline phase must be off treatment"
            )
        if endpoints.baseline_days is not None and endpoints.baseline_days > baseline.days:
            yield ProtocolIssue(
                "endpoints.baseline_days",
                f"must be at most the baseline phase's {baseline.days} days, "
                f"got {endpoints.baseline_days}",
            )
        for sequence in protocol.all_sequences:
            if endpoints.baseline_phase not in sequence.phases:
                yield ProtocolIssue(
                    "endpoints.baseline_phase",
                    f"phase '{endpoints.baseline_phase}' is missing from sequence "
                    f"'{sequence.name}'",
                )
                break
    treated = [
        phase.days
        for phase in protocol.phases
        if phase.condition in protocol.conditions
        and protocol.conditions[phase.condition].kind != ConditionKind.NONE
    ]
    if endpoints.endpoint_days is not None and treated and endpoints.endpoint_days > min(treated):
        yield ProtocolIssue(
            "endpoints.endpoint_days",
            f"must be at most the shortest treatment phase ({min(treated)} days), "
            f"got {endpoints.endpoint_days}",
        )
    if treated and protocol.allocation.method != AllocationMethod.UP_AND_DOWN:
        # An up-and-down study has no daily model (one dose per participant).
        yield from _check_daily_model(endpoints.daily_model, min(treated))
    yield from _duplicates(
        "endpoints.responders", [rule.id for rule in endpoints.responders], "responder rule"
    )
    for index, rule in enumerate(endpoints.responders):
        field = f"endpoints.responders[{index}]"
        if rule.item not in items:
            yield item_issue(f"{field}.item", rule.item)
        for position, item in enumerate(rule.also_any_of):
            if item not in items:
                yield item_issue(f"{field}.also_any_of[{position}]", item)
        if rule.also_any_of and rule.also_min_improvement_percent is None:
            yield ProtocolIssue(
                f"{field}.also_min_improvement_percent", "is required with also_any_of"
            )
