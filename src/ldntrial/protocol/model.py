"""The protocol format: what a study is, as validated, immutable pydantic models.

A protocol file (TOML) is parsed into :class:`Protocol`. Field-level rules
(types, ranges, required fields) live on the models below; rules that tie
fields together (a sequence naming a phase that exists, block sizes fitting
the ratio) live in :mod:`ldntrial.protocol.rules`, so each broken rule is
reported with the exact field path that breaks it. The README documents every
field; the built-in files under ``builtins/`` are worked examples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from datetime import time
from functools import cached_property
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
)

from ldntrial.protocol.design import Comparison, Design, classify_design, comparison_of
from ldntrial.vocab import (
    AllocationMethod,
    Blinding,
    ConditionKind,
    LateEntryPolicy,
    MeasureTiming,
    Sex,
)

__all__ = [
    "Allocation",
    "Condition",
    "DailyModel",
    "DiaryItem",
    "DiarySettings",
    "Dosing",
    "Eligibility",
    "Endpoints",
    "FixedAllocation",
    "LabPanel",
    "PermutedBlocks",
    "Phase",
    "Protocol",
    "RandomisedPairs",
    "Reference",
    "ResponderRule",
    "Sequence",
    "Stratum",
    "Titration",
    "UpAndDown",
    "VisitMeasure",
    "Visits",
]

FORMAT_VERSION: Final = 1

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
# No phase, window or spare supply of an LDN study lasts ten years; more is a typo
# (days = 10^9 was once called valid, and every calendar built from it overflowed).
MAX_DAYS = 3650
PositiveDays = Annotated[int, Field(strict=True, gt=0, le=MAX_DAYS)]
NonNegativeDays = Annotated[int, Field(strict=True, ge=0, le=MAX_DAYS)]


def _time_of_day(value: object) -> object:
    """Refuse a bare number where a time of day goes: opens = 18 would read as 00:00:18."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f'a time of day is written "HH:MM" (e.g. "18:00"), got {value!r}')
    return value


TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]
# "Low dose" is defined as roughly 1-5 mg/day (studies.md §6.3); 50 mg is the
# addiction dose, so anything above it is certainly a typo.
DoseMg = Annotated[float, Field(gt=0, le=50)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """No text holds a NUL character: PostgreSQL cannot store one (TOML writes it \\u0000)."""
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("contains a NUL character (\\u0000), which no text may hold")
        return value


class Reference(_Model):
    """A publication or registry record the protocol follows."""

    citation: Text
    doi: str | None = None
    pmid: str | None = None
    registry: str | None = None
    url: str | None = None


class Titration(_Model):
    """Dose rises from ``start_mg`` by ``step_mg`` every ``interval_days`` up to ``max_mg``."""

    start_mg: DoseMg
    step_mg: DoseMg
    interval_days: PositiveDays
    max_mg: DoseMg

    def dose_on(self, exposure_day: int) -> float:
        """The dose on the n-th day (1-based) a participant has been on this condition."""
        steps = (exposure_day - 1) // self.interval_days
        return min(self.start_mg + steps * self.step_mg, self.max_mg)

    @property
    def days_to_max(self) -> int:
        """Days of titration before the maximum dose is first taken."""
        steps = math.ceil(round((self.max_mg - self.start_mg) / self.step_mg, 9))
        return steps * self.interval_days


class Condition(_Model):
    """What a participant takes in a phase: LDN at a dose, an identical placebo, or nothing."""

    kind: ConditionKind
    label: str | None = None
    dose_mg: DoseMg | None = None
    reduced_dose_mg: DoseMg | None = None
    titration: Titration | None = None


class Phase(_Model):
    """A stretch of days on one condition, e.g. 2 weeks of baseline or 12 weeks of LDN."""

    name: Identifier
    days: PositiveDays
    condition: Identifier
    blinding: Blinding = Blinding.OPEN
    label: str | None = None


class Sequence(_Model):
    """The ordered phases one arm of the study follows."""

    name: Text
    phases: list[Identifier] = Field(min_length=1)


class Stratum(_Model):
    """A stratification factor: a participant column, optionally split at a cut-off."""

    name: Identifier
    variable: Identifier | None = None
    above: float | None = None

    @property
    def column(self) -> str:
        """The participants column the factor is read from."""
        return self.variable or self.name


class FixedAllocation(_Model):
    """Everyone follows the one sequence (pilot-2009)."""

    method: Literal[AllocationMethod.FIXED]


class PermutedBlocks(_Model):
    """Counterbalanced sequences in blocks of varying size, optionally stratified."""

    method: Literal[AllocationMethod.PERMUTED_BLOCKS]
    ratio: list[Annotated[int, Field(strict=True, gt=0)]] | None = None
    block_sizes: list[Annotated[int, Field(strict=True, gt=0)]] = Field(min_length=1)
    strata: list[Stratum] = Field(default_factory=list)


class RandomisedPairs(_Model):
    """N-of-1: the order of the two phases of each pair drawn at random, per patient."""

    method: Literal[AllocationMethod.RANDOMISED_PAIRS]
    lead_in: list[Identifier] = Field(default_factory=list)
    pair: tuple[Identifier, Identifier]
    pairs: Annotated[int, Field(strict=True, gt=0, le=12)]
    follow_up: list[Identifier] = Field(default_factory=list)


class UpAndDown(_Model):
    """Each participant's dose follows the previous participant's response."""

    method: Literal[AllocationMethod.UP_AND_DOWN]
    doses_mg: list[DoseMg] = Field(min_length=2)
    start_mg: DoseMg
    response_rule: Identifier
    stop_after_reversals: Annotated[int, Field(strict=True, gt=0, le=50)] | None = None
    # ... and (when given) once this many up-and-down pairs: a non-response then a response
    stop_after_pairs: Annotated[int, Field(strict=True, gt=0, le=50)] | None = None


# Each allocation method's model, by the method's name (the loader's messages list them).
ALLOCATION_MODELS: Final[dict[str, type[BaseModel]]] = {
    AllocationMethod.FIXED: FixedAllocation,
    AllocationMethod.PERMUTED_BLOCKS: PermutedBlocks,
    AllocationMethod.RANDOMISED_PAIRS: RandomisedPairs,
    AllocationMethod.UP_AND_DOWN: UpAndDown,
}


def _method_of(value: object) -> object:
    """The ``method`` an allocation names, read before validation (its fields depend on it).

    A callable discriminator, because every field, ``method`` too, passes the
    NUL check above, which pydantic's by-field discriminator does not allow.
    """
    return value.get("method") if isinstance(value, dict) else getattr(value, "method", None)


# How participants get a sequence (and, for up-and-down designs, a dose): each method is a
# model of its own fields, chosen by ``method``, so a field of another method is refused
# and a required one cannot be missing (the loader names the method in both messages).
Allocation = Annotated[
    Annotated[FixedAllocation, Tag(AllocationMethod.FIXED)]
    | Annotated[PermutedBlocks, Tag(AllocationMethod.PERMUTED_BLOCKS)]
    | Annotated[RandomisedPairs, Tag(AllocationMethod.RANDOMISED_PAIRS)]
    | Annotated[UpAndDown, Tag(AllocationMethod.UP_AND_DOWN)],
    Discriminator(_method_of),
]


class Dosing(_Model):
    """What a kit holds, when it is taken, how many spare days it carries, how long it keeps.

    ``form`` is capsules or a compounded liquid. A liquid is taken as the same
    ``ml_per_day`` in every arm (the dose is in its concentration), so that a
    bottle's volume tells no one what is in it. ``preserved`` (liquids) and
    ``beyond_use_days`` set how long a kit may be used after it is compounded
    (:mod:`ldntrial.protocol.dosage_form` gives USP <795>'s limits).
    """

    form: Literal["capsule", "liquid"] = "capsule"
    time_of_day: Literal["bedtime", "morning", "evening"] = "bedtime"
    capsules_per_day: Annotated[int, Field(strict=True, gt=0, le=10)] = 1
    ml_per_day: Annotated[int, Field(strict=True, gt=0, le=30)] | None = None
    preserved: bool | None = None
    spare_days: NonNegativeDays = 3
    beyond_use_days: PositiveDays | None = None


class ItemWording(_Model):
    """A diary item's words in another language.

    ``approved`` says the study's ethics committee approved the wording; only
    then does a participant read it. The built-in protocols ship their Spanish
    as drafts (``approved = false``), to be approved and switched on by an
    amendment.
    """

    label: Text
    low_anchor: Text
    high_anchor: Text
    approved: bool = True


class DiaryItem(_Model):
    """One daily rating on a 0-100 scale with anchor words at both ends.

    ``translations`` gives the words in other languages by language code
    (``es``); a participant whose language has none reads the item as written.
    """

    id: Identifier
    label: Text
    low_anchor: Text
    high_anchor: Text
    min: Annotated[int, Field(strict=True)] = 0
    max: Annotated[int, Field(strict=True)] = 100
    required: bool = True
    higher_is_better: bool = False
    translations: dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], ItemWording] = Field(
        default_factory=dict
    )

    def wording(self, language: str) -> ItemWording:
        """Label and anchors in ``language`` if approved, otherwise as written."""
        translation = self.translations.get(language)
        if translation is not None and translation.approved:
            return translation
        return ItemWording(
            label=self.label, low_anchor=self.low_anchor, high_anchor=self.high_anchor
        )


