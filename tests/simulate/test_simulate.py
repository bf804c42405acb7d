"""Virtual trials: reproducible, faithful to the protocol, and to the scenario's parameters."""

from __future__ import annotations

import numpy as np
import pytest

from ldntrial.errors import SimulationError
from ldntrial.protocol.loader import builtin_protocol_ids, load_protocol
from ldntrial.protocol.randomisation import next_up_and_down_dose
from ldntrial.simulate import SCENARIOS, simulate_diaries, simulate_trial
from ldntrial.simulate.outcomes import ar1_noise
from ldntrial.stats.endpoints import condition_endpoints


def test_the_same_seed_gives_the_same_trial() -> None:
    first = simulate_trial("crossover-2013", n=20, seed=42)
    again = simulate_trial("crossover-2013", n=20, seed=42)
    other = simulate_trial("crossover-2013", n=20, seed=43)
    assert first.equals(again)
    assert not first.diary["value"].equals(other.diary["value"])


def test_the_truth_is_recorded_with_the_bundle() -> None:
    trial = simulate_trial("crossover-2013", n=15, seed=1, overrides={"ldn_effect": 0.2})
    truth = trial.truth
    assert truth["seed"] == 1 and truth["n"] == 15 and truth["scenario"] == "stanford"
    assert truth["parameters"]["ldn_effect"] == 0.2
    assert set(truth["participants"]) == set(trial.participants["participant_id"])
    effects = [p["ldn_effect"] for p in truth["participants"].values()]
    assert 0.05 < np.mean(effects) < 0.35


def test_the_crossover_is_counterbalanced_and_follows_the_calendar() -> None:
    trial = simulate_trial("crossover-2013", n=40, seed=3)
    counts = trial.participants["sequence"].value_counts()
    assert abs(counts["ldn-first"] - counts["placebo-first"]) <= 2  # whole blocks of 2 or 4
    first = trial.participants[trial.participants["sequence"] == "ldn-first"][
        "participant_id"
    ].iloc[0]
    rows = trial.diary[(trial.diary["participant_id"] == first)]
    by_day = rows.groupby("study_day")["condition"].first().astype(str)
    assert set(by_day.loc[15:98]) == {"ldn"} and set(by_day.loc[99:126]) <= {"placebo"}


def test_missing_days_and_dropouts_happen_at_the_set_rates() -> None:
    trial = simulate_trial(
        "crossover-2013", n=4000, seed=4, overrides={"missing_day_rate": 0.2, "dropout_rate": 0.1}
    )
    withdrawn = (trial.participants["status"] == "withdrawn").mean()
    assert 0.08 < withdrawn < 0.12  # binomial SE at n = 4000: 0.005
    completers = trial.participants.loc[
        trial.participants["status"] == "completed", "participant_id"
    ]
    days = trial.diary[
        trial.diary["participant_id"].isin(completers) & (trial.diary["item"] == "pain")
    ]
    present = len(days) / (len(completers) * 154)
    assert 0.78 < present < 0.82
    # Nobody reports after withdrawing.
    last = trial.diary.groupby("participant_id", observed=True)["date"].max()
    out = trial.participants.set_index("participant_id")
    gone = out[out["status"] == "withdrawn"]
    assert (last.loc[gone.index] <= gone["withdrawn_on"]).all()


def test_esr_is_right_skewed() -> None:
    esr = simulate_trial("pilot-2009", n=3000, seed=5).participants["esr_baseline"]
    assert esr.mean() > esr.median() * 1.1
    assert esr.min() > 0


def test_side_effects_come_at_the_published_rates() -> None:
    trial = simulate_trial("crossover-2013", n=3000, seed=6, overrides={"dropout_rate": 0.0})
    events = trial.adverse_events
    for condition, expected in (("ldn", 0.37), ("placebo", 0.13)):
        reporting = events[(events["term"] == "vivid_dreams") & (events["condition"] == condition)]
        share = reporting["participant_id"].nunique() / 3000
        assert abs(share - expected) < 0.03, (condition, share)


def test_tolerability_centres_on_the_published_ratings() -> None:
    trial = simulate_trial("crossover-2013", n=2000, seed=8)
    ratings = trial.visits[trial.visits["measure"] == "tolerability"]
    assert 87.5 < ratings["value"].mean() < 90.5
    assert ratings["value"].between(0, 100).all()


