"""The FHIR R4 export: one Bundle whose resources validate, with LOINC, UCUM and R4 statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from ldntrial.errors import ExportError
from ldntrial.interop import fhir
from ldntrial.interop.export import export_trial
from ldntrial.protocol.loader import builtin_protocol_ids
from ldntrial.simulate import simulate_trial


def _resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize("protocol", builtin_protocol_ids())
def test_every_builtin_protocol_exports_one_valid_bundle_with_a_resource_per_row(
    protocol: str, tmp_path: Path
) -> None:
    trial = simulate_trial(protocol, n=4, seed=9)
    out = export_trial(trial, tmp_path / "f", format="fhir", study="s", identified=True).path
    bundle = json.loads((out / fhir.FHIR_FILE).read_text())
    Bundle.model_validate(bundle)  # every resource, by its R4B model
    days = trial.diary.groupby(["participant_id", "date"], observed=True).ngroups
    assert len(_resources(bundle, "QuestionnaireResponse")) == days
    assert len(_resources(bundle, "Observation")) == len(trial.labs) + len(trial.visits)
    assert len(_resources(bundle, "AdverseEvent")) == len(trial.adverse_events)
    assert len(_resources(bundle, "Patient")) == len(trial.participants)
    assert len(_resources(bundle, "ResearchSubject")) == len(trial.participants)
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    for subject in _resources(bundle, "ResearchSubject"):
        assert subject["individual"]["reference"] in urls
        assert subject["study"]["reference"] in urls


def test_the_diary_is_a_questionnaire_and_each_day_a_response_to_it() -> None:
    trial = simulate_trial("crossover-2013", n=2, seed=1)
    bundle = fhir.fhir_bundle(trial)
    (questionnaire,) = _resources(bundle, "Questionnaire")
    link_ids = [item["linkId"] for item in questionnaire["item"]]
    assert link_ids == [item.id for item in trial.protocol.diary.items]
    assert questionnaire["copyright"]
    response = _resources(bundle, "QuestionnaireResponse")[0]
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"
    assert response["status"] == "completed"
    assert {item["linkId"] for item in response["item"]} <= set(link_ids)
    first = trial.diary.iloc[0]
    answers = {item["linkId"]: item["answer"][0]["valueDecimal"] for item in response["item"]}
    assert answers[str(first["item"])] == first["value"]


def test_labs_carry_loinc_where_known_and_ucum_units() -> None:
    esr = _resources(
        fhir.fhir_bundle(simulate_trial("crossover-2013", n=2, seed=1)), "Observation"
    )
    coded = [o for o in esr if o["code"]["coding"][0]["system"] == fhir.LOINC]
    assert coded and {o["code"]["coding"][0]["code"] for o in coded} == {"30341-2"}
    assert coded[0]["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert coded[0]["valueQuantity"]["code"] == "mm/h"
    cytokines = fhir.fhir_bundle(simulate_trial("cytokine-2017", n=2, seed=1))
    by_text = {
        o["code"]["text"]: o["code"]["coding"][0] for o in _resources(cytokines, "Observation")
    }
    assert by_text["IL-6"]["system"] == fhir.LOINC and by_text["IL-6"]["code"] == "26881-3"
    assert by_text["IL-27"]["system"] == fhir.LOCAL  # no LOINC in the table: not invented
    thresholds = [o for o in esr if o["code"]["text"] == "pressure_threshold"]
    assert thresholds and thresholds[0]["valueQuantity"]["code"] == "kPa"


def test_codes_that_fhir_resources_would_let_through_are_refused() -> None:
    trial = simulate_trial("crossover-2013", n=2, seed=1)
    visits = trial.visits.copy()
    visits["unit"] = visits["unit"].astype(str).replace({"kPa": "mm/hh"})
    with pytest.raises(ExportError, match="unit: 'mm/hh' is not a UCUM code"):
        fhir.fhir_bundle(trial.with_tables(visits=visits))
    with pytest.raises(ExportError, match=r"QuestionnaireResponse\.status: 'done'"):
        fhir._check_codes({"resourceType": "QuestionnaireResponse", "status": "done"})


def test_a_deidentified_bundle_names_no_participant(tmp_path: Path) -> None:
    trial = simulate_trial("crossover-2013", n=3, seed=2)
    key = b"the site's export secret, 32 b."
    out = export_trial(trial, tmp_path / "f", format="fhir", study="s", key=key).path
    text = (out / fhir.FHIR_FILE).read_text()
    assert "P-" in text
    assert all(code not in text for code in trial.participants["participant_id"])
