"""Screening: the ACR fibromyalgia criteria, age and sex, and the LDN safety exclusions.

Each decision comes with its reasons, and each reason names the rule's
source, so a coordinator can show an investigator why. The software flags;
an investigator decides: a "needs clinician review" outcome is never an
exclusion by itself (methotrexate, for example, has no documented
interaction with naltrexone, only a class-level hepatotoxicity caution;
studies.md §6.2).

Criteria (studies.md §5):

- ACR 2010 (Wolfe et al., Arthritis Care Res 2010;62:600-610): WPI >= 7 and
  SS >= 5, or WPI 3-6 and SS >= 9; symptoms >= 3 months; no other disorder
  that would explain the pain. SS = fatigue + waking unrefreshed + cognitive
  symptoms (each 0-3) + the clinician's somatic-symptom rating (0-3).
- ACR 2011 (Wolfe et al., J Rheumatol 2011;38:1113): the 2010 thresholds with
  a self-reported SS: the somatic rating is replaced by headaches, lower
  abdominal pain or cramps, and depression in the past 6 months (0-3).
- ACR 2016 (Wolfe et al., Semin Arthritis Rheum 2016;46:319-329): WPI >= 7
  and SS >= 5, or WPI 4-6 and SS >= 9 (2011 SS); generalised pain in >= 4 of
  5 regions, where jaw, chest and abdomen do not count; >= 3 months; valid
  whatever the other diagnoses.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ldntrial.errors import EligibilityError
from ldntrial.protocol.model import Eligibility, Protocol
from ldntrial.vocab import Sex

__all__ = [
    "ESR_MAX_MM_H",
    "PAIN_AREAS",
    "SYMPTOM_MONTHS_MAX",
    "CriterionResult",
    "EligibilityDecision",
    "Outcome",
    "Reason",
    "ScreeningAnswers",
    "acr_2010",
    "acr_2011",
    "acr_2016",
    "find_medications",
    "screen",
    "widespread_pain_index",
]

PAIN_AREAS = (
    "left_jaw", "right_jaw", "left_shoulder_girdle", "right_shoulder_girdle",
    "left_upper_arm", "right_upper_arm", "left_lower_arm", "right_lower_arm",
    "left_hip", "right_hip", "left_upper_leg", "right_upper_leg",
    "left_lower_leg", "right_lower_leg", "chest", "abdomen", "upper_back",
    "lower_back", "neck",
)  # fmt: skip

# The five regions of the 2016 generalised-pain rule; jaw, chest and abdomen are left out.
_REGIONS_2016 = {
    "left upper": {"left_shoulder_girdle", "left_upper_arm", "left_lower_arm"},
    "right upper": {"right_shoulder_girdle", "right_upper_arm", "right_lower_arm"},
    "left lower": {"left_hip", "left_upper_leg", "left_lower_leg"},
    "right lower": {"right_hip", "right_upper_leg", "right_lower_leg"},
    "axial": {"neck", "upper_back", "lower_back"},
}

SOURCES = {
    "acr-2010": "Wolfe F et al. Arthritis Care Res 2010;62:600-610",
    "acr-2011": "Wolfe F et al. J Rheumatol 2011;38:1113-1122",
    "acr-2016": "Wolfe F et al. Semin Arthritis Rheum 2016;46:319-329",
    "label": "Naltrexone hydrochloride tablets label (contraindications)",
    "protocol": "the study protocol",
}

Score03 = Annotated[int, Field(strict=True, ge=0, le=3)]


# The Westergren ESR reads at most 200 mm/h (the height of the tube); a larger value is a
# typing error, refused on every path that takes one (screening, lab entry, lab import).
ESR_MAX_MM_H = 200.0
# Months with symptoms: at most a long lifetime; more is a typing error.
SYMPTOM_MONTHS_MAX = 12 * 120


class ScreeningAnswers(BaseModel):
    """What a screening visit records. Items a criteria set does not use may be left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    age: Annotated[int, Field(strict=True, ge=0, le=120)]
    sex: Sex
    pain_areas: frozenset[str] = frozenset()
    fatigue: Score03
    waking_unrefreshed: Score03
    cognitive_symptoms: Score03
    somatic_symptoms: Score03 | None = None
    headaches: bool | None = None
    lower_abdominal_pain: bool | None = None
    depression: bool | None = None
    symptom_months: Annotated[int, Field(strict=True, ge=0, le=SYMPTOM_MONTHS_MAX)]
    other_disorder_explains_pain: bool = False
    medications: list[str] = Field(default_factory=list)
    pregnant: bool = False
    planning_pregnancy: bool = False
    acute_hepatitis: bool = False
    liver_failure: bool = False
    esr_mm_h: Annotated[float, Field(ge=0, le=ESR_MAX_MM_H, allow_inf_nan=False)] | None = None


