"""The trial report: every pre-specified result, its figures and the methods, in one HTML file.

Sections follow the order a CONSORT report reads in (Schulz et al., BMJ
2010;340:c332; the crossover extension, Dwan et al., BMJ 2019;366:l4378):
flow, baseline characteristics, outcomes, harms, then methods. Figures are
embedded as PNG data URIs, so the file can be mailed or archived alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from ldntrial.data.flow import Screened, withdrawal_reasons
from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.design import Design
from ldntrial.report import figures
from ldntrial.report.data import ESR_CUT_MM_HR, daily_course, table_one
from ldntrial.report.html import render
from ldntrial.report.methods import methods_section
from ldntrial.report.participant_report import render_participant_report
from ldntrial.report.views import (
    ResultView,
    TableView,
    decimals_for,
    format_number,
    format_p,
    frame_view,
    interval,
    result_view,
)
from ldntrial.stats.analyze import TrialAnalysis, analyze
from ldntrial.stats.nof1 import Nof1Spec
from ldntrial.stats.results import AnalysisResult
from ldntrial.version import __version__

__all__ = ["render_trial_report"]

SMALL_MULTIPLES = 36
"""Participants drawn one by one; more would be unreadable on a page."""


@dataclass
class Section:
    """One numbered section: results, tables and figures under a heading."""

    id: str
    title: str
    intro: str = ""
    results: list[ResultView] = field(default_factory=list)
    tables: list[TableView] = field(default_factory=list)
    figures: list[figures.FigureView] = field(default_factory=list)


def render_trial_report(
    trial: TrialData,
    analysis: TrialAnalysis | None = None,
    *,
    nof1_spec: Nof1Spec | None = None,
    screened: Screened | None = None,
) -> str:
    """The whole report as one self-contained HTML document.

    ``screened`` (those assessed for eligibility, kept by the site) opens the flow diagram.

    An N-of-1 study of one patient gets her page (:func:`render_participant_report`):
    flow boxes, tables by sequence and models across participants mean nothing for one.
    """
    people = trial.participants["participant_id"].astype(str)
    if trial.protocol.design == Design.NOF1 and len(people) == 1:
        return render_participant_report(trial, people.iloc[0], spec=nof1_spec)
    analysis = analysis or analyze(trial, nof1_spec=nof1_spec)
    protocol = trial.protocol
    labels = {key: c.label or key for key, c in protocol.conditions.items()}
    kinds = {key: str(c.kind) for key, c in protocol.conditions.items()}
    sections = [
        _flow_section(analysis, screened),
        _baseline_section(trial, analysis),
        _primary_section(trial, analysis, labels, kinds),
        *_optional_sections(trial, analysis, labels, kinds),
    ]
    return render(
        "trial.html.j2",
        title=f"{protocol.title}",
        protocol=protocol,
        design=str(analysis.design),
        source=_source(trial),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        headline=_headline(analysis),
        flow=_flow_boxes(trial, analysis, screened),
        sections=[s for s in sections if s is not None],
        methods=methods_section(protocol, analysis, nof1_spec),
    )


def _source(trial: TrialData) -> str:
    if trial.truth:
        return (
            f"Simulated data (scenario '{trial.truth['scenario']}', seed {trial.truth['seed']}): "
            "the figures show what the software does, not evidence about LDN."
        )
    return "Trial data (unblinded after database lock)."


def _headline(analysis: TrialAnalysis) -> list[str]:
    """The primary answer in plain words, with its uncertainty and what it cannot say."""
    primary = analysis.primary
    comparison_term = primary.estimates["term"].iloc[-1]
    if analysis.design == "parallel":
        comparison_term = next(t for t in primary.estimates["term"] if t.startswith("condition["))
    row = primary.term(comparison_term)
    decimals = decimals_for(row["estimate"]) if pd.notna(row["estimate"]) else None
    lines = [
        f"{primary.title}. {comparison_term}: {format_number(row['estimate'], decimals)} "
        f"(95 % CI {interval(row['ci_lower'], row['ci_upper'], decimals)}; "
        f"p = {format_p(row['p_value'])}; n = {primary.n})."
    ]
    if pd.notna(row["ci_lower"]) and row["ci_lower"] <= 0 <= row["ci_upper"]:
        lines.append(
            "The interval includes no difference: these data cannot tell the conditions apart."
        )
    lines += list(primary.warnings)
    return lines


def _flow_boxes(
    trial: TrialData, analysis: TrialAnalysis, screened: Screened | None
) -> dict[str, object]:
    people = trial.participants
    analysed_ids = set(
        analysis.primary.tables["participants"]
        .dropna(subset=["improvement_percent"])["participant_id"]
        .astype(str)
    )
    boxes = []
    for sequence, group in people.groupby("sequence", sort=True):
        status = group["status"].value_counts()
        boxes.append(
            {
                "sequence": str(sequence),
                "allocated": str(len(group)),
                "completed": str(int(status.get("completed", 0))),
                "withdrawn": str(int(status.get("withdrawn", 0))),
                "withdrawn_reasons": [
                    f"{reason}: {count}" for reason, count in withdrawal_reasons(group)
                ],
                "ongoing": str(int(status.get("active", 0) + status.get("enrolled", 0))),
                "analysed": str(int(group["participant_id"].astype(str).isin(analysed_ids).sum())),
            }
        )
    method = str(trial.protocol.allocation.method).replace("_", " ")
    return {
        "total": str(len(people)),
        "method": f" ({method})",
        "boxes": boxes,
        "screened": screened,
    }


def _flow_section(analysis: TrialAnalysis, screened: Screened | None) -> Section:
    flow = analysis.flow
    screening = (
        f"{screened.assessed} assessed for eligibility, {screened.excluded_total} not "
        "allocated (reasons in the diagram); "
        if screened is not None
        else ""
    )
    kept = (
        ""
        if screened is not None
        else " Screening counts are kept by the study site and were not given to this report."
    )
    return Section(
        id="flow",
        title="Participant flow",
        intro=(
            f"{screening}{flow['randomised']} allocated, {flow['completed']} completed, "
            f"{flow['withdrawn']} withdrew, {flow['ongoing']} ongoing; "
            f"{flow['with_diary']} made at least one diary entry.{kept} Analysed = with a "
            "primary end point on at least one condition."
        ),
    )


def _baseline_section(trial: TrialData, analysis: TrialAnalysis) -> Section:
    baselines = {trial.protocol.endpoints.primary_item: analysis.primary.tables["participants"]}
    for item, parts in analysis.secondary.items():
        endpoint = parts.get("endpoint")
        if endpoint is not None:
            baselines[item] = endpoint.tables["participants"]
    columns = [
        table.drop_duplicates("participant_id")
        .set_index("participant_id")["baseline"]
        .rename(item)
        for item, table in baselines.items()
    ]
    baseline = pd.concat(columns, axis=1).reset_index()
    table = table_one(trial, baseline)
    view = TableView(
        ["", *table.columns],
        [
            [str(index), *map(str, row)]
            for index, row in zip(table.index, table.to_numpy(), strict=True)
        ],
        caption="Table 1. Baseline characteristics by sequence (arm).",
        row_headers=True,
    )
    return Section(id="baseline", title="Baseline characteristics", tables=[view])


def _primary_section(
    trial: TrialData, analysis: TrialAnalysis, labels: dict[str, str], kinds: dict[str, str]
) -> Section:
    item = trial.protocol.endpoints.primary_item
    course = daily_course(trial, item)
    per_condition = analysis.primary.tables["per_condition"]
    return Section(
        id="primary",
        title=f"Primary outcome: {item}",
        results=[result_view("primary", analysis.primary)],
        tables=[frame_view(per_condition, caption="Means per condition (complete end points).")],
        figures=[
            figures.embed(
                figures.daily_course_figure(course, item),
                f"Mean daily {item} by day within each phase, with 95 % confidence bands "
                "(days with at least 3 ratings).",
            )
        ],
    )


def _optional_sections(
    trial: TrialData, analysis: TrialAnalysis, labels: dict[str, str], kinds: dict[str, str]
) -> list[Section | None]:
    """Secondary results, the descriptive sections, then what is exploratory, harms and the
    limitations: the registered primary is read first and an exploratory result last."""
    secondary, exploratory = _secondary_and_exploratory(analysis)
    return [
        _secondary_section(analysis, secondary),
        _courses_section(trial, analysis, kinds),
        _esr_section(analysis),
        _thresholds_section(analysis, labels, kinds),
        _cytokines_section(analysis),
        _dose_section(trial, analysis),
        _nof1_section(analysis),
        _exploratory_section(exploratory),
        _results_section(
            "safety", "Adverse events and tolerability", analysis, ["safety"], tables=["severity"]
        ),
        _results_section("blinding", "Blinding", analysis, ["blinding"], tables=["guesses"]),
        limitations_section(trial, analysis),
    ]


def _is_exploratory(result: AnalysisResult) -> bool:
    return result.validation is not None and result.validation.get("status") == "exploratory"


def _secondary_and_exploratory(
    analysis: TrialAnalysis,
) -> tuple[list[tuple[str, AnalysisResult]], list[tuple[str, AnalysisResult]]]:
    """The secondary results in reading order, and those that are exploratory instead: the
    carry-over check and whatever the validation found does not keep its error rate."""
    candidates = [("mixed_model", analysis.mixed_model)]
    for item, parts in analysis.secondary.items():
        candidates += [(f"secondary-{item}-{part}", result) for part, result in parts.items()]
    candidates.append(("responders", analysis.responders))
    present = [(key, result) for key, result in candidates if result is not None]
    secondary = [(key, result) for key, result in present if not _is_exploratory(result)]
    exploratory = [(key, result) for key, result in present if _is_exploratory(result)]
    if analysis.carryover is not None:
        exploratory.append(("carryover", analysis.carryover))
    return secondary, exploratory


def _secondary_section(
    analysis: TrialAnalysis, results: list[tuple[str, AnalysisResult]]
) -> Section | None:
    if not results:
        return None
    return Section(
        id="secondary",
        title="Secondary outcomes",
        intro=multiplicity_statement(analysis, len(results)),
        results=[result_view(key, result) for key, result in results],
    )


def multiplicity_statement(analysis: TrialAnalysis, secondary_results: int) -> str:
    """What the number of secondary comparisons does to their p-values, in plain words."""
    text = (
        "The primary outcome is the one confirmatory comparison. The "
        f"{secondary_results} secondary results below are not adjusted for multiplicity: if "
        f"LDN did nothing, about {0.05 * secondary_results:.1f} of {secondary_results} "
        "comparisons would still reach p < 0.05 by chance, so read them as supporting, "
        "not as separate findings."
    )
    if analysis.cytokines is not None:
        analytes = int(analysis.cytokines.values.get("analytes", 0))
        text += (
            f" The cytokine panel's {analytes} analytes are corrected for their number "
            "(Benjamini-Hochberg for the false discovery rate, Holm for any false finding)."
        )
    return text


def _exploratory_section(results: list[tuple[str, AnalysisResult]]) -> Section | None:
    if not results:
        return None
    return Section(
        id="exploratory",
        title="Exploratory analyses",
        intro=(
            "These analyses may suggest but cannot show: either the simulation validation "
            "found that they say 'yes' too often or miss the truth too often at this design "
            "(their figures are given with each), or they answer a check rather than the "
            "trial's question (the carry-over test, which has little power)."
        ),
        results=[result_view(key, result) for key, result in results],
    )


def limitations_section(trial: TrialData, analysis: TrialAnalysis) -> Section:
    """Limitations that follow from these data and this design, generated, not boilerplate."""
    points = []
    flow = analysis.flow
    if trial.truth:
        points.append("The data are simulated: they show what the software does, not LDN.")
    if flow["ongoing"]:
        points.append(
            f"{flow['ongoing']} of {flow['randomised']} participants are still in the study: "
            "this is an interim look and every estimate will change."
        )
    analysed = analysis.primary.n
    if analysed < flow["randomised"]:
        points.append(
            f"{flow['randomised'] - analysed} of {flow['randomised']} participants lack a "
            "complete primary end point and are left out of it; that is unbiased only if "
            "their missing end points are missing at random."
        )
    exposure = _treated_weeks(trial)
    if len(set(exposure.values())) > 1:
        described = ", ".join(f"{weeks:g} weeks of {name}" for name, weeks in exposure.items())
        points.append(
            f"The conditions differ in length ({described}): adverse-event incidence favours "
            "the shorter one, so compare the rates per participant-week; the daily model "
            "compares equal final windows."
        )
    design = str(analysis.design)
    if design == "fixed_order":
        points.append(
            "Everyone took placebo before LDN, so the comparison also contains any change "
            "over time (expectation, season, the placebo response still building)."
        )
    if design == "single_arm":
        points.append(
            "Without a placebo the change from baseline includes placebo response and time: "
            "it is not evidence that LDN works."
        )
    if analysed < 20:
        points.append(
            f"With {analysed} participants the intervals are wide: an interval that "
            "includes no difference means 'we cannot tell', not 'no effect'."
        )
    exploratory = [r for r in analysis.results().values() if _is_exploratory(r)]
    if exploratory:
        points.append(
            f"{len(exploratory)} reported analyses are exploratory by simulation (section "
            "'Exploratory analyses')."
        )
    return Section(
        id="limitations",
        title="Limitations",
        intro=" ".join(points) or "No limitation follows from the data beyond the design's.",
    )


def _treated_weeks(trial: TrialData) -> dict[str, float]:
    """Weeks on each treated condition in the protocol's first sequence that has them all."""
    protocol = trial.protocol
    weeks: dict[str, float] = {}
    for phase in protocol.phases:
        condition = protocol.conditions[phase.condition]
        if str(condition.kind) != "none":
            label = condition.label or phase.condition
            weeks[label] = max(weeks.get(label, 0.0), phase.days / 7)
    return {label: round(value, 1) for label, value in weeks.items()}


