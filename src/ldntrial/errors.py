"""Every error ldntrial raises on purpose, in one tree.

::

    LdnTrialError                 anything ldntrial refuses to do
    ├── ProtocolError             a protocol file breaks a rule (names file, field, line)
    ├── ScheduleError             a calendar cannot be built (bad date, zone, sequence)
    ├── RandomisationError        an allocation or kit list cannot be made as asked
    ├── EligibilityError          screening answers are incomplete or out of range
    ├── BlindingError             an operation would reveal, or cannot apply, a blinding
    ├── DataError                 a TrialData table breaks the data contract
    │   └── BundleError           a bundle folder is missing a file or fails its checksum
    ├── SimulationError           a virtual trial cannot be run with these settings
    ├── AnalysisError             an analysis cannot be run on these data
    ├── ReportError               a report cannot be written (e.g. no Chromium for a PDF)
    ├── InteropError              a file to import breaks its format (names line and column)
    └── ExportError               an export cannot be made as asked (format, key, folder)

Each carries the context needed to act on it (the field, the file, the row),
and its ``str()`` is a message a person can read without a traceback: the CLI
prints it as it is, the web layer turns it into a form error or a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AnalysisError",
    "BlindingError",
    "BundleError",
    "DataError",
    "EligibilityError",
    "ExportError",
    "InteropError",
    "LdnTrialError",
    "ProtocolError",
    "ProtocolIssue",
    "RandomisationError",
    "ReportError",
    "RowProblem",
    "ScheduleError",
    "SimulationError",
]


class LdnTrialError(Exception):
    """Base of every error ldntrial raises on purpose."""


@dataclass(frozen=True)
class ProtocolIssue:
    """One rule a protocol breaks: where (field path, line) and what."""

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.field}: {self.message}" if self.field else f"{where}{self.message}"


@dataclass(eq=False)
class ProtocolError(LdnTrialError):
    """A protocol file (or dict) breaks one or more rules of the protocol format."""

    issues: list[ProtocolIssue]
    source: str = "<protocol>"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: {issue}" for issue in self.issues]
        return "\n".join(lines)

    @property
    def fields(self) -> list[str]:
        """The field paths named by the issues, in order (handy in tests and forms)."""
        return [issue.field for issue in self.issues]


class ScheduleError(LdnTrialError):
    """A participant calendar cannot be built (unknown sequence, zone or date)."""


class RandomisationError(LdnTrialError):
    """An allocation list, dose assignment or kit list cannot be made as asked."""


class EligibilityError(LdnTrialError):
    """Screening answers are missing or out of range, so no decision can be made."""


class BlindingError(LdnTrialError):
    """A blinded view cannot be made as asked (already blinded, no key)."""


@dataclass(eq=False)
class DataError(LdnTrialError):
    """A TrialData table breaks the data contract (names table, column, row and rule)."""

    message: str
    table: str | None = None
    column: str | None = None
    row: int | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ".".join(part for part in (self.table, self.column) if part)
        if self.row is not None:
            where += f" row {self.row}"
        return f"{where}: {self.message}" if where else self.message


@dataclass(eq=False)
class BundleError(DataError):
    """A bundle folder is incomplete, unreadable, or a file fails its checksum."""

    path: Path | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return where + super().__str__()


class SimulationError(LdnTrialError):
    """A virtual trial cannot be run with the settings given."""


class AnalysisError(LdnTrialError):
    """An analysis cannot be run on these data (blinded, too few participants, ...)."""


class ReportError(LdnTrialError):
    """A report cannot be written as asked (no Chromium for the PDF, an unwritable path)."""


@dataclass(frozen=True)
class RowProblem:
    """One broken rule of an imported file: its line (the header is line 1), column and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""  # 0: the file as a whole
        return f"{where}{self.column}: {self.message}"


@dataclass(eq=False)
class InteropError(LdnTrialError):
    """A file to import breaks its format; every problem is listed, nothing is imported."""

    problems: list[RowProblem]
    source: str = "<file>"

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {problem}" for problem in self.problems)


class ExportError(LdnTrialError):
    """An export cannot be made as asked: an unknown format, no export key, a folder in use."""
