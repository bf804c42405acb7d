"""Before the study: how often will it succeed? Power by simulating the protocol many times.

It sits above :mod:`ldntrial.simulate` and :mod:`ldntrial.stats`, which do not
know each other: a simulated trial is made by one and analysed, as
pre-specified, by the other.
"""

from ldntrial.planning.power import PowerResult, estimate_power

__all__ = ["PowerResult", "estimate_power"]
