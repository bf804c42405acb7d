"""Fast lookups on the long TrialData tables.

The diary of a 10,000-participant trial has millions of rows whose text
columns are categorical; turning them into Python strings row by row costs
seconds. These helpers work per category and then index by the codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["mapped"]


def mapped(
    column: pd.Series, mapping: Mapping[str, Any], *, default: Any = None, dtype: Any = object
) -> np.ndarray:
    """``mapping[value]`` for every row of ``column`` (``default`` where absent)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = [str(c) for c in column.cat.categories]
        table = np.array([mapping.get(c, default) for c in categories] + [default], dtype=dtype)
        return table[column.cat.codes.to_numpy()]  # a missing value's code -1 takes the default
    return np.array([mapping.get(str(v), default) for v in column], dtype=dtype)
