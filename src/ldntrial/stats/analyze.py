"""``analyze(trial)``: every pre-specified analysis the design allows, in one object.

The protocol decides what runs: its primary and secondary items, its
responder rules, its design (crossover, fixed order, parallel, single arm,
dose finding, N-of-1) and what it measures (thresholds at visits, a cytokine
panel, ESR, blinding guesses). Analyses a design cannot support are None,
with the reason in ``not_applicable``, so a reader sees what was not done
as clearly as what was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ldntrial.data.flow import withdrawal_reasons
from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.design import Design
from ldntrial.protocol.model import Protocol
from ldntrial.stats.cytokines import analyse_cytokines
from ldntrial.stats.daily_model import fit_daily_model
from ldntrial.stats.dose_finding import analyse_dose_finding
from ldntrial.stats.esr import analyse_esr
from ldntrial.stats.nof1 import Nof1Answer, Nof1Spec, answer_and_pool
from ldntrial.stats.prepared import PreparedTrial
from ldntrial.stats.primary import analyse_endpoint
from ldntrial.stats.responders import classify_responders
from ldntrial.stats.results import AnalysisResult, json_safe_dict
from ldntrial.stats.safety import analyse_blinding, analyse_safety
from ldntrial.stats.thresholds import analyse_thresholds
from ldntrial.stats.validity import cells_named, label
from ldntrial.version import __version__

__all__ = ["RESULT_KEYS", "TrialAnalysis", "analyze"]

# The single results of a TrialAnalysis, in the order of the JSON document.
RESULT_KEYS = (
    "primary",
    "mixed_model",
    "carryover",
    "responders",
    "safety",
    "blinding",
    "esr",
    "thresholds",
    "cytokines",
    "dose_finding",
)


@dataclass(frozen=True)
class TrialAnalysis:
    """The results of :func:`analyze`; every field is documented in the README's JSON schema."""

    protocol_id: str
    design: Design
    flow: dict[str, Any]
    primary: AnalysisResult
    mixed_model: AnalysisResult | None
    carryover: AnalysisResult | None
    responders: AnalysisResult
    secondary: dict[str, dict[str, AnalysisResult | None]]
    safety: AnalysisResult
    blinding: AnalysisResult | None
    esr: AnalysisResult | None
    thresholds: AnalysisResult | None
    cytokines: AnalysisResult | None
    dose_finding: AnalysisResult | None
    nof1: list[Nof1Answer] | None
    nof1_pooled: AnalysisResult | None
    not_applicable: dict[str, str] = field(default_factory=dict)

    def results(self) -> dict[str, AnalysisResult]:
        """The top-level results that exist, by key (secondary and N-of-1 not included)."""
        keys = [*RESULT_KEYS, "nof1_pooled"]
        return {key: getattr(self, key) for key in keys if getattr(self, key) is not None}

    def to_dict(self) -> dict[str, Any]:
        """One JSON-safe document (the ``ldntrial analyze --json`` output).

        Each result makes itself JSON-safe; only the flow needs it here. Walking the
        whole document again cost an analysis of 10,000 participants 2 s (issue 17).
        """
        document: dict[str, Any] = {
            "ldntrial_version": __version__,
            "protocol": self.protocol_id,
            "design": str(self.design),
            "flow": json_safe_dict(self.flow),
        }
        for key in RESULT_KEYS:
            value = getattr(self, key)
            document[key] = value.to_dict() if value is not None else None
        document["secondary"] = {
            item: {k: (v.to_dict() if v is not None else None) for k, v in parts.items()}
            for item, parts in self.secondary.items()
        }
        document["nof1"] = (
            None
            if self.nof1 is None
            else {
                "participants": [answer.to_dict() for answer in self.nof1],
                "pooled": self.nof1_pooled.to_dict() if self.nof1_pooled else None,
            }
        )
        document["not_applicable"] = dict(self.not_applicable)
        return document

    def summary(self, format: str = "text") -> str:
        """Every result's summary, one after another."""
        parts = [result.summary(format) for result in self.results().values()]
        for results in self.secondary.values():
            parts += [r.summary(format) for r in results.values() if r is not None]
        return "\n\n".join(parts)


