"""The one way to the concealed allocation: a participant's sequence, her kits' contents and lots.

Blinding (standards.md BLD-1, BLD-9) rests on knowing every place that can
read an arm. The models store it in fields named ``concealed_*``
(:mod:`.models`), and only this module names them:
``tests/web/test_concealed_access.py`` reads the site's sources and templates
and fails on any other. A module that needs an arm asks here, by a name that
says so (:func:`sequence_of`, :func:`contents_of`, :func:`lot_of`), so a
reviewer sees every reader by searching for those names, and nothing reaches
an arm through a field whose name does not warn of it.

The functions take and return plain values; what a caller does with them
(a pharmacist's page, a code break, the unblinded snapshot) is its own
business and its own access check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from django.db.models import Count, QuerySet

from ldntrial.web.studies.models import Study
from ldntrial.web.trial.models import AllocationListVersion, AllocationSlot, Kit, Participant

__all__ = [
    "KitContents",
    "KitLot",
    "KitOnList",
    "assigned_doses",
    "conditions_in_kits",
    "contents_of",
    "kit_counts_by_contents",
    "kits_without_lot",
    "lot_of",
    "new_allocation_version",
    "new_kits",
    "new_slot",
    "on_the_pharmacy_list",
    "sequence_of",
    "sequences_on_list",
    "set_contents",
    "set_lot",
]


@dataclass(frozen=True)
class KitContents:
    """What a kit holds: its condition, its dose (none for placebo) and a liquid's strength."""

    condition: str
    dose_mg: float | None
    mg_per_ml: float | None

    def __str__(self) -> str:
        text = self.condition + (f" {self.dose_mg:g} mg" if self.dose_mg else "")
        return text + (f" at {self.mg_per_ml:g} mg/mL" if self.mg_per_ml is not None else "")


@dataclass(frozen=True)
class KitLot:
    """The lot a kit was filled from and the date the lot is beyond use."""

    number: str
    beyond_use_on: date


@dataclass(frozen=True)
class KitOnList:
    """A kit beside what it holds and its lot, as the pharmacy's own lists show it."""

    kit: Kit
    contents: KitContents
    lot: KitLot | None


# --- reading ---------------------------------------------------------------------------


def sequence_of(holder: Participant | AllocationSlot) -> str:
    """The sequence allocated to a participant (through her slot) or held by a slot."""
    slot = holder.slot if isinstance(holder, Participant) else holder
    return slot.concealed_sequence


def contents_of(kit: Kit) -> KitContents:
    """What ``kit`` holds."""
    return KitContents(kit.concealed_condition, kit.concealed_dose_mg, kit.concealed_mg_per_ml)


def lot_of(kit: Kit) -> KitLot | None:
    """The lot ``kit`` was filled from, or None before the pharmacist records one."""
    if not kit.concealed_lot or kit.concealed_beyond_use_on is None:
        return None
    return KitLot(kit.concealed_lot, kit.concealed_beyond_use_on)


def on_the_pharmacy_list(kits: Iterable[Kit]) -> list[KitOnList]:
    """``kits`` with their contents and lots, for the pharmacist (an unblinded role)."""
    return [KitOnList(kit, contents_of(kit), lot_of(kit)) for kit in kits]


def assigned_doses(people: Iterable[Participant]) -> dict[int, float]:
    """Each participant's dose (by primary key) as her slot's kits carry it: an up-and-down
    dose, assigned after enrolment; participants with no dosed kit are absent."""
    kits = Kit.objects.filter(
        slot__participant__in=list(people), concealed_dose_mg__isnull=False
    ).values_list("slot__participant", "concealed_dose_mg")
    return {person: float(dose) for person, dose in kits}


def sequences_on_list(study: Study) -> dict[str, bool]:
    """Every sequence on the study's allocation list, and whether an enrolled participant
    follows it (what an amendment may not take away)."""
    rows = AllocationSlot.objects.filter(study=study).values_list(
        "concealed_sequence", "participant"
    )
    followed: dict[str, bool] = {}
    for sequence, participant in rows:
        followed[sequence] = followed.get(sequence, False) or participant is not None
    return followed


