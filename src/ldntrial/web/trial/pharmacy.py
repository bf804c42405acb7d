"""The pharmacy's side: the concealed allocation list and its kits, made by the core.

The list is generated once per version with the core's permuted blocks
(:func:`ldntrial.protocol.randomisation.allocation_list`) and kit codes
(:func:`ldntrial.protocol.kits.prepare_kits`). Every row is an audited record
whose allocation fields are concealed in the trail; the version records the
method, the seeds (concealed: BLD-3) and who made it (BLD-4). A list made
elsewhere can be uploaded instead; its kits are still made here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Max

from ldntrial.protocol.allocation_upload import allocation_list_from_table
from ldntrial.protocol.kits import KitList, prepare_kits
from ldntrial.protocol.randomisation import AllocationList, allocation_list
from ldntrial.web.studies.models import Study
from ldntrial.web.trial.concealed import new_allocation_version, new_kits, new_slot

__all__ = ["generate_allocation", "upload_allocation"]


def generate_allocation(
    study: Study,
    *,
    actor: str,
    per_stratum: int,
    seed: int | None = None,
    strata: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """A new version of the allocation list and its kits; returns the version number."""
    protocol = study.protocol
    levels = dict(strata or {})
    if any(s.name == "site" and s.above is None for s in protocol.strata):
        levels.setdefault("site", [site.code for site in study.sites.order_by("code")])
    allocations = allocation_list(protocol, n=per_stratum, seed=seed, strata=levels)
    kits = prepare_kits(protocol, allocations, seed=None if seed is None else seed + 1)
    return _store(
        study,
        allocations,
        kits,
        method=str(allocations.method),
        seed=f"{allocations.seed}/{kits.seed}",
        per_stratum=per_stratum,
        actor=actor,
    )


def upload_allocation(study: Study, table: pd.DataFrame, *, actor: str, source: str) -> int:
    """A list made elsewhere as the next version, its kits made here; ``source`` says whence.

    The table is checked row by row by the core
    (:func:`ldntrial.protocol.allocation_upload.allocation_list_from_table`);
    RandomisationError lists every broken rule and nothing is stored.
    """
    protocol = study.protocol
    allocations = allocation_list_from_table(protocol, table)
    kits = prepare_kits(protocol, allocations)
    per_stratum = int(allocations.table.groupby("stratum").size().max())
    return _store(
        study,
        allocations,
        kits,
        method=f"uploaded ({allocations.method})",
        seed=f"{source[:60]}/{kits.seed}",
        per_stratum=per_stratum,
        actor=actor,
    )


def _store(
    study: Study,
    allocations: AllocationList,
    kits: KitList,
    *,
    actor: str,
    method: str,
    seed: str,
    per_stratum: int,
) -> int:
    """The list and kits as the study's next version, in one transaction."""
    with transaction.atomic():
        version = (study.allocation_lists.aggregate(v=Max("version"))["v"] or 0) + 1
        new_allocation_version(
            study,
            version=version,
            method=method,
            seed=seed,
            per_stratum=per_stratum,
            strata=allocations.strata,
            actor=actor,
        )
        slots = {}
        row: Any  # a row of the allocation list (a named tuple of its columns)
        for row in allocations.table.itertuples(index=False):
            slots[row.randomisation_number] = new_slot(
                study,
                version=version,
                randomisation_number=f"V{version}-{row.randomisation_number}",
                stratum=row.stratum,
                position=row.position,
                sequence=row.sequence,
                actor=actor,
            )
        new_kits(study, kits.table, slot_of=slots.__getitem__, code_of=str, actor=actor)
    return version