def analyze(trial: TrialData, *, nof1_spec: Nof1Spec | None = None) -> TrialAnalysis:
    """Run the protocol's pre-specified analyses on an unblinded ``trial``."""
    if trial.blinded:
        raise AnalysisError(
            "analysis needs unblinded data; a blinded view masks the conditions "
            "(the statistician unblinds after the database is locked)"
        )
    # The frames the analyses share (an item's compared days, its end points) are built
    # once, by the first analysis that asks, and handed to the next.
    context = PreparedTrial(trial)
    protocol = trial.protocol
    design = protocol.design
    not_applicable: dict[str, str] = {}
    mixed = fit_daily_model(context) if design != Design.DOSE_FINDING else None
    if mixed is None:
        not_applicable["mixed_model"] = "each participant takes one dose; see dose_finding"
    carryover = None
    if design == Design.CROSSOVER:
        carryover = fit_daily_model(context, sequence_term=True)
    else:
        not_applicable["carryover"] = f"needs two or more sequences of both conditions ({design})"
    secondary = {}
    for item in protocol.endpoints.secondary_items:
        try:
            secondary[item] = {
                "endpoint": analyse_endpoint(context, item),
                "mixed_model": fit_daily_model(context, item) if mixed is not None else None,
            }
        except AnalysisError as error:
            # One secondary item the data cannot support does not stop the others.
            not_applicable[f"secondary.{item}"] = str(error)
    esr, thresholds, cytokines, blinding = (
        analyse_esr(context),
        analyse_thresholds(trial),
        analyse_cytokines(trial),
        analyse_blinding(trial),
    )
    for key, value, reason in (
        ("esr", esr, "no baseline ESR values"),
        ("thresholds", thresholds, "no numeric measures at every visit"),
        ("cytokines", cytokines, "no scheduled lab panel"),
        ("blinding", blinding, "no blinding guesses"),
    ):
        if value is None:
            not_applicable[key] = reason
    dose_finding = analyse_dose_finding(context) if design == Design.DOSE_FINDING else None
    if dose_finding is None:
        not_applicable["dose_finding"] = "not an up-and-down design"
    nof1, pooled = None, None
    if design == Design.NOF1:
        nof1, pooled = answer_and_pool(context, nof1_spec or Nof1Spec())
    else:
        not_applicable["nof1"] = (
            "not an N-of-1 design; `ldntrial report --participant` gives one woman's answer"
        )
    cells = _cells(protocol)
    labelled = _labelled(
        protocol,
        cells,
        {
            "mixed_model": mixed,
            "carryover": carryover,
            "blinding": blinding,
            "esr": esr,
            "thresholds": thresholds,
            "cytokines": cytokines,
            "dose_finding": dose_finding,
            "nof1_pooled": pooled,
        },
    )
    secondary = {
        item: {
            kind: label(result, protocol.id, [f"secondary.{item}.{kind}"]) if result else None
            for kind, result in parts.items()
        }
        for item, parts in secondary.items()
    }
    return TrialAnalysis(
        protocol_id=protocol.id,
        design=design,
        flow=_flow(trial),
        # Every trial has these three; the others may not apply.
        primary=label(analyse_endpoint(context), protocol.id, cells["primary"]),
        mixed_model=labelled["mixed_model"],
        carryover=labelled["carryover"],
        responders=label(classify_responders(context), protocol.id, cells["responders"]),
        secondary=secondary,
        safety=label(analyse_safety(trial), protocol.id, cells["safety"]),
        blinding=labelled["blinding"],
        esr=labelled["esr"],
        thresholds=labelled["thresholds"],
        cytokines=labelled["cytokines"],
        dose_finding=labelled["dose_finding"],
        nof1=nof1,
        nof1_pooled=labelled["nof1_pooled"],
        not_applicable=not_applicable,
    )


def _labelled(
    protocol: Protocol, cells: dict[str, list[str]], results: dict[str, AnalysisResult | None]
) -> dict[str, AnalysisResult | None]:
    """Each result with its verdict from the validation (the cells it reports)."""
    return {
        key: label(result, protocol.id, cells.get(key, [])) if result is not None else None
        for key, result in results.items()
    }


def _cells(protocol: Protocol) -> dict[str, list[str]]:
    """The validation cells each analysis reports, by its name in TrialAnalysis."""
    primary = protocol.endpoints.primary_item
    responder_cells = [
        *(f"responders.{rule.id}" for rule in protocol.endpoints.responders),
        f"responders.significant_{primary}",
        "responders.significant_composite",
    ]
    cells = {
        "primary": ["primary"],
        "mixed_model": ["mixed_model"],
        "responders": responder_cells,
        "nof1_pooled": ["nof1.pooled"],
    }
    for key in ("cytokines", "esr", "thresholds", "safety", "blinding", "dose_finding"):
        cells[key] = cells_named(protocol.id, f"{key}.")
    return cells


def _flow(trial: TrialData) -> dict[str, Any]:
    people = trial.participants
    by_sequence = people.groupby("sequence").size().to_dict()
    status = people["status"].value_counts().to_dict()
    return {
        "randomised": len(people),
        "by_sequence": by_sequence,
        "completed": int(status.get("completed", 0)),
        "withdrawn": int(status.get("withdrawn", 0)),
        "withdrawn_reasons": dict(withdrawal_reasons(people)),
        "ongoing": int(status.get("active", 0) + status.get("enrolled", 0)),
        "with_diary": int(trial.diary["participant_id"].nunique()),
    }