def conditions_in_kits(study: Study) -> set[str]:
    """The conditions of the study's prepared kits."""
    return set(Kit.objects.filter(study=study).values_list("concealed_condition", flat=True))


def kit_counts_by_contents(study: Study) -> list[tuple[KitContents, int]]:
    """How many kits hold each preparation, in order of condition and dose."""
    rows = (
        Kit.objects.filter(study=study)
        .values("concealed_condition", "concealed_dose_mg")
        .annotate(kits=Count("pk"))
        .order_by("concealed_condition", "concealed_dose_mg")
    )
    return [
        (KitContents(row["concealed_condition"], row["concealed_dose_mg"], None), row["kits"])
        for row in rows
    ]


def kits_without_lot(kits: QuerySet[Kit]) -> QuerySet[Kit]:
    """Those of ``kits`` whose lot is not recorded yet."""
    return kits.filter(concealed_lot="")


# --- writing (the pharmacy's own actions; each caller saves inside its audit reason) ----


def set_contents(kit: Kit, contents: KitContents) -> None:
    """Fill ``kit`` with ``contents`` (unsaved)."""
    kit.concealed_condition = contents.condition
    kit.concealed_dose_mg = contents.dose_mg
    kit.concealed_mg_per_ml = contents.mg_per_ml


def set_lot(kit: Kit, lot: KitLot | None) -> None:
    """Record the lot ``kit`` was filled from, or clear it to be filled again (unsaved)."""
    kit.concealed_lot = lot.number if lot else ""
    kit.concealed_beyond_use_on = lot.beyond_use_on if lot else None


def new_allocation_version(
    study: Study,
    *,
    actor: str,
    version: int,
    method: str,
    seed: str,
    per_stratum: int,
    strata: dict,
) -> AllocationListVersion:
    """Store how a version of the allocation list was made; its seed is concealed (BLD-3)."""
    return AllocationListVersion.objects.create(
        study=study,
        version=version,
        method=method,
        concealed_seed=seed,
        per_stratum=per_stratum,
        strata=strata,
        actor=actor,
    )


def new_slot(
    study: Study,
    *,
    actor: str,
    version: int,
    randomisation_number: str,
    stratum: str,
    position: int,
    sequence: str,
) -> AllocationSlot:
    """Store one row of the allocation list."""
    return AllocationSlot.objects.create(
        study=study,
        list_version=version,
        randomisation_number=randomisation_number,
        stratum=stratum,
        position=position,
        concealed_sequence=sequence,
        actor=actor,
    )


def new_kits(
    study: Study,
    table: pd.DataFrame,
    *,
    actor: str,
    slot_of: Callable[[str], AllocationSlot],
    code_of: Callable[[str], str],
) -> list[Kit]:
    """Store the kits of a kit list (:func:`ldntrial.protocol.kits.prepare_kits`), each in
    the slot of its randomisation number and under the code ``code_of`` gives its listed
    code (the list's own, or a fresh one where the list's might be taken)."""
    kits = []
    row: Any  # a row of the kit list (a named tuple of its columns)
    for row in table.itertuples(index=False):
        kits.append(
            Kit.objects.create(
                study=study,
                slot=slot_of(row.randomisation_number),
                code=code_of(row.kit_code),
                kit_number=row.kit_number,
                concealed_condition=row.condition,
                concealed_dose_mg=None if pd.isna(row.dose_mg) else float(row.dose_mg),
                concealed_mg_per_ml=None if pd.isna(row.mg_per_ml) else float(row.mg_per_ml),
                first_day=row.first_day,
                last_day=row.last_day,
                capsules=row.capsules,
                dispense_visit=row.dispense_visit,
                actor=actor,
            )
        )
    return kits