def _results_section(
    section_id: str,
    title: str,
    analysis: TrialAnalysis,
    keys: list[str],
    tables: list[str] | None = None,
) -> Section | None:
    results = [(key, getattr(analysis, key)) for key in keys if getattr(analysis, key)]
    if not results:
        return None
    extra = [
        frame_view(result.tables[name], caption=name.replace("_", " ").capitalize() + ".")
        for _key, result in results
        for name in tables or []
        if name in result.tables and len(result.tables[name])
    ]
    return Section(
        id=section_id,
        title=title,
        results=[result_view(key, result) for key, result in results],
        tables=extra,
    )


def _courses_section(trial: TrialData, analysis: TrialAnalysis, kinds: dict[str, str]) -> Section:
    ids = [str(pid) for pid in trial.participants["participant_id"]]
    shown = ids[:SMALL_MULTIPLES]
    more = (
        f" The first {SMALL_MULTIPLES} of {len(ids)} participants are shown."
        if len(ids) > SMALL_MULTIPLES
        else ""
    )
    item = trial.protocol.endpoints.primary_item
    figure = figures.participant_panels(trial.diary, shown, kinds, item)
    return Section(
        id="courses",
        title="Each participant's daily course",
        figures=[
            figures.embed(
                figure,
                f"Daily {item} per participant, coloured by condition (LDN blue, placebo "
                f"orange, no capsules grey).{more}",
            )
        ],
    )


