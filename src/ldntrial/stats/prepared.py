"""One trial prepared for its analyses: the frames they share, each built once.

:func:`~ldntrial.stats.analyze.analyze` runs a dozen analyses on one trial,
and most begin alike: the diary rows of an item on the days the daily model
compares, each participant's end points by condition. Each used to build them
from the TrialData itself, up to eleven times per analysis (at 2,000
participants about a fifth of the whole). ``analyze`` now prepares the trial
once and passes the :class:`PreparedTrial` down; each analysis asks it for a
frame, which is built the first time and handed out again after. An analysis
given a plain TrialData prepares its own, so each stays callable alone.

A frame is handed out as a shallow copy: under pandas' copy-on-write a caller
that changes its copy changes nothing another analysis sees.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Concatenate, ParamSpec

import pandas as pd

from ldntrial.data.trialdata import TrialData
from ldntrial.protocol.model import Protocol

__all__ = ["Analysable", "PreparedTrial", "prepare"]

_Arguments = ParamSpec("_Arguments")


class PreparedTrial:
    """A trial and the frames its analyses have built from it, by builder and arguments."""

    def __init__(self, trial: TrialData) -> None:
        self.trial = trial
        self._frames: dict[tuple[Hashable, ...], pd.DataFrame] = {}

    @property
    def protocol(self) -> Protocol:
        return self.trial.protocol

    def frame(
        self,
        build: Callable[Concatenate[TrialData, _Arguments], pd.DataFrame],
        *args: _Arguments.args,
        **kwargs: _Arguments.kwargs,
    ) -> pd.DataFrame:
        """``build(trial, *args, **kwargs)``, built on the first call and kept for the next.

        Arguments are the key, so they must be hashable (an item id, a comparison).
        A builder that raises is asked again next time: an error is not kept.
        """
        key = (build, *args, *sorted(kwargs.items()))
        if key not in self._frames:
            self._frames[key] = build(self.trial, *args, **kwargs)
        return self._frames[key].copy(deep=False)


Analysable = TrialData | PreparedTrial


def prepare(trial: Analysable) -> PreparedTrial:
    """``trial`` prepared for analysis: itself when it already is."""
    return trial if isinstance(trial, PreparedTrial) else PreparedTrial(trial)
