"""Importing a laboratory file: a preview with every problem by line, then all rows or none.

The file is read by the core (:func:`ldntrial.interop.lab_files.read_lab_file`)
and each result is then checked as a site entry would be
(:func:`ldntrial.web.trial.labs.check_lab_result`): she must be a participant
at a site the importer may enter labs for (a participant elsewhere reads as
unknown, so the file reveals nothing of other sites), sampled after consent
and not in her future, and not already recorded. The import re-checks
everything, stores every result in one transaction and records the transfer
with its row count and SHA-256 (standards.md GCP-8).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from ldntrial.errors import RowProblem
from ldntrial.interop.lab_files import read_lab_file
from ldntrial.protocol.liver_test import lab_panels
from ldntrial.web.audit.chain import record_event
from ldntrial.web.audit.models import Action
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.labs import check_lab_result, record_lab_result
from ldntrial.web.trial.models import LabResult

__all__ = ["LabFilePreview", "import_lab_file", "preview_lab_file"]

PREVIEW_ROWS = 50


@dataclass(frozen=True)
class LabFilePreview:
    """What the file holds and what is wrong with it, before anything is stored."""

    panel: str
    layout: str
    sha256: str
    results: list[dict] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    blank_cells: int = 0

    @property
    def participants(self) -> int:
        return len({row["participant_id"] for row in self.results})

    @property
    def analytes(self) -> list[tuple[str, int]]:
        return sorted(Counter(row["analyte"] for row in self.results).items())

    @property
    def first_rows(self) -> list[dict]:
        return self.results[:PREVIEW_ROWS]


def preview_lab_file(study: Study, participants, panel: str, text: str) -> LabFilePreview:
    """Read and check ``text`` as ``panel`` results for ``participants`` (those she may enter)."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    panels = {lab.id: lab for lab in lab_panels(study.protocol)}
    if panel not in panels:
        raise ValidationError({"panel": f"'{panel}' is not a lab panel of this protocol"})
    read = read_lab_file(text, panels[panel])
    people = {person.code: person for person in participants}
    for person in people.values():
        person.study = study  # one instance, so the protocol is parsed once, not per row
    recorded = set(
        LabResult.objects.filter(participant__in=people.values(), panel=panel).values_list(
            "participant__code", "sampled_on", "analyte"
        )
    )
    problems = list(read.problems)
    results = read.results.to_dict("records")
    for row in results:
        person = people.get(row["participant_id"])
        if person is None:
            problems.append(
                RowProblem(
                    row["line"],
                    "participant_id",
                    f"no participant {row['participant_id']} at your sites",
                )
            )
            continue
        if (row["participant_id"], row["sampled_on"], row["analyte"]) in recorded:
            problems.append(
                RowProblem(
                    row["line"],
                    "analyte",
                    f"{row['analyte']} of {person.code} on {row['sampled_on']} is already stored",
                )
            )
        try:
            check_lab_result(person, **_fields(row))
        except ValidationError as error:
            problems.extend(
                RowProblem(row["line"], column, " ".join(messages))
                for column, messages in error.message_dict.items()
            )
    problems.sort(key=lambda problem: problem.line)
    return LabFilePreview(panel, read.layout, digest, results, problems, read.blank_cells)


def import_lab_file(
    study: Study, participants, panel: str, text: str, *, actor: str, name: str
) -> LabFilePreview:
    """Store every result of the file, or none; ValidationError when any row has a problem."""
    preview = preview_lab_file(study, participants, panel, text)
    if preview.problems:
        raise ValidationError({"file": f"{len(preview.problems)} problem(s); nothing imported"})
    if not preview.results:
        raise ValidationError({"file": "holds no result to import"})
    people = {person.code: person for person in participants}
    with transaction.atomic():
        for row in preview.results:
            record_lab_result(people[row["participant_id"]], **_fields(row), actor=actor)
        record_event(
            actor=actor,
            action=Action.IMPORT,
            about=study,
            changes={
                "lab_file": [None, name],
                "panel": [None, panel],
                "results": [None, str(len(preview.results))],
                "sha256": [None, preview.sha256],
            },
        )
    return preview


def _fields(row: dict) -> dict:
    return {key: row[key] for key in ("sampled_on", "panel", "analyte", "value", "unit")}