def test_ldn_builds_up_over_about_four_weeks() -> None:
    trial = simulate_trial(
        "crossover-2013",
        n=2000,
        seed=9,
        overrides={"placebo_response": 0.0, "placebo_sd": 0.0, "ldn_effect": 0.4},
    )
    pain = trial.diary[(trial.diary["item"] == "pain")]
    ldn_first = set(
        trial.participants.loc[trial.participants["sequence"] == "ldn-first", "participant_id"]
    )
    pain = pain[pain["participant_id"].isin(ldn_first)]
    mean_by_day = pain.groupby("study_day")["value"].mean()
    baseline = mean_by_day.loc[1:14].mean()
    full = baseline - mean_by_day.loc[80:98].mean()
    after_week_one = baseline - mean_by_day.loc[21:22].mean()
    after_four_weeks = baseline - mean_by_day.loc[42:43].mean()
    assert 0.4 < after_week_one / full < 0.65
    assert after_four_weeks / full > 0.9


def test_up_and_down_doses_follow_the_previous_response() -> None:
    protocol = load_protocol("dose-finding-2020")
    trial = simulate_trial(protocol, n=25, seed=10)
    from ldntrial.stats import condition_endpoints

    improvement = condition_endpoints(trial).set_index("participant_id")["improvement_percent"]
    doses = trial.participants["dose_mg"].tolist()
    history = []
    withdrawn = 0
    for pid, dose in zip(trial.participants["participant_id"], doses, strict=True):
        assert dose == next_up_and_down_dose(protocol, history)
        if pid in improvement and np.isfinite(improvement[pid]):
            history.append((dose, bool(improvement[pid] >= 30)))
        else:
            withdrawn += 1  # no end point: the next woman takes her dose
    assert len(set(doses)) > 1
    assert doses[0] == 0.75 and len(history) + withdrawn == len(doses)


def test_a_withdrawal_does_not_move_the_ladder() -> None:
    trial = simulate_trial("dose-finding-2020", n=25, seed=3, overrides={"dropout_rate": 0.5})
    people = trial.participants
    ended = set(
        condition_endpoints(trial).dropna(subset=["improvement_percent"])["participant_id"]
    )
    doses = people["dose_mg"].tolist()
    gone = [k for k, pid in enumerate(people["participant_id"]) if pid not in ended]
    assert gone, "the override should make some women withdraw"
    for k in gone:
        if k + 1 < len(doses):
            assert doses[k + 1] == doses[k]


def test_an_n_of_1_trial_gives_each_patient_three_randomised_pairs() -> None:
    trial = simulate_trial("nof1", n=50, seed=11)
    periods = trial.diary.groupby("participant_id", observed=True)["period"].max()
    assert (periods == 6).sum() >= 40  # all but the few who dropped out
    assert trial.participants["sequence"].nunique() > 4


def test_cytokines_fall_on_ldn_only_where_the_scenario_says() -> None:
    def change(scenario: str) -> float:
        labs = simulate_trial("cytokine-2017", n=200, seed=12, scenario=scenario).labs
        il6 = labs[labs["analyte"] == "IL-6"]
        log = np.log(il6["value"])
        return float(log[il6["study_day"] > 56].mean() - log[il6["study_day"] <= 14].mean())

    assert change("stanford") == pytest.approx(
        SCENARIOS["stanford"].cytokine_ldn_log_change, abs=0.08
    )
    assert abs(change("null")) < 0.08


def test_bad_settings_are_named() -> None:
    with pytest.raises(SimulationError, match="unknown scenario parameter\\(s\\) ldn_efect"):
        simulate_trial("crossover-2013", n=5, seed=1, overrides={"ldn_efect": 0.2})
    with pytest.raises(SimulationError, match=r"^missing_day_rate: "):
        simulate_trial("crossover-2013", n=5, seed=1, overrides={"missing_day_rate": 1.5})
    with pytest.raises(
        SimulationError, match="no scenario 'hopeful'; scenarios are null, stanford"
    ):
        simulate_trial("crossover-2013", n=5, seed=1, scenario="hopeful")
    with pytest.raises(SimulationError, match="n must be at least 1"):
        simulate_trial("crossover-2013", n=0, seed=1)
    with pytest.raises(SimulationError, match="unknown table\\(s\\) dairy"):
        simulate_trial("crossover-2013", n=5, seed=1, tables=("dairy",))


