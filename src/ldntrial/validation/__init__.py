"""Monte-Carlo validation of every reported analysis: error rates, coverage, bias, SEs.

``validate(protocols)`` simulates each built-in design many times under a
null and a true effect and measures what each pre-specified analysis does
(:mod:`ldntrial.validation.monte_carlo`); the true values come from the
simulator's expected diaries, not from the analyses checked
(:mod:`ldntrial.validation.estimands`). ``make validate`` prints the table.
"""

from ldntrial.validation.monte_carlo import PUBLISHED_SIZES, Validation, validate
from ldntrial.validation.table import to_markdown

__all__ = ["PUBLISHED_SIZES", "Validation", "to_markdown", "validate"]
