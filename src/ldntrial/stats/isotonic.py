"""Centred isotonic regression: the dose-response curve of an up-and-down study, without a shape.

Up-and-down data put most participants near the dose where half respond and
few anywhere else, so a logistic curve fitted to them says more about its
own shape than about the data at the ends. Centred isotonic regression
(Oron & Flournoy, Stat Biopharm Res 2017;9:258-267) assumes only that the
response rate does not fall as the dose rises: the observed rates are made
increasing by pooling adjacent doses that violate it (the pool-adjacent-
violators algorithm, weighted by participants), each pooled run is placed at
its participant-weighted mean dose, and the points are joined by straight
lines. The dose at which a share ``p`` respond is read off those lines; a
share the curve never reaches on the ladder is *not estimable*, not
extrapolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IsotonicCurve", "centred_isotonic"]


@dataclass(frozen=True)
class IsotonicCurve:
    """The fitted points (dose, rate), strictly increasing in both."""

    doses: np.ndarray
    rates: np.ndarray
    participants: np.ndarray

    def dose_at(self, share: float) -> float | None:
        """The dose at which ``share`` respond, or None where the curve never reaches it."""
        if len(self.doses) == 0 or not self.rates[0] <= share <= self.rates[-1]:
            return None
        if len(self.doses) == 1:
            return float(self.doses[0])
        return float(np.interp(share, self.rates, self.doses))

    def rate_at(self, dose: float) -> float:
        """The fitted response rate at ``dose`` (flat beyond the first and last points)."""
        return float(np.interp(dose, self.doses, self.rates))


def centred_isotonic(doses: np.ndarray, responded: np.ndarray) -> IsotonicCurve:
    """Fit the centred isotonic curve to each participant's dose and response (0/1)."""
    doses = np.asarray(doses, dtype=float)
    responded = np.asarray(responded, dtype=float)
    levels = np.unique(doses)
    counts = np.array([np.sum(doses == level) for level in levels], dtype=float)
    successes = np.array([np.sum(responded[doses == level]) for level in levels])
    # Pool adjacent violators; ties are pooled too, so that the result is strictly increasing.
    blocks: list[list[float]] = []  # [weighted dose sum, participants, responders]
    for level, n, k in zip(levels, counts, successes, strict=True):
        blocks.append([level * n, n, k])
        while len(blocks) > 1 and blocks[-2][2] / blocks[-2][1] >= blocks[-1][2] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    fitted = np.array(blocks)
    return IsotonicCurve(
        doses=fitted[:, 0] / fitted[:, 1],
        rates=fitted[:, 2] / fitted[:, 1],
        participants=fitted[:, 1],
    )