def test_asking_for_fewer_tables_leaves_the_others_empty_and_the_diary_unchanged() -> None:
    full = simulate_trial("crossover-2013", n=12, seed=5)
    lean = simulate_trial("crossover-2013", n=12, seed=5, tables=("diary",))
    assert lean.diary.equals(full.diary)
    assert lean.participants.equals(full.participants)
    assert len(full.visits) > 0 and len(full.adverse_events) > 0
    assert len(lean.visits) == len(lean.labs) == len(lean.adverse_events) == 0
    assert list(lean.visits.columns) == list(full.visits.columns)


def test_daily_noise_is_stationary_ar1_with_the_scenario_sd_and_correlation() -> None:
    scenario = SCENARIOS["stanford"].with_overrides({"ar1": 0.6, "noise_sd": 8.0})
    noise = ar1_noise(4000, 60, scenario, np.random.default_rng(3))
    # Stationary from day 1: the same SD on the first and the last day.
    assert noise[:, 0].std() == pytest.approx(8.0, rel=0.03)
    assert noise[:, -1].std() == pytest.approx(8.0, rel=0.03)
    lag1 = np.corrcoef(noise[:, :-1].ravel(), noise[:, 1:].ravel())[0, 1]
    lag2 = np.corrcoef(noise[:, :-2].ravel(), noise[:, 2:].ravel())[0, 1]
    assert lag1 == pytest.approx(0.6, abs=0.01)
    assert lag2 == pytest.approx(0.36, abs=0.01)


def test_an_up_and_down_study_stops_when_its_rule_is_met():
    from ldntrial.protocol.randomisation import (
        count_reversals,
        count_up_and_down_pairs,
        up_and_down_finished,
    )
    from ldntrial.stats.endpoints import condition_endpoints

    protocol = load_protocol("dose-finding-2020")
    trial = simulate_trial(protocol, n=80, seed=5)
    people = trial.participants  # in the order the doses were given
    improvement = condition_endpoints(trial).set_index("participant_id")["improvement_percent"]
    history = [
        (dose, bool(improvement[pid] >= 30))
        for pid, dose in zip(people["participant_id"], people["dose_mg"], strict=True)
        if pid in improvement and np.isfinite(improvement[pid])
    ]
    assert len(people) < 80 and trial.truth["n"] == len(people)
    assert count_reversals(history) >= 10 and count_up_and_down_pairs(history) >= 6
    assert up_and_down_finished(protocol, history)
    assert not up_and_down_finished(protocol, history[:-1])  # the last one enrolled ended it


ARRAY_DESIGNS = sorted(set(builtin_protocol_ids()) - {"dose-finding-2020"})


@pytest.mark.parametrize("protocol_id", ARRAY_DESIGNS)
def test_the_diaries_as_arrays_are_the_diary_table_of_the_same_trial(protocol_id: str) -> None:
    trial = simulate_trial(protocol_id, n=17, seed=23, tables=("diary",))
    diaries = simulate_diaries(protocol_id, n=17, seed=23)
    ids = trial.participants["participant_id"].to_numpy()
    from_arrays = {
        (ids[member], item, day + 1): value
        for group in diaries.groups
        for item, ratings in group.ratings.items()
        for member, row in zip(group.members, ratings, strict=True)
        for day, value in enumerate(row)
        if np.isfinite(value)
    }
    from_table = {
        (str(pid), str(item), int(day)): value
        for pid, item, day, value in trial.diary[
            ["participant_id", "item", "study_day", "value"]
        ].itertuples(index=False)
    }
    assert from_arrays == from_table
    sequences = {ids[m]: group.plan.sequence for group in diaries.groups for m in group.members}
    assert sequences == dict(zip(ids, trial.participants["sequence"], strict=True))


def test_an_up_and_down_design_is_not_simulated_as_arrays() -> None:
    with pytest.raises(SimulationError, match="up-and-down design is simulated whole"):
        simulate_diaries("dose-finding-2020", n=5, seed=1)
