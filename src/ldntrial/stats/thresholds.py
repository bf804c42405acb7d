"""Pain thresholds at the lab visits (pressure, heat, cold) across visits and conditions.

The pilot tested mechanical, heat and cold pain sensitivity every 2 weeks;
mechanical and heat thresholds improved on LDN, cold did not (Younger &
Mackey 2009, studies.md §1.4). Every numeric measure recorded at every visit
is analysed: a table of means per visit and condition, and the mixed model
``value ~ condition + period + (1 | participant)`` on the visits of the
compared conditions (:mod:`ldntrial.stats.mixed`), whose condition term is
the mean threshold on LDN minus on the comparator (higher = less sensitive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.protocol.model import Protocol
from ldntrial.stats.daily_model import design_columns
from ldntrial.stats.mixed import fit_mixed_model
from ldntrial.stats.results import AnalysisResult, estimates_frame
from ldntrial.vocab import MeasureTiming

__all__ = ["analyse_thresholds", "threshold_measures"]


def threshold_measures(protocol: Protocol) -> list[str]:
    """Ids of the numeric measures taken at every visit (the pain thresholds)."""
    visits = protocol.visits
    if visits is None:
        return []
    return [
        m.id for m in visits.measures if m.kind == "number" and m.when == MeasureTiming.EVERY_VISIT
    ]


def analyse_thresholds(trial: TrialData) -> AnalysisResult | None:
    """Per threshold measure: means by visit and condition, and the condition term."""
    measures = threshold_measures(trial.protocol)
    if not measures or trial.visits.empty:
        return None
    protocol = trial.protocol
    comparison = protocol.comparison
    visits = trial.visits.copy()
    visits["condition"] = (
        visits["phase"].astype(str).map({phase.name: phase.condition for phase in protocol.phases})
    )
    sequence = trial.participants.set_index("participant_id")["sequence"]
    rows, warnings = [], []
    for measure in measures:
        data = visits[visits["measure"].astype(str) == measure]
        if comparison.comparator:
            compared = data[data["condition"].isin(comparison.conditions)]
        else:
            compared = data[
                (data["condition"] == comparison.treatment)
                | (data["phase"].astype(str) == comparison.baseline_phase)
            ]
        frame = pd.DataFrame(
            {
                "participant_id": compared["participant_id"].astype(str).to_numpy(),
                "sequence": sequence.reindex(compared["participant_id"].astype(str)).to_numpy(),
                "period": compared["period"].to_numpy(),
                "treated": (compared["condition"] == comparison.treatment).to_numpy(),
                "value": compared["value"].to_numpy(),
            }
        )
        X, names, dropped = design_columns(frame, comparison)
        try:
            fit = fit_mixed_model(frame["value"].to_numpy(), X, names, frame["participant_id"])
        except AnalysisError as error:
            warnings.append(f"{measure}: {error}")
            continue
        warnings += [f"{measure}: {w}" for w in dropped]
        term = fit.table().iloc[1].to_dict()
        rows.append({**term, "term": f"{measure}: condition[{comparison.treatment}]"})
    means = (
        visits[visits["measure"].astype(str).isin(measures)]
        .groupby(["measure", "visit", "condition"], observed=True)["value"]
        .agg(["count", "mean", "std"])
        .reset_index()
    )
    means["ci_half_width"] = 1.96 * means["std"] / np.sqrt(means["count"])
    return AnalysisResult(
        name="thresholds",
        title="Pain thresholds at lab visits",
        n=int(visits["participant_id"].nunique()),
        definition=(
            f"Each threshold at the visits on {comparison.treatment} and on "
            f"{comparison.comparator_label}; estimate = mean on {comparison.treatment} minus "
            f"on {comparison.comparator_label}, in the measure's unit"
        ),
        method="Linear mixed model per measure, REML, random intercept per participant",
        formula="value ~ condition + period + (1 | participant)",
        estimates=estimates_frame(rows),
        missing_data="Missed visits are left out; participants keep the visits they attended.",
        assumptions=("A visit early in a phase measures a partly built-up LDN effect",),
        tables={"by_visit": means},
        warnings=tuple(warnings),
    )
