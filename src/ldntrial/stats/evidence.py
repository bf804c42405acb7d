"""The published evidence on LDN in fibromyalgia, on one scale, and what it says together.

The controlled trials report their results in different ways: a percentage
of baseline pain with a p-value (Stanford), a median difference with an
effect size (Bested), a difference on a 0-10 scale with its interval (FINAL,
INNOVA). :data:`EVIDENCE_FILE` keeps each as published, with its sources;
this module turns each into a standardised mean difference in pain where
positive favours LDN, by a conversion the row names and whose formula it
prints, and pools them with :func:`ldntrial.stats.meta_analysis.random_effects`.

A trial ldntrial has analysed joins the synthesis from its analysis JSON
(``ldntrial analyze --json``), so a team's own trials add to the evidence by
the same rules. Conversions follow Borenstein et al., Introduction to
Meta-Analysis (Wiley 2009), chapters 4 and 7. A within-woman effect from a
crossover (d_z) is larger than a between-group d for the same benefit when
a woman's pain correlates across conditions (Cochrane Handbook, version 6.4,
§23.2.7); the table says which each row is.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy import stats

from ldntrial.errors import AnalysisError
from ldntrial.stats.meta_analysis import Pooled, leave_one_out, random_effects

__all__ = [
    "EVIDENCE_FILE",
    "Effect",
    "EvidenceTable",
    "Synthesis",
    "TrialRow",
    "load_evidence",
    "row_from_analysis",
    "row_from_document",
    "synthesise",
]

EVIDENCE_FILE = Path(__file__).parent / "reference" / "ldn_fibromyalgia_evidence.toml"
Z_975 = float(stats.norm.ppf(0.975))

Conversion = Literal["paired_p", "d_and_p", "d_and_ci", "paired_difference", "ancova_t"]


class TrialRow(BaseModel):
    """One controlled trial as published (or as ldntrial analysed it), with its sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    label: str = Field(min_length=1, description="how the forest plot names it")
    citation: str = Field(min_length=1)
    year: int = Field(ge=1900, le=2200)
    design: Literal["crossover", "parallel"]
    blinding: str
    country: str = ""
    n_analysed: int = Field(ge=2)
    n_ldn: int | None = Field(default=None, ge=1)
    n_placebo: int | None = Field(default=None, ge=1)
    dose: str
    duration: str
    outcome: str
    scale: str
    published: str
    sources: tuple[str, ...] = Field(min_length=1)
    studies_md: str = ""
    conversion: Conversion
    inputs: dict[str, float]
    pooled: bool = True
    not_pooled_because: str = ""
    unconfirmed: str = ""


@dataclass(frozen=True)
class Effect:
    """A row's standardised mean difference (positive favours LDN), with how it was reached."""

    estimate: float
    std_error: float
    kind: Literal["d", "d_z"]
    formula: str

    @property
    def ci_lower(self) -> float:
        return self.estimate - Z_975 * self.std_error

    @property
    def ci_upper(self) -> float:
        return self.estimate + Z_975 * self.std_error


def _needs(row: TrialRow, *names: str) -> list[float]:
    missing = [name for name in names if name not in row.inputs]
    if missing:
        raise AnalysisError(
            f"trial {row.id}: conversion {row.conversion} needs inputs {', '.join(missing)}"
        )
    return [row.inputs[name] for name in names]


def _paired_se(d: float, n: float) -> float:
    return math.sqrt(1 / n + d * d / (2 * n))


