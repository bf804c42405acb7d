"""Her N-of-1 answer informed by what the trials found: priors and the conjugate posterior.

Her own diary gives an LDN - placebo benefit ``b`` in pain points (0-100,
positive = less pain on LDN) with a standard error ``s`` from the AR(1)
model. With a normal prior N(m, v) for her true benefit the posterior is
normal with precision 1/v + 1/s^2 and mean (m/v + b/s^2) / (1/v + 1/s^2)
(Spiegelhalter, Abrams & Myles, Bayesian Approaches to Clinical Trials and
Health-Care Evaluation, Wiley 2004, §3.6; N-of-1 use: Zucker et al., J Clin
Epidemiol 1997;50:401-410). Three priors are shown side by side:

- **evidence**: the random-effects synthesis of the controlled trials
  (:mod:`ldntrial.stats.evidence`). Its mean is the pooled standardised
  difference; its variance adds the uncertainty of that mean, the spread
  between trials (tau^2), and the spread between women. The last is not
  published; it is taken at its upper bound, one unit of the crossover
  trials' d_z (the SD of women's LDN - placebo differences, day-to-day noise
  included), so the prior is if anything too wide and lets her own diary
  speak. Standardised units become 0-100 points with the SD implied by FINAL
  (|difference| / d = 0.34 / 0.23 on its 0-10 scale, i.e. 14.8 points), the
  one trial publishing both for a change in pain.
- **sceptical**: centred on no effect, with only a 5 % chance of a benefit
  of the meaningful size (Spiegelhalter, Freedman & Parmar, J R Stat Soc A
  1994;157:357-416).
- **flat**: no prior information, today's answer (the probability from her
  diary alone).

Calibration (the share who truly benefit among women given each stated
probability) is measured over simulated N-of-1 cohorts in
``tests/stats/test_nof1_priors.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from scipy import stats

from ldntrial.stats.evidence import synthesise

__all__ = [
    "FINAL_SD_POINTS",
    "Posterior",
    "Prior",
    "evidence_prior",
    "flat_prior",
    "posterior",
    "priors_for",
    "sceptical_prior",
]

FINAL_SD_POINTS = 0.34 / 0.23 * 10
"""Points (0-100) per standardised unit: FINAL's difference / d (0-10 scale) x 10."""
WOMEN_SPREAD_SMD = 1.0
"""Upper bound on the SD of women's true effects in standardised units (see the docstring)."""
SCEPTICAL_TAIL = 0.05


@dataclass(frozen=True)
class Prior:
    """A normal prior for her true benefit in points (sd None: flat), and where it comes from."""

    name: str
    mean: float
    sd: float | None
    source: str
    plain: str = ""


@dataclass(frozen=True)
class Posterior:
    """Her benefit after her diary, under one prior."""

    prior: Prior
    mean: float
    sd: float
    probability_meaningful: float
    probability_percent: float

    def to_dict(self) -> dict[str, object]:
        return {
            "prior": self.prior.name,
            "prior_mean": self.prior.mean,
            "prior_sd": self.prior.sd,
            "prior_source": self.prior.source,
            "mean": self.mean,
            "sd": self.sd,
            "probability_meaningful": self.probability_meaningful,
            "probability_percent": self.probability_percent,
        }


@lru_cache(maxsize=1)
def evidence_prior() -> Prior:
    """The shipped synthesis as a prior for one woman's benefit in pain points."""
    synthesis = synthesise()
    pooled = synthesis.pooled
    variance = pooled.std_error**2 + pooled.tau2 + WOMEN_SPREAD_SMD**2
    plain = {
        "benefit": "the published trials together found on average some benefit on pain",
        "harm": "the published trials together found on average more pain on LDN than placebo",
        "unclear": "the published trials together could not tell LDN from placebo on pain",
    }[pooled.finding]
    return Prior(
        name="evidence",
        mean=pooled.estimate * FINAL_SD_POINTS,
        sd=math.sqrt(variance) * FINAL_SD_POINTS,
        source=(
            f"the {pooled.k} controlled trials pooled (evidence table {synthesis.table.version}): "
            f"mean {pooled.estimate:.2f} SD units, x {FINAL_SD_POINTS:.1f} points per unit "
            "(FINAL); spread = its uncertainty, the trials' spread and the most women could differ"
        ),
        plain=plain,
    )


def sceptical_prior(meaningful_points: float) -> Prior:
    """Centred on no effect, with a 5 % chance of at least ``meaningful_points`` of benefit."""
    return Prior(
        name="sceptical",
        mean=0.0,
        sd=meaningful_points / float(stats.norm.isf(SCEPTICAL_TAIL)),
        source=(
            f"no effect on average, a {SCEPTICAL_TAIL:.0%} chance of {meaningful_points:g} points "
            "or more (Spiegelhalter, Freedman & Parmar 1994)"
        ),
    )


def flat_prior() -> Prior:
    return Prior(name="flat", mean=0.0, sd=None, source="her diary alone (today's answer)")


def priors_for(
    item: str, meaningful_points: float, *, against_placebo: bool = True
) -> tuple[Prior, ...]:
    """The priors shown for an answer about ``item``.

    The evidence is about pain, LDN against placebo: a comparison of two doses
    or of another item gets the sceptical and flat priors only.
    """
    chosen = [sceptical_prior(meaningful_points), flat_prior()]
    if item == "pain" and against_placebo:
        chosen.insert(0, evidence_prior())
    return tuple(chosen)


def posterior(
    benefit: float,
    std_error: float,
    prior: Prior,
    *,
    meaningful_points: float,
    relative_threshold: float,
) -> Posterior:
    """The normal-normal posterior of her benefit and its chance of each meaningful size."""
    if prior.sd is None:
        mean, sd = benefit, std_error
    else:
        precision = 1 / prior.sd**2 + 1 / std_error**2
        sd = math.sqrt(1 / precision)
        mean = (prior.mean / prior.sd**2 + benefit / std_error**2) / precision
    return Posterior(
        prior=prior,
        mean=mean,
        sd=sd,
        probability_meaningful=float(stats.norm.sf((meaningful_points - mean) / sd)),
        probability_percent=float(stats.norm.sf((relative_threshold - mean) / sd)),
    )