class DiarySettings(_Model):
    """The daily diary: its items and when an entry for a day may be made (EPRO-10)."""

    opens: TimeOfDay = time(18, 0)
    closes: TimeOfDay = time(12, 0)
    closes_next_day: bool = True
    late_entries: LateEntryPolicy = LateEntryPolicy.REJECT
    backfill_days: NonNegativeDays = 0
    items: list[DiaryItem] = Field(min_length=1)
    side_effects: list[Identifier] = Field(default_factory=list)


class VisitMeasure(_Model):
    """Something recorded at a lab visit: a threshold, a rating, a guess, a count."""

    id: Identifier
    label: Text
    kind: Literal["number", "choice", "review"] = "number"
    unit: str = "1"
    min: float | None = None
    max: float | None = None
    choices: list[Text] | None = None
    when: MeasureTiming = MeasureTiming.EVERY_VISIT


class Visits(_Model):
    """Lab visits every ``interval_days`` from study day 1, each with a +/- window."""

    interval_days: PositiveDays
    window_days: NonNegativeDays = 0
    measures: list[VisitMeasure] = Field(default_factory=list)


class LabPanel(_Model):
    """Blood tests: drawn once at screening or ``times_per_week`` during given phases."""

    id: Identifier
    label: Text
    unit: Text
    analytes: list[Text] = Field(min_length=1)
    at: Literal["screening", "scheduled"] = "screening"
    times_per_week: Annotated[int, Field(strict=True, gt=0, le=7)] | None = None
    phases: list[Identifier] | None = None


Criterion = Literal["acr-2010", "acr-2011", "acr-2016"]


def _acr_2016() -> list[Criterion]:
    return ["acr-2016"]


class Eligibility(_Model):
    """Who may take part; the rules are applied by :func:`ldntrial.protocol.screen`."""

    criteria: list[Criterion] = Field(default_factory=_acr_2016, min_length=1)
    min_age: Annotated[int, Field(strict=True, ge=0, le=120)] = 18
    max_age: Annotated[int, Field(strict=True, ge=0, le=120)] = 65
    sexes: list[Sex] = Field(default_factory=lambda: [Sex.FEMALE], min_length=1)
    exclude_opioids: bool = True
    opioid_free_days: Annotated[int, Field(strict=True, ge=0, le=90)] = 10
    exclude_pregnancy: bool = True
    exclude_liver_disease: bool = True
    review_hepatotoxic_drugs: bool = True
    liver_test_with_hepatotoxic_drugs: bool = True
    max_esr_mm_h: float | None = None
    notes: str | None = None


class ResponderRule(_Model):
    """A participant responds when ``item`` improves by at least ``min_improvement_percent``.

    Improvement is the % change of :class:`Endpoints` taken in the item's good
    direction. With ``also_any_of``, at least one of those items must also
    improve by ``also_min_improvement_percent`` (the 2013 composite: pain plus
    fatigue or sleep).
    """

    id: Identifier
    item: Identifier
    min_improvement_percent: Annotated[float, Field(gt=0, le=100)]
    also_any_of: list[Identifier] = Field(default_factory=list)
    also_min_improvement_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    description: str | None = None


class DailyModel(_Model):
    """How the daily mixed model compares the conditions, fixed before the data are seen.

    The comparison is LDN against its comparator on each condition's final
    days: the first ``run_in_days`` of every condition are left out (LDN
    builds up over about a month and the previous condition fades as
    slowly), and only the last ``window_days`` of each condition are
    compared, so that an 84-day and a 28-day phase are compared over equal,
    equally settled windows. Without ``window_days`` the window is the
    shortest treated phase minus the run-in. ``own_effects`` lets each
    participant have her own LDN effect (a random condition effect) where the
    design shows it (not in a parallel trial); ``autocorrelation`` lets
    neighbouring days be alike (AR(1)). ``reason`` says why, in the
    statistician's words, and is printed with the result.
    """

    run_in_days: NonNegativeDays = 14
    window_days: PositiveDays | None = None
    own_effects: bool = True
    autocorrelation: bool = True
    reason: str = ""