def effect_of(row: TrialRow) -> Effect:
    """The row's effect on the common scale, by the conversion it names."""
    if row.conversion == "paired_p":
        p, n, direction = _needs(row, "p", "n", "direction")
        t = float(stats.t.ppf(1 - p / 2, n - 1))
        d = math.copysign(t / math.sqrt(n), direction)
        return Effect(
            d,
            _paired_se(d, n),
            "d_z",
            "d_z = t / sqrt(n), t from the two-sided p as a paired t-test on n - 1 df; "
            "SE = sqrt(1/n + d_z^2 / 2n)",
        )
    if row.conversion == "paired_difference":
        mean, sd, n = _needs(row, "mean_difference", "sd_difference", "n")
        d = mean / sd
        return Effect(
            d,
            _paired_se(d, n),
            "d_z",
            "d_z = mean / SD of the paired LDN - placebo differences; SE = sqrt(1/n + d_z^2 / 2n)",
        )
    if row.conversion == "d_and_p":
        d, p = _needs(row, "d", "p")
        return Effect(
            d,
            abs(d) / float(stats.norm.ppf(1 - p / 2)),
            "d_z" if row.design == "crossover" else "d",
            "d as published; SE = |d| / z, z = the normal quantile of the two-sided p",
        )
    if row.conversion == "d_and_ci":
        d, difference, lower, upper = _needs(row, "d", "difference", "ci_lower", "ci_upper")
        return Effect(
            d,
            (upper - lower) / (2 * Z_975) * abs(d / difference),
            "d_z" if row.design == "crossover" else "d",
            "d as published; SE = (upper - lower) / (2 x 1.96) x |d / difference|, "
            "the published 95 % CI of the difference on d's scale",
        )
    estimate, std_error, n_ldn, n_placebo = _needs(
        row, "difference", "std_error", "n_ldn", "n_placebo"
    )
    d = -estimate / std_error * math.sqrt(1 / n_ldn + 1 / n_placebo)  # lower pain favours LDN
    return Effect(
        d,
        math.sqrt(1 / n_ldn + 1 / n_placebo + d * d / (2 * (n_ldn + n_placebo))),
        "d",
        "d = -t x sqrt(1/n1 + 1/n2), t = adjusted difference / SE from the ANCOVA; "
        "SE = sqrt(1/n1 + 1/n2 + d^2 / 2(n1 + n2))",
    )


@dataclass(frozen=True)
class EvidenceTable:
    """The shipped table: its version, what was searched, and the rows."""

    version: str
    searched: str
    rows: tuple[TrialRow, ...]


def _rows(raw: Sequence[Mapping[str, Any]], origin: str) -> tuple[TrialRow, ...]:
    rows = []
    for number, item in enumerate(raw, start=1):
        try:
            row = TrialRow.model_validate(item)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise AnalysisError(f"{origin}, trial {number}, {where}: {problem['msg']}") from None
        effect_of(row)  # every conversion must be computable when the table is read
        rows.append(row)
    ids = [row.id for row in rows]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise AnalysisError(f"{origin}: trial id(s) {', '.join(repeated)} appear twice")
    return tuple(rows)


def load_evidence(path: Path = EVIDENCE_FILE) -> EvidenceTable:
    """The evidence table at ``path`` (the shipped one by default), every row checked."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise AnalysisError(f"cannot read the evidence table {path}: {error}") from None
    return EvidenceTable(
        version=str(document.get("version", "")),
        searched=str(document.get("searched", "")),
        rows=_rows(document.get("trial", []), path.name),
    )


def _term(terms: list[dict[str, Any]], name: str, source: str) -> dict[str, Any]:
    for term in terms:
        if term.get("term") == name:
            return term
    raise AnalysisError(f"{source}: the primary analysis has no term {name!r}")


def row_from_analysis(path: Path, *, citation: str, year: int) -> TrialRow:
    """A row from the file ``ldntrial analyze --json`` wrote (see :func:`row_from_document`)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise AnalysisError(
            f"{path.name} is not the JSON of `ldntrial analyze --json` ({error})"
        ) from None
    return row_from_document(document, path.stem, citation=citation, year=year, origin=path.name)


def row_from_document(
    document: Mapping[str, Any], name: str, *, citation: str, year: int, origin: str = ""
) -> TrialRow:
    """A row from a trial ldntrial analysed (the document of ``ldntrial analyze --json``).

    Crossover and parallel designs with a placebo condition pool: a crossover
    by its paired LDN - placebo difference (mean and SD of the differences), a
    parallel trial by its ANCOVA's adjusted difference in change. Other designs
    have no LDN - placebo contrast on the trials' scale and are refused.
    """
    origin = origin or name
    try:
        return _rows([_row_of(document, name, citation, year, origin)], origin)[0]
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise AnalysisError(
            f"{origin} is not the JSON of `ldntrial analyze --json` ({error!r} is missing "
            "or not a number)"
        ) from None