class Outcome(StrEnum):
    """The screening decision."""

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Reason:
    """One rule applied: did it pass, fail, or call for a clinician's review, and why."""

    rule: str
    outcome: str  # "pass", "fail" or "review"
    message: str
    source: str


@dataclass(frozen=True)
class CriterionResult:
    """The result of one ACR criteria set, with its scores."""

    criteria: str
    met: bool
    wpi: int
    ss: int
    message: str


@dataclass(frozen=True)
class EligibilityDecision:
    """Eligible, ineligible, or waiting for a clinician, with every reason."""

    outcome: Outcome
    reasons: tuple[Reason, ...]

    @property
    def failed(self) -> list[Reason]:
        """The reasons that exclude."""
        return [reason for reason in self.reasons if reason.outcome == "fail"]

    @property
    def for_review(self) -> list[Reason]:
        """The reasons a clinician must look at."""
        return [reason for reason in self.reasons if reason.outcome == "review"]


def widespread_pain_index(areas: frozenset[str] | set[str]) -> int:
    """WPI 0-19: the number of the 19 body areas painful in the past week."""
    unknown = sorted(set(areas) - set(PAIN_AREAS))
    if unknown:
        raise EligibilityError(
            f"pain_areas: unknown areas {', '.join(unknown)}; use {', '.join(PAIN_AREAS)}"
        )
    return len(set(areas))


def _require(answers: ScreeningAnswers, fields: tuple[str, ...], criteria: str) -> None:
    missing = [name for name in fields if getattr(answers, name) is None]
    if missing:
        raise EligibilityError(
            f"{', '.join(missing)}: needed to score the {criteria.upper()} criteria"
        )


def _thresholds_met(wpi: int, ss: int, low_band_start: int) -> bool:
    return (wpi >= 7 and ss >= 5) or (low_band_start <= wpi <= 6 and ss >= 9)


def _ss_2011(answers: ScreeningAnswers) -> int:
    extra = sum(
        bool(x) for x in (answers.headaches, answers.lower_abdominal_pain, answers.depression)
    )
    return answers.fatigue + answers.waking_unrefreshed + answers.cognitive_symptoms + extra


def acr_2010(answers: ScreeningAnswers) -> CriterionResult:
    """ACR 2010 preliminary diagnostic criteria (clinician-rated somatic symptoms)."""
    _require(answers, ("somatic_symptoms",), "acr-2010")
    wpi = widespread_pain_index(answers.pain_areas)
    ss = (
        answers.fatigue
        + answers.waking_unrefreshed
        + answers.cognitive_symptoms
        + (answers.somatic_symptoms or 0)
    )
    return _verdict(
        "acr-2010", wpi, ss, _thresholds_met(wpi, ss, 3), answers, exclusion_clause=True
    )


def acr_2011(answers: ScreeningAnswers) -> CriterionResult:
    """ACR 2011 survey modification (fully self-reported symptom severity)."""
    _require(answers, ("headaches", "lower_abdominal_pain", "depression"), "acr-2011")
    wpi = widespread_pain_index(answers.pain_areas)
    ss = _ss_2011(answers)
    return _verdict(
        "acr-2011", wpi, ss, _thresholds_met(wpi, ss, 3), answers, exclusion_clause=True
    )


