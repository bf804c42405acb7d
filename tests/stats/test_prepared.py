"""One prepared trial passed down: each shared frame built once, and no analysis sees
another's changes (issue 17)."""

from __future__ import annotations

import importlib
from collections import Counter

import pandas as pd
import pytest

from ldntrial.data.trialdata import TrialData
from ldntrial.errors import AnalysisError
from ldntrial.simulate import simulate_trial
from ldntrial.stats.analyze import analyze
from ldntrial.stats.daily_model import fit_daily_model
from ldntrial.stats.endpoints import condition_endpoints
from ldntrial.stats.prepared import PreparedTrial, prepare
from ldntrial.stats.primary import analyse_endpoint
from ldntrial.stats.responders import classify_responders


@pytest.fixture(scope="module")
def trial() -> TrialData:
    return simulate_trial("crossover-2013", n=40, seed=3)


def test_a_frame_is_built_once_and_each_caller_gets_its_own_copy(trial: TrialData) -> None:
    builds = Counter[str]()

    def endpoints(data: TrialData, item: str) -> pd.DataFrame:
        builds[item] += 1
        return condition_endpoints(data, item)

    context = PreparedTrial(trial)
    first = context.frame(endpoints, "pain")
    first["improvement_percent"] = -1.0  # one analysis scribbles on its frame...
    first["scribble"] = 1
    again = context.frame(endpoints, "pain")
    assert builds == {"pain": 1}
    # ... and the next one sees the frame as it was built.
    pd.testing.assert_frame_equal(again, condition_endpoints(trial, "pain"))
    context.frame(endpoints, "fatigue")
    assert builds == {"pain": 1, "fatigue": 1}


def test_a_builder_that_fails_is_asked_again(trial: TrialData) -> None:
    calls = []

    def failing(data: TrialData, item: str) -> pd.DataFrame:
        calls.append(item)
        raise AnalysisError(f"the diary has no entries for item '{item}'")

    context = prepare(trial)
    for _ in range(2):
        with pytest.raises(AnalysisError, match="no entries for item 'nausea'"):
            context.frame(failing, "nausea")
    assert calls == ["nausea", "nausea"]
    assert prepare(context) is context


def test_analyze_builds_each_shared_frame_once_and_shares_it(
    trial: TrialData, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked, built = Counter[tuple[str, str]](), Counter[tuple[str, str]]()

    class Counting(PreparedTrial):
        def frame(self, build, *args, **kwargs):  # type: ignore[no-untyped-def,override]
            key = (build.__name__, args[0])
            kept = len(self._frames)
            frame = super().frame(build, *args, **kwargs)
            asked[key] += 1
            built[key] += len(self._frames) - kept
            return frame

    # The module, not the function the package exports under the same name.
    monkeypatch.setattr(
        importlib.import_module("ldntrial.stats.analyze"), "PreparedTrial", Counting
    )
    result = analyze(trial)
    assert set(built.values()) == {1}
    # The primary item's compared days serve the daily model, its carry-over fit and
    # the responders' tests; its end points the primary analysis, responders and ESR.
    assert asked[("comparison_frame", "pain")] == 3
    assert asked[("condition_endpoints", "pain")] >= 3
    # Shared frames change no figure: each analysis alone, on the plain trial, agrees.
    pd.testing.assert_frame_equal(result.primary.estimates, analyse_endpoint(trial).estimates)
    pd.testing.assert_frame_equal(
        result.responders.estimates, classify_responders(trial).estimates
    )
    alone = fit_daily_model(trial, sequence_term=True)
    assert result.carryover is not None
    pd.testing.assert_frame_equal(result.carryover.estimates, alone.estimates)