def _row_of(
    document: Mapping[str, Any], name: str, citation: str, year: int, origin: str
) -> dict[str, Any]:
    primary = document["primary"]
    design = document["design"]
    terms = primary["terms"]
    protocol = f"as protocol {document.get('protocol')} says"
    common = {
        "id": f"own:{name}",
        "label": citation,
        "citation": citation,
        "year": year,
        "blinding": protocol,
        "dose": protocol,
        "duration": protocol,
        "outcome": primary.get("title", ""),
        "scale": primary.get("definition", ""),
        "sources": (f"{origin}, analysed by ldntrial {document.get('ldntrial_version')}",),
    }
    if design == "crossover":
        difference = _term(terms, "ldn - placebo", origin)
        n = int(difference["n"])
        row = {
            **common,
            "design": "crossover",
            "n_analysed": n,
            "published": (
                f"LDN - placebo {difference['estimate']:.1f} (SD {difference['sd']:.1f}), "
                f"p = {difference['p_value']:.3g}"
            ),
            "conversion": "paired_difference",
            "inputs": {
                "mean_difference": float(difference["estimate"]),
                "sd_difference": float(difference["sd"]),
                "n": float(n),
            },
        }
    elif design == "parallel":
        adjusted = _term(terms, "condition[ldn]", origin)
        n_ldn = int(_term(terms, "ldn % improvement", origin)["n"])
        n_placebo = int(_term(terms, "placebo % improvement", origin)["n"])
        row = {
            **common,
            "design": "parallel",
            "n_analysed": n_ldn + n_placebo,
            "n_ldn": n_ldn,
            "n_placebo": n_placebo,
            "published": (
                f"adjusted difference in change {adjusted['estimate']:.2f} "
                f"(SE {adjusted['std_error']:.2f}), p = {adjusted['p_value']:.3g}"
            ),
            "conversion": "ancova_t",
            "inputs": {
                "difference": float(adjusted["estimate"]),
                "std_error": float(adjusted["std_error"]),
                "n_ldn": float(n_ldn),
                "n_placebo": float(n_placebo),
            },
        }
    else:
        raise AnalysisError(
            f"{origin}: a {design} design has no LDN - placebo contrast that pools with "
            "the controlled trials (crossover and parallel designs do)"
        )
    return row


@dataclass(frozen=True)
class Synthesis:
    """The rows, their effects, the pooled answer and the answer with each trial left out."""

    table: EvidenceTable
    effects: tuple[Effect, ...]
    pooled_rows: tuple[int, ...]
    pooled: Pooled
    without: tuple[Pooled | None, ...]

    def rows_pooled(self) -> list[TrialRow]:
        return [self.table.rows[i] for i in self.pooled_rows]

    def to_dict(self) -> dict[str, Any]:
        """One JSON-safe document: the table's rows with their effects, and the syntheses."""
        trials = []
        for row, effect in zip(self.table.rows, self.effects, strict=True):
            trials.append(
                {
                    **row.model_dump(mode="json"),
                    "effect": {
                        "estimate": effect.estimate,
                        "std_error": effect.std_error,
                        "ci_lower": effect.ci_lower,
                        "ci_upper": effect.ci_upper,
                        "kind": effect.kind,
                        "formula": effect.formula,
                    },
                }
            )
        pooled_ids = [row.id for row in self.rows_pooled()]
        return {
            "version": self.table.version,
            "searched": self.table.searched,
            "effect": "standardised mean difference in pain, positive favours LDN",
            "trials": trials,
            "pooled": {"trials": pooled_ids, **_pooled_dict(self.pooled)},
            "leave_one_out": [
                {"left_out": trial_id, **(_pooled_dict(result) if result else {})}
                for trial_id, result in zip(pooled_ids, self.without, strict=True)
            ],
        }


def _pooled_dict(pooled: Pooled) -> dict[str, Any]:
    return {
        "k": pooled.k,
        "estimate": pooled.estimate,
        "std_error": pooled.std_error,
        "ci_lower": pooled.ci_lower,
        "ci_upper": pooled.ci_upper,
        "p_value": pooled.p_value,
        "df": pooled.df,
        "tau2": pooled.tau2,
        "tau": pooled.tau,
        "i2_percent": pooled.i2_percent,
        "q": pooled.q,
        "q_p_value": pooled.q_p_value,
        "prediction_lower": pooled.prediction_lower,
        "prediction_upper": pooled.prediction_upper,
        "weights_percent": list(pooled.weights_percent),
        "method": (
            "random effects, REML tau^2, Hartung-Knapp-Sidik-Jonkman 95 % CI (t, k - 1 df), "
            "prediction interval on k - 2 df"
        ),
    }


def synthesise(table: EvidenceTable | None = None, extra: Sequence[TrialRow] = ()) -> Synthesis:
    """The random-effects synthesis of the rows marked ``pooled`` (and any ``extra``)."""
    base = table or load_evidence()
    combined = EvidenceTable(base.version, base.searched, (*base.rows, *extra))
    effects = tuple(effect_of(row) for row in combined.rows)
    chosen = tuple(i for i, row in enumerate(combined.rows) if row.pooled)
    estimates = [effects[i].estimate for i in chosen]
    errors = [effects[i].std_error for i in chosen]
    return Synthesis(
        table=combined,
        effects=effects,
        pooled_rows=chosen,
        pooled=random_effects(estimates, errors),
        without=tuple(leave_one_out(estimates, errors)),
    )