def acr_2016(answers: ScreeningAnswers) -> CriterionResult:
    """ACR 2016 revision: the WPI 4-6 band and the generalised-pain rule."""
    _require(answers, ("headaches", "lower_abdominal_pain", "depression"), "acr-2016")
    wpi = widespread_pain_index(answers.pain_areas)
    ss = _ss_2011(answers)
    regions = sum(bool(areas & answers.pain_areas) for areas in _REGIONS_2016.values())
    met = _thresholds_met(wpi, ss, 4) and regions >= 4
    result = _verdict("acr-2016", wpi, ss, met, answers, exclusion_clause=False)
    return CriterionResult(
        result.criteria, result.met, wpi, ss, f"{result.message}; {regions} of 5 regions painful"
    )


def _verdict(
    criteria: str,
    wpi: int,
    ss: int,
    thresholds: bool,
    answers: ScreeningAnswers,
    *,
    exclusion_clause: bool,
) -> CriterionResult:
    long_enough = answers.symptom_months >= 3
    explained = exclusion_clause and answers.other_disorder_explains_pain
    met = thresholds and long_enough and not explained
    message = f"WPI {wpi}, SS {ss}, symptoms for {answers.symptom_months} months"
    if explained:
        message += "; another disorder explains the pain"
    return CriterionResult(criteria, met, wpi, ss, message)


_CRITERIA = {"acr-2010": acr_2010, "acr-2011": acr_2011, "acr-2016": acr_2016}


def _reference(name: str) -> list[dict[str, str]]:
    text = resources.files("ldntrial.protocol.reference").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _normalised(text: str) -> str:
    """Lower case, '-' as a space, 'No. 3' and '# 3' as '#3': how names are written."""
    text = re.sub(r"[-_/]", " ", text.lower())
    text = re.sub(r"\b(?:no\.?|#)\s*(\d)", r"#\1", text)
    return " ".join(text.split())


@cache
def _products() -> tuple[tuple[re.Pattern[str], str, tuple[str, ...], str], ...]:
    """Every name a medication is written by, with its ingredients and the source of both.

    Brand names and combinations come from drug_products.csv; every ingredient
    is also a name of itself. Longer names are tried first, so that "Tylenol #3"
    is codeine and acetaminophen, not only the acetaminophen of "Tylenol".
    """
    names = [
        (row["name"], tuple(i.strip() for i in row["ingredients"].split(";")), row["source"])
        for row in _reference("drug_products.csv")
    ]
    names += [(i, (i,), "the ingredient's own name") for i in _ingredients()]
    names.sort(key=lambda item: -len(item[0]))
    return tuple(
        (re.compile(rf"(?<![a-z0-9#]){re.escape(_normalised(n))}(?![a-z0-9])"), n, i, s)
        for n, i, s in names
    )


@cache
def _ingredients() -> dict[str, dict[str, str]]:
    return {row["ingredient"]: row for row in _reference("ingredients.csv")}


def find_medications(medications: list[str]) -> list[dict[str, str]]:
    """The ingredients that matter for LDN in each entry, by brand, combination or name.

    Each row: ``entry`` as written, ``name`` matched, ``ingredient``, its
    ``category`` (opioid, hepatotoxic, interaction), ``outcome`` (exclude for an
    opioid, review otherwise) and ``source`` (the product's composition and
    why the ingredient matters). Ingredients without a rule are not returned.
    """
    found = []
    for entry in medications:
        text = _normalised(entry)
        seen: set[str] = set()
        for pattern, name, ingredients, composition in _products():
            match = pattern.search(text)
            if match is None:
                continue
            text = text[: match.start()] + " " * len(match.group()) + text[match.end() :]
            for ingredient in ingredients:
                row = _ingredients()[ingredient]
                if not row["category"] or ingredient in seen:
                    continue
                seen.add(ingredient)
                found.append(
                    {
                        "entry": entry,
                        "name": name,
                        "ingredient": ingredient,
                        "category": row["category"],
                        "outcome": "exclude" if row["category"] == "opioid" else "review",
                        "source": f"{name}: {composition}; {row['why']}",
                    }
                )
    return found