def _esr_section(analysis: TrialAnalysis) -> Section | None:
    esr = analysis.esr
    if esr is None:
        return None
    points = esr.tables["points"].dropna()
    section = Section(
        id="esr", title="Baseline ESR as a predictor", results=[result_view("esr", esr)]
    )
    if len(points) >= 2:
        figure = figures.esr_figure(
            points,
            float(esr.term("slope (% points per mm/hr)")["estimate"]),
            float(esr.term("intercept")["estimate"]),
            ESR_CUT_MM_HR,
        )
        section.figures.append(
            figures.embed(
                figure,
                f"Response against baseline ESR with the least-squares line; dotted: "
                f"{ESR_CUT_MM_HR:g} mm/hr.",
            )
        )
    return section


def _thresholds_section(
    analysis: TrialAnalysis, labels: dict[str, str], kinds: dict[str, str]
) -> Section | None:
    thresholds = analysis.thresholds
    if thresholds is None:
        return None
    figure = figures.thresholds_figure(thresholds.tables["by_visit"], labels, kinds)
    return Section(
        id="thresholds",
        title="Pain thresholds at the lab visits",
        results=[result_view("thresholds", thresholds)],
        figures=[figures.embed(figure, "Mean threshold per visit and condition, 95 % CI.")],
    )


