"""Screening: ACR criteria scored by hand, LDN safety exclusions with their sources."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ldntrial.errors import EligibilityError
from ldntrial.protocol.eligibility import (
    Outcome,
    ScreeningAnswers,
    acr_2010,
    acr_2011,
    acr_2016,
    find_medications,
    screen,
    widespread_pain_index,
)
from ldntrial.protocol.loader import load_protocol

WIDESPREAD = frozenset(
    {
        "left_shoulder_girdle", "right_shoulder_girdle", "left_upper_arm", "right_upper_arm",
        "left_hip", "right_hip", "upper_back", "lower_back", "neck",
    }
)  # fmt: skip  # WPI 9, all five 2016 regions


def answers(**changes: Any) -> ScreeningAnswers:
    base: dict[str, Any] = {
        "age": 45,
        "sex": "female",
        "pain_areas": WIDESPREAD,
        "fatigue": 2,
        "waking_unrefreshed": 2,
        "cognitive_symptoms": 1,
        "somatic_symptoms": 1,
        "headaches": True,
        "lower_abdominal_pain": False,
        "depression": False,
        "symptom_months": 24,
    }
    return ScreeningAnswers(**(base | changes))


def test_wpi_counts_the_painful_areas() -> None:
    assert widespread_pain_index(WIDESPREAD) == 9
    with pytest.raises(EligibilityError, match="unknown areas elbow"):
        widespread_pain_index({"elbow"})


@pytest.mark.parametrize(
    ("areas", "ss_parts", "met_2010"),
    [
        (9, (2, 2, 1, 1), True),  # WPI 9, SS 6: WPI >= 7 and SS >= 5
        (7, (1, 1, 1, 1), False),  # SS 4 is too low
        (5, (3, 3, 2, 1), True),  # WPI 3-6 with SS 9
        (5, (3, 2, 2, 1), False),  # SS 8 is too low for WPI 5
        (3, (3, 3, 3, 0), True),  # WPI 3 counts in 2010
    ],
)
def test_acr_2010_thresholds(
    areas: int, ss_parts: tuple[int, int, int, int], met_2010: bool
) -> None:
    from ldntrial.protocol.eligibility import PAIN_AREAS

    fatigue, waking, cognitive, somatic = ss_parts
    result = acr_2010(
        answers(
            pain_areas=frozenset(PAIN_AREAS[:areas]),
            fatigue=fatigue,
            waking_unrefreshed=waking,
            cognitive_symptoms=cognitive,
            somatic_symptoms=somatic,
        )
    )
    assert (result.wpi, result.ss, result.met) == (areas, sum(ss_parts), met_2010)


def test_2011_replaces_the_clinician_rating_with_three_yes_no_items() -> None:
    result = acr_2011(
        answers(somatic_symptoms=None, headaches=True, lower_abdominal_pain=True, depression=False)
    )
    assert (result.wpi, result.ss, result.met) == (9, 7, True)


def test_2016_moves_the_low_band_to_wpi_4_and_adds_generalised_pain() -> None:
    # WPI 3 with SS 9 met 2010 but not 2016.
    three = frozenset({"neck", "upper_back", "lower_back"})
    high_ss = {"fatigue": 3, "waking_unrefreshed": 3, "cognitive_symptoms": 3}
    assert acr_2011(answers(pain_areas=three, **high_ss)).met is True
    assert acr_2016(answers(pain_areas=three, **high_ss)).met is False
    # WPI 8 but confined to the right side and the jaw: only 2 of 5 regions.
    one_sided = frozenset(
        {"right_jaw", "right_shoulder_girdle", "right_upper_arm", "right_lower_arm",
         "right_hip", "right_upper_leg", "right_lower_leg", "chest"}
    )  # fmt: skip
    result = acr_2016(answers(pain_areas=one_sided))
    assert (result.wpi, result.met) == (8, False)
    assert "2 of 5 regions" in result.message
    assert acr_2016(answers()).met is True


def test_symptoms_must_have_lasted_three_months() -> None:
    assert acr_2016(answers(symptom_months=2)).met is False


def test_the_2010_exclusion_clause_is_dropped_in_2016() -> None:
    assert acr_2010(answers(other_disorder_explains_pain=True)).met is False
    assert acr_2016(answers(other_disorder_explains_pain=True)).met is True


def test_missing_answers_for_a_criteria_set_are_named() -> None:
    with pytest.raises(EligibilityError, match="somatic_symptoms: needed to score the ACR-2010"):
        acr_2010(answers(somatic_symptoms=None))


def test_an_eligible_woman_passes_every_rule_with_its_source() -> None:
    decision = screen(load_protocol("crossover-2013"), answers())
    assert decision.outcome == Outcome.ELIGIBLE
    assert [reason.rule for reason in decision.reasons] == ["fibromyalgia", "age", "sex"]
    assert decision.reasons[0].source.startswith("Wolfe F et al. Arthritis Care Res 2010")


@pytest.mark.parametrize(
    ("medication", "ingredient"),
    [
        ("Tramadol 50 mg", "tramadol"),
        ("Norco 5/325 as needed", "hydrocodone"),
        ("PERCOCET", "oxycodone"),
        ("buprenorphine patch", "buprenorphine"),
        ("Tylenol with codeine", "codeine"),
        # Brands and combinations the old word list let through (issue 16).
        ("Tylenol #3", "codeine"),
        ("tylenol no. 3 at night", "codeine"),
        ("Ultracet 37.5/325", "tramadol"),
        ("Butrans 10 mcg/h patch", "buprenorphine"),
        ("Belbuca film", "buprenorphine"),
        ("Lortab", "hydrocodone"),
    ],
)
def test_any_opioid_excludes(medication: str, ingredient: str) -> None:
    decision = screen(
        load_protocol("crossover-2013"), answers(medications=["duloxetine", medication])
    )
    assert decision.outcome == Outcome.INELIGIBLE
    (reason,) = decision.failed
    assert reason.rule == "opioid"
    assert ingredient in reason.message
    assert "label" in reason.source.lower()


def test_methotrexate_needs_a_clinician_not_an_exclusion() -> None:
    decision = screen(
        load_protocol("crossover-2013"), answers(medications=["Methotrexate 15 mg weekly"])
    )
    assert decision.outcome == Outcome.NEEDS_REVIEW
    (reason,) = decision.for_review
    assert reason.rule == "hepatotoxic"
    assert "no specific interaction documented" in reason.source


def test_words_that_merely_contain_a_drug_name_do_not_match() -> None:
    assert find_medications(["morphinex vitamins"]) == []
    assert find_medications(["Tylenol 500 mg", "Tylenol extra strength"]) == []


def test_a_combination_resolves_to_each_ingredient_with_its_source() -> None:
    (row,) = find_medications(["Norco 10/325"])
    assert (row["name"], row["ingredient"], row["outcome"]) == ("norco", "hydrocodone", "exclude")
    assert row["source"].startswith("norco: US product label")
    assert "contraindicated with opioid analgesics" in row["source"]


@pytest.mark.parametrize("brand", ["Trexall 2.5 mg", "Otrexup 15 mg weekly", "Rasuvo"])
def test_methotrexate_brands_go_to_a_clinician_with_a_liver_test(brand: str) -> None:
    decision = screen(load_protocol("crossover-2013"), answers(medications=[brand]))
    assert decision.outcome == Outcome.NEEDS_REVIEW
    (reason,) = decision.for_review
    assert "methotrexate" in reason.message
    assert "liver test (ALT, AST) before the first dose" in reason.message


def test_an_opioid_states_the_opioid_free_interval_and_may_go_to_the_physician() -> None:
    protocol = load_protocol("nof1")
    (reason,) = screen(protocol, answers(medications=["Norco"])).failed
    assert "at least 10 days without any opioid before the first dose" in reason.message
    relaxed = protocol.model_copy(
        update={
            "eligibility": protocol.eligibility.model_copy(
                update={"exclude_opioids": False, "opioid_free_days": 14}
            )
        }
    )
    decision = screen(relaxed, answers(medications=["Norco"]))
    assert decision.outcome == Outcome.NEEDS_REVIEW
    (review,) = decision.for_review
    assert review.rule == "opioid" and "at least 14 days" in review.message


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"pregnant": True}, "pregnancy"),
        ({"planning_pregnancy": True}, "pregnancy"),
        ({"acute_hepatitis": True}, "liver"),
        ({"liver_failure": True}, "liver"),
        ({"age": 66}, "age"),
        ({"sex": "male"}, "sex"),
        ({"pain_areas": frozenset({"neck"})}, "fibromyalgia"),
    ],
)
def test_exclusions(changes: dict[str, Any], rule: str) -> None:
    decision = screen(load_protocol("crossover-2013"), answers(**changes))
    assert decision.outcome == Outcome.INELIGIBLE
    assert [reason.rule for reason in decision.failed] == [rule]


def test_the_cytokine_study_excludes_an_esr_above_60() -> None:
    protocol = load_protocol("cytokine-2017")
    assert screen(protocol, answers(esr_mm_h=45)).outcome == Outcome.ELIGIBLE
    decision = screen(protocol, answers(esr_mm_h=72))
    assert [reason.rule for reason in decision.failed] == ["esr"]
    with pytest.raises(EligibilityError, match="esr_mm_h: needed"):
        screen(protocol, answers())


def test_answers_out_of_range_are_refused_by_field() -> None:
    with pytest.raises(ValidationError, match="fatigue"):
        answers(fatigue=4)
