"""Scenarios: the parameters of a virtual trial, named and documented.

The daily model (see :mod:`ldntrial.simulate.outcomes`) for a rating where
lower is better, for participant i on study day t::

    expected_it = mu_i * (1 - P_i * g_placebo(t) - L_i * g_ldn(t))
    observed_it = clip(round(expected_it + e_it), 0, 100),  e_it an AR(1) series

- ``mu_i`` ~ Normal(baseline_mean, baseline_sd), the personal level.
- ``P_i`` ~ Normal(placebo_response, placebo_sd): the fraction of symptoms that
  fall while taking any capsule (expectation, regression to the mean).
- ``L_i = ldn_effect * dose_factor + esr_slope * ln(ESR_i / esr_median) + u_i``,
  ``u_i`` ~ Normal(0, ldn_effect_sd): the extra fraction that falls on LDN,
  larger with higher ESR as in the pilot (studies.md §1.6). Because
  E[ln(ESR/median)] = 0, the mean LDN effect is ``ldn_effect`` at 4.5 mg.
- ``g(t)`` build up and wash out exponentially with time constants
  ``placebo_onset_days`` and ``ldn_onset_days``; 9.35 days gives 95 % of the
  LDN effect after 4 weeks ("it took about a month", seed 000).
- ``dose_factor`` is an Emax curve with ED50 ``ed50_mg`` and Hill
  coefficient ``hill``, scaled to 1 at 4.5 mg.

Calibration (``stanford``): the published figures come from different
designs, so the scenario carries per-protocol values, each chosen so that the
average over many simulated trials reproduces that paper (checked by
``tests/simulate/test_calibration.py``; the README gives the numbers):

- crossover-2013: 28.8 % (LDN) vs 18.0 % (placebo) pain reduction at the final
  3 days of each condition (Younger 2013).
- pilot-2009: 32.5 % (LDN) vs 2.3 % (placebo) symptom reduction over each
  phase, about 6 in 10 with > 30 % (Younger & Mackey 2009; seed 000).

- dose-finding-2020 (any up-and-down protocol): half of women respond at
  3.88 mg and 95 % at 5.40 mg (Bruun-Plesner 2020); ``ldn_effect`` and
  ``hill`` are solved to give those doses (:mod:`ldntrial.simulate.dose_response`).

Other protocols use the crossover-2013 values (the randomised evidence).
``null`` keeps everything but sets every LDN benefit to zero, as the 2023-2024
Danish and Spanish trials found for pain (studies.md §4.2-4.4).

Values with no published source (spreads, noise, thresholds, cytokine
levels) are marked ASSUMED below; change them with ``overrides``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ldntrial.errors import SimulationError

__all__ = ["SCENARIOS", "Scenario", "get_scenario"]


class Scenario(BaseModel):
    """Every parameter of a virtual trial; see the module docstring for the model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str

    # Participants. Mean age 46 (Parkitny 2017), 47 (Bruun-Plesner 2020); spread ASSUMED.
    age_mean: float = 46.0
    age_sd: float = 10.0
    # Symptom severity 62/100 (Parkitny 2017); spread ASSUMED.
    baseline_mean: float = 62.0
    baseline_sd: float = 12.0
    # Right-skewed ESR: lognormal; median and spread ASSUMED (6 of 10 above 20 mm/h in the pilot).
    esr_median: float = 22.0
    esr_log_sd: float = 0.6

    # Day-to-day variation of daily ratings (ASSUMED).
    noise_sd: float = 11.0
    ar1: float = Field(0.5, ge=0, lt=1)

    # Responses (fractions of the personal level).
    placebo_response: float = 0.186
    placebo_sd: float = 0.10
    placebo_onset_days: float = Field(7.0, gt=0)
    ldn_effect: float = 0.109
    ldn_effect_sd: float = 0.08
    esr_slope: float = 0.05
    ldn_onset_days: float = Field(9.35, gt=0)
    # The LDN effect's dose-response: Emax half-effect dose and Hill coefficient (ASSUMED).
    ed50_mg: float = Field(3.88, gt=0)
    hill: float = Field(2.5, gt=0)
    # Doses at which 50 % and 95 % of women respond in an up-and-down study: 3.88
    # and 5.40 mg (Bruun-Plesner 2020). For an up-and-down protocol they set
    # ldn_effect and hill (simulate.dose_response); None leaves those as given.
    response_ed50_mg: float | None = Field(3.88, gt=0)
    response_ed95_mg: float | None = Field(5.40, gt=0)
    # Secondary items improve by this fraction of the primary item's change (ASSUMED).
    secondary_effect_ratio: float = 0.5

    # Missing data (ASSUMED): 2 of 31 withdrew in the 2013 trial.
    missing_day_rate: float = Field(0.08, ge=0, lt=1)
    dropout_rate: float = Field(0.06, ge=0, le=1)

    # Side effects: share of participants reporting each term during a condition of the
    # 2013 crossover (LDN 12 weeks, placebo 4 weeks: adverse_event_weeks).
    # LDN vs placebo: vivid dreams 37 % vs 13 %, headache 16 % vs 3 % (AAPM 2012);
    # insomnia and nausea: 1 of 10 in the pilot on LDN; placebo rates ASSUMED.
    # Events recur at a constant weekly rate that gives these shares over those weeks
    # (simulate.events.weekly_rates), so a longer phase has more of them.
    adverse_event_rates: dict[str, dict[str, float]] = Field(
        default_factory=lambda: {
            "ldn": {"vivid_dreams": 0.37, "headache": 0.16, "insomnia": 0.10, "nausea": 0.10},
            "placebo": {"vivid_dreams": 0.13, "headache": 0.03, "insomnia": 0.03, "nausea": 0.03},
        }
    )
    adverse_event_weeks: dict[str, float] = Field(
        default_factory=lambda: {"ldn": 12.0, "placebo": 4.0}
    )
    # Tolerability 89.2 (LDN) vs 89.4 (placebo) of 100 (AAPM 2012); spread ASSUMED.
    tolerability_mean: dict[str, float] = Field(
        default_factory=lambda: {"ldn": 89.2, "placebo": 89.4}
    )
    tolerability_sd: float = 10.0
    # Blinding guesses: participants could not guess accurately (AAPM 2012); shares ASSUMED.
    guess_dont_know: float = Field(0.35, ge=0, le=1)
    guess_correct_when_guessing: float = Field(0.55, ge=0, le=1)
    # Capsules actually taken (ASSUMED).
    adherence: float = Field(0.95, ge=0, le=1)

    # Visit pain thresholds (ASSUMED levels). Mechanical and heat thresholds
    # rose on LDN, cold did not (pilot abstract): the thresholds rise with the
    # symptom improvement fraction R by these amounts per unit of R.
    pressure_kpa_mean: float = 250.0
    pressure_kpa_sd: float = 80.0
    pressure_gain_per_r: float = 0.5
    heat_cel_mean: float = 42.0
    heat_cel_sd: float = 2.5
    heat_gain_cel_per_r: float = 3.0
    cold_cel_mean: float = 15.0
    cold_cel_sd: float = 6.0
    threshold_noise: float = 0.08

    # Cytokines (pg/mL; ASSUMED levels): log-normal per person and analyte; the
    # analytes the paper found reduced fall by ``cytokine_ldn_log_change`` on LDN.
    cytokine_log_median: float = 2.3
    cytokine_log_sd_between: float = 0.8
    cytokine_log_sd_within: float = 0.25
    cytokine_ldn_log_change: float = -0.25

    per_protocol: dict[str, dict[str, float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _response_doses_pair(self) -> Scenario:
        ed50, ed95 = self.response_ed50_mg, self.response_ed95_mg
        if (ed50 is None) != (ed95 is None):
            raise ValueError(
                "response_ed50_mg and response_ed95_mg are given together or not at all"
            )
        if ed50 is not None and ed95 is not None and ed95 <= ed50:
            raise ValueError("response_ed95_mg must be above response_ed50_mg")
        return self

    def for_protocol(self, protocol_id: str) -> Scenario:
        """The scenario with the values calibrated for ``protocol_id`` applied."""
        return self.with_overrides(self.per_protocol.get(protocol_id, {}))

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with some parameters changed (validated; unknown names are an error)."""
        if not overrides:
            return self
        unknown = sorted(set(overrides) - set(type(self).model_fields))
        if unknown:
            raise SimulationError(
                f"unknown scenario parameter(s) {', '.join(unknown)}; "
                f"see ldntrial.simulate.Scenario for the list"
            )
        try:
            return type(self).model_validate(self.model_dump() | dict(overrides))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            raise SimulationError(f"{field}: {message}" if field else message) from None


_STANFORD_PILOT = {
    "placebo_response": 0.05,
    "ldn_effect": 0.343,
    "ldn_effect_sd": 0.05,
    "esr_slope": 0.12,
}

SCENARIOS: dict[str, Scenario] = {
    "stanford": Scenario(
        name="stanford",
        description=(
            "Calibrated to the Stanford results: crossover-2013 28.8 % vs 18.0 % pain "
            "reduction, pilot-2009 32.5 % vs 2.3 % with about 6 in 10 responders"
        ),
        per_protocol={"pilot-2009": _STANFORD_PILOT},
    ),
    "null": Scenario(
        name="null",
        description=(
            "LDN no better than placebo (as FINAL 2024, Bested 2023 and INNOVA found); "
            "placebo response and side effects as in the Stanford crossover"
        ),
        ldn_effect=0.0,
        ldn_effect_sd=0.0,
        esr_slope=0.0,
        cytokine_ldn_log_change=0.0,
        response_ed50_mg=None,
        response_ed95_mg=None,
    ),
}


def get_scenario(name: str | Scenario) -> Scenario:
    """A scenario by name (``stanford``, ``null``), or pass one through."""
    if isinstance(name, Scenario):
        return name
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(sorted(SCENARIOS))
        raise SimulationError(f"no scenario '{name}'; scenarios are {known}") from None