def _cytokines_section(analysis: TrialAnalysis) -> Section | None:
    cytokines = analysis.cytokines
    if cytokines is None:
        return None
    section = Section(
        id="cytokines", title="Cytokine panel", results=[result_view("cytokines", cytokines)]
    )
    zscores = cytokines.tables.get("zscores")
    if zscores is not None and len(zscores):
        section.figures.append(
            figures.embed(
                figures.cytokine_heatmap(zscores),
                "Within-person z-scores by 2-week block (blue: lower than the person's mean).",
            )
        )
    return section


def _dose_section(trial: TrialData, analysis: TrialAnalysis) -> Section | None:
    result = analysis.dose_finding
    if result is None:
        return None
    rule = trial.protocol.response_rule
    assert rule is not None  # a dose-finding result comes from an up-and-down design
    responses = analysis.responders.tables["participants"]
    responded = dict(zip(responses["participant_id"].astype(str), responses[rule.id], strict=True))
    people = trial.participants  # in the order the doses were given, one after another
    order = pd.DataFrame(
        {
            "dose_mg": people["dose_mg"].to_numpy(),
            "responded": [bool(responded.get(str(p), False)) for p in people["participant_id"]],
        }
    )
    return Section(
        id="dose",
        title="Dose finding",
        results=[result_view("dose_finding", result)],
        tables=[
            frame_view(t, caption=f"{n.replace('_', ' ').capitalize()}.")
            for n, t in result.tables.items()
        ],
        figures=[
            figures.embed(
                figures.dose_sequence_figure(order),
                f"Up-and-down sequence: filled = responded ('{rule}').",
            )
        ],
    )


def _nof1_section(analysis: TrialAnalysis) -> Section | None:
    if analysis.nof1 is None:
        return None
    rows = []
    for answer in analysis.nof1:
        estimates = answer.result.estimates
        condition = estimates[estimates["term"].str.startswith("condition[")]
        first = condition.iloc[0] if len(condition) else None
        rows.append(
            [
                answer.participant_id,
                format_number(first["estimate"]) if first is not None else "-",
                interval(first["ci_lower"], first["ci_upper"]) if first is not None else "-",
                format_number(answer.probability_meaningful),
                answer.verdict.replace("_", " "),
            ]
        )
    table = TableView(
        ["Patient", "LDN - placebo", "95 % CI", "P(meaningful)", "Answer"],
        rows,
        caption="One answer per patient (`ldntrial report --participant ID` prints her page).",
    )
    results = [result_view("nof1_pooled", analysis.nof1_pooled)] if analysis.nof1_pooled else []
    return Section(id="nof1", title="N-of-1 series", tables=[table], results=results)