class Endpoints(_Model):
    """The pre-specified endpoint definitions the analysis follows.

    % improvement = (baseline - endpoint) / baseline x 100 for items where
    lower is better (pain: the NCT00568555 definition), and (endpoint -
    baseline) / baseline x 100 where higher is better (sleep quality). Baseline
    is the mean daily rating over ``baseline_phase`` (its last ``baseline_days``
    days if given); the endpoint is the mean over the final ``endpoint_days``
    days of each condition (the whole condition when ``endpoint_days`` is absent).
    """

    primary_item: Identifier
    secondary_items: list[Identifier] = Field(default_factory=list)
    baseline_phase: Identifier
    baseline_days: PositiveDays | None = None
    endpoint_days: PositiveDays | None = None
    responders: list[ResponderRule] = Field(default_factory=list)
    daily_model: DailyModel = DailyModel()


class Protocol(_Model):
    """A whole study design: conditions, phases, sequences, allocation, diary, visits, labs."""

    format: Literal[1] = FORMAT_VERSION
    id: Identifier
    title: Text
    summary: str = ""
    population: str = ""
    references: list[Reference] = Field(default_factory=list)
    conditions: dict[Identifier, Condition] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)
    sequences: list[Sequence] = Field(default_factory=list)
    allocation: Allocation
    dosing: Dosing = Dosing()
    diary: DiarySettings
    visits: Visits | None = None
    labs: list[LabPanel] = Field(default_factory=list)
    eligibility: Eligibility = Eligibility()
    endpoints: Endpoints

    # -- derived views ------------------------------------------------------

    def phase(self, name: str) -> Phase:
        """The phase called ``name`` (KeyError if there is none)."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(name)

    def diary_item(self, item_id: str) -> DiaryItem:
        """The diary item called ``item_id`` (KeyError if there is none)."""
        for item in self.diary.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def condition_of(self, phase_name: str) -> Condition:
        """The condition taken during the phase called ``phase_name``."""
        return self.conditions[self.phase(phase_name).condition]

    @cached_property
    def design(self) -> Design:
        """The design family the analyses follow (crossover, parallel, N-of-1...)."""
        return classify_design(self)

    @cached_property
    def comparison(self) -> Comparison:
        """The LDN condition, its comparator and the untreated condition (KeyError when the
        protocol has no LDN condition)."""
        return comparison_of(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy, without the design and comparison derived from the original: an
        updated copy derives its own."""
        copied = super().model_copy(update=update, deep=deep)
        for derived in ("design", "comparison"):
            copied.__dict__.pop(derived, None)
        return copied

    @property
    def strata(self) -> list[Stratum]:
        """The stratification factors: a permuted-blocks allocation's; no other is stratified."""
        return self.allocation.strata if isinstance(self.allocation, PermutedBlocks) else []

    @property
    def up_and_down(self) -> UpAndDown | None:
        """The dose-finding rule when each dose follows the last response, else None."""
        return self.allocation if isinstance(self.allocation, UpAndDown) else None

    @property
    def response_rule(self) -> ResponderRule | None:
        """The responder rule an up-and-down design moves the dose by, else None."""
        wanted = self.up_and_down.response_rule if self.up_and_down else None
        return next((r for r in self.endpoints.responders if r.id == wanted), None)

    @property
    def all_sequences(self) -> list[Sequence]:
        """The sequences participants can be allocated to.

        Explicit ``sequences`` for most designs; for ``randomised_pairs`` every
        order of the pairs (2 ** pairs sequences, equally likely), named by the
        order within each pair, e.g. ``AB-BA-AB``.
        """
        allocation = self.allocation
        if not isinstance(allocation, RandomisedPairs):
            return list(self.sequences)
        first, second = allocation.pair
        orders = {"AB": [first, second], "BA": [second, first]}
        generated = []
        for combo in itertools.product(("AB", "BA"), repeat=allocation.pairs):
            phases = list(allocation.lead_in)
            for order in combo:
                phases.extend(orders[order])
            phases.extend(allocation.follow_up)
            generated.append(Sequence(name="-".join(combo), phases=phases))
        return generated

    def sequence(self, name: str) -> Sequence:
        """The sequence called ``name`` (KeyError if there is none)."""
        for sequence in self.all_sequences:
            if sequence.name == name:
                return sequence
        raise KeyError(name)

    @property
    def diary_item_ids(self) -> list[str]:
        """The ids of the diary items, in the order the diary shows them."""
        return [item.id for item in self.diary.items]

    @property
    def is_blinded(self) -> bool:
        """True when any phase hides the condition from someone."""
        return any(phase.blinding != Blinding.OPEN for phase in self.phases)