def screen(protocol: Protocol | Eligibility, answers: ScreeningAnswers) -> EligibilityDecision:
    """Apply a protocol's eligibility rules to one person's screening answers."""
    rules = protocol.eligibility if isinstance(protocol, Protocol) else protocol
    reasons: list[Reason] = []
    results = [_CRITERIA[name](answers) for name in rules.criteria]
    summary = "; ".join(
        f"{'meets' if result.met else 'does not meet'} {result.criteria.upper()} "
        f"({result.message})"
        for result in results
    )
    reasons.append(
        Reason(
            "fibromyalgia",
            "pass" if any(result.met for result in results) else "fail",
            summary,
            "; ".join(SOURCES[result.criteria] for result in results),
        )
    )
    age_ok = rules.min_age <= answers.age <= rules.max_age
    reasons.append(
        Reason(
            "age",
            "pass" if age_ok else "fail",
            f"age {answers.age}; the protocol accepts {rules.min_age}-{rules.max_age}",
            SOURCES["protocol"],
        )
    )
    sex_ok = answers.sex in rules.sexes
    reasons.append(
        Reason(
            "sex",
            "pass" if sex_ok else "fail",
            f"sex {answers.sex}; the protocol accepts {', '.join(rules.sexes)}",
            SOURCES["protocol"],
        )
    )
    reasons.extend(_safety_reasons(rules, answers))
    if any(reason.outcome == "fail" for reason in reasons):
        outcome = Outcome.INELIGIBLE
    elif any(reason.outcome == "review" for reason in reasons):
        outcome = Outcome.NEEDS_REVIEW
    else:
        outcome = Outcome.ELIGIBLE
    return EligibilityDecision(outcome, tuple(reasons))


def _safety_reasons(rules: Eligibility, answers: ScreeningAnswers) -> list[Reason]:
    reasons = []
    for row in find_medications(answers.medications):
        what = f"'{row['entry']}' ({row['ingredient']}"
        what += ")" if row["name"] == row["ingredient"] else f", in {row['name']})"
        if row["category"] == "opioid":
            # Without the exclusion the physician decides; the interval holds either way.
            reasons.append(
                Reason(
                    "opioid",
                    "fail" if rules.exclude_opioids else "review",
                    f"{what} is an opioid: naltrexone blocks it and can bring on withdrawal; "
                    f"at least {rules.opioid_free_days} days without any opioid before the "
                    "first dose (the label asks for 7-10)",
                    f"{row['source']}; {SOURCES['label']}",
                )
            )
        elif rules.review_hepatotoxic_drugs:
            test = (
                "; the protocol asks for a liver test (ALT, AST) before the first dose"
                if rules.liver_test_with_hepatotoxic_drugs and row["category"] == "hepatotoxic"
                else ""
            )
            reasons.append(
                Reason(
                    row["category"],
                    "review",
                    f"{what} needs a clinician's review before LDN{test}",
                    row["source"],
                )
            )
    if rules.exclude_pregnancy and (answers.pregnant or answers.planning_pregnancy):
        reasons.append(
            Reason(
                "pregnancy", "fail", "pregnant or planning a pregnancy", "NCT00568555 eligibility"
            )
        )
    if rules.exclude_liver_disease and (answers.acute_hepatitis or answers.liver_failure):
        reasons.append(
            Reason("liver", "fail", "acute hepatitis or liver failure", SOURCES["label"])
        )
    if rules.max_esr_mm_h is not None:
        if answers.esr_mm_h is None:
            raise EligibilityError(
                f"esr_mm_h: needed, the protocol excludes ESR above {rules.max_esr_mm_h:g} mm/h"
            )
        if answers.esr_mm_h > rules.max_esr_mm_h:
            reasons.append(
                Reason(
                    "esr",
                    "fail",
                    f"ESR {answers.esr_mm_h:g} mm/h is above {rules.max_esr_mm_h:g} mm/h",
                    SOURCES["protocol"],
                )
            )
    return reasons
