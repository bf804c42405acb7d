"""The public surface is explicit; a change to it is a deliberate change to this test."""

from __future__ import annotations

import ldntrial
import ldntrial.data
import ldntrial.protocol
import ldntrial.simulate
import ldntrial.stats


def test_top_level_names() -> None:
    assert sorted(ldntrial.__all__) == [
        "TrialData",
        "__version__",
        "analyze",
        "build_schedule",
        "load_bundle",
        "load_protocol",
        "save_bundle",
        "simulate_trial",
    ]
    trial = ldntrial.simulate_trial("pilot-2009", n=3, seed=1)
    assert isinstance(trial, ldntrial.TrialData)


def test_subpackages_list_their_public_names() -> None:
    for package in (ldntrial.data, ldntrial.protocol, ldntrial.simulate, ldntrial.stats):
        for name in package.__all__:
            assert hasattr(package, name), f"{package.__name__}.{name}"
