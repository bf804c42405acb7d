"""The cytokine panel: which analytes fell on LDN, after correcting for many tests.

Parkitny & Younger 2017 (studies.md §3) drew blood twice a week and showed
within-person z-scores by 2-week block; 17 analytes fell in the paper and 11
"after correction for multiple comparisons" in the APS 2015 abstract (method
UNCONFIRMED). Here, per analyte, concentrations are log-transformed (they are
right-skewed and effects are multiplicative) and modelled as
``log(value) ~ condition + (1 + condition | participant)`` over all draws of
the compared phases (LDN against baseline, or against placebo where there is
one): twice-weekly draws of one woman are repeated measures of her, not new
women, so each woman has her own level and her own change, and the change is
judged against how much women differ in it, on ``participants - 1`` degrees
of freedom (8 women: 7, where treating draws as independent gave 151). The
condition term is the mean log change, reported also as a % change,
exp(estimate) - 1. p-values are corrected across analytes by
Benjamini-Hochberg (false discovery rate) and Holm (family-wise error); an
analyte "fell" when its estimate is negative and its BH-adjusted p < 0.05.
A table of within-person z-scores by 2-week block feeds the heat map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.stats.mixed import fit_mixed_model
from ldntrial.stats.results import AnalysisResult, estimates_frame

__all__ = ["analyse_cytokines"]

ALPHA = 0.05


def analyse_cytokines(trial: TrialData) -> AnalysisResult | None:
    """Per-analyte log change on LDN with BH and Holm corrections; None without a panel."""
    panels = [panel.id for panel in trial.protocol.labs if panel.at == "scheduled"]
    labs = trial.labs[trial.labs["panel"].astype(str).isin(panels)]
    if labs.empty:
        return None
    comparison = trial.protocol.comparison
    condition = (
        labs["phase"]
        .astype(str)
        .map({phase.name: phase.condition for phase in trial.protocol.phases})
    )
    treated = condition == comparison.treatment
    if comparison.comparator:
        other = condition == comparison.comparator
    else:
        other = labs["phase"].astype(str) == comparison.baseline_phase
    labs = labs.assign(treated=treated)[(treated | other) & (labs["value"] > 0)]
    rows, warnings = [], []
    for analyte, data in labs.groupby("analyte", observed=True):
        X = np.column_stack([np.ones(len(data)), data["treated"].to_numpy(dtype=float)])
        try:
            fit = fit_mixed_model(
                np.log(data["value"].to_numpy()),
                X,
                ["Intercept", "log change"],
                data["participant_id"].astype(str).to_numpy(),
                random_slope="log change" if _changes_seen(data) else None,
            )
        except AnalysisError as error:
            warnings.append(f"{analyte}: {error}")
            continue
        row = fit.table().iloc[1].to_dict()
        rows.append(
            {
                **row,
                "term": str(analyte),
                "percent_change": float(np.expm1(row["estimate"]) * 100),
                "n": int(data["participant_id"].nunique()),
            }
        )
    estimates = estimates_frame(rows)
    if len(estimates):
        estimates["p_bh"] = multipletests(estimates["p_value"], method="fdr_bh")[1]
        estimates["p_holm"] = multipletests(estimates["p_value"], method="holm")[1]
        estimates["fell"] = (estimates["estimate"] < 0) & (estimates["p_bh"] < ALPHA)
    fell = int(estimates["fell"].sum()) if len(estimates) else 0
    return AnalysisResult(
        name="cytokines",
        title="Cytokine panel: change on LDN",
        n=int(labs["participant_id"].nunique()),
        definition=(
            f"Per analyte, mean log concentration on {comparison.treatment} minus on "
            f"{comparison.comparator_label}; percent_change = exp(estimate) - 1"
        ),
        method=(
            "Linear mixed model of log concentration per analyte, REML, each participant's "
            "own level and own change as random effects, containment degrees of freedom "
            "(participants, not draws); Benjamini-Hochberg (p_bh) and Holm (p_holm) "
            f"corrections across analytes; fell = estimate < 0 and p_bh < {ALPHA}"
        ),
        formula="log(value) ~ condition + (1 + condition | participant)",
        estimates=estimates,
        missing_data="Missed draws are left out; non-positive values cannot be logged and are "
        "left out.",
        assumptions=("Log concentrations normal around each participant's level",),
        tables={"zscores": _block_zscores(labs)},
        values={"analytes": len(estimates), "fell": fell},
        warnings=tuple(warnings),
    )


def _changes_seen(data: pd.DataFrame) -> bool:
    """Whether two or more women have draws on both sides, so that their changes can differ."""
    both = data.groupby("participant_id", observed=True)["treated"].nunique()
    return int((both == 2).sum()) >= 2


def _block_zscores(labs: pd.DataFrame) -> pd.DataFrame:
    """Mean within-person z-score of log concentration per analyte and 2-week block."""
    logged = labs.assign(log=np.log(labs["value"].to_numpy()))
    grouped = logged.groupby(["participant_id", "analyte"], observed=True)["log"]
    spread = grouped.transform("std").replace(0, np.nan)
    logged["z"] = (logged["log"] - grouped.transform("mean")) / spread
    logged["block"] = (logged["study_day"] - 1) // 14 + 1
    return logged.groupby(["analyte", "block"], observed=True)["z"].mean().reset_index()
