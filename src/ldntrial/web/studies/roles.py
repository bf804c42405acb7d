"""The role x permission matrix (standards.md SEC-AZ-1), as data the checks and tests share.

Only the pharmacist sees allocations while the study runs (BLD-1, BLD-9:
"randomise" and "view allocation" are separate permissions). Every role
has a dashboard, its home page; what it lists follows the role. The
blinded rater, who scores outcomes, is not shown adverse events: side
effects such as vivid dreams can hint at the arm (BLD-9). The
statistician works blind until the database is locked; unblinding the locked
snapshot is its own permission. The monitor reads and audits, and writes
no clinical data: she raises and closes queries and marks forms verified
against their source; the site answers queries and the investigator signs
casebooks. Exports are de-identified for every role that may export; the
investigator and the study admin (who reads the audit trail, with its real
codes and times, already) may ask for real codes and dates; every export
of a blinded role is blinded.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BLINDED_ROLES", "DATA_ENTRY", "PERMISSIONS", "Permission", "Role"]


class Role(StrEnum):
    INVESTIGATOR = "investigator"
    COORDINATOR = "coordinator"
    BLINDED_RATER = "blinded_rater"
    PHARMACIST = "pharmacist"
    STATISTICIAN = "statistician"
    MONITOR = "monitor"
    STUDY_ADMIN = "study_admin"


class Permission(StrEnum):
    VIEW_PARTICIPANTS = "view_participants"
    VIEW_SAFETY = "view_safety"  # adverse events: they can hint at the arm (BLD-9)
    SCREEN = "screen"
    SIGN_OFF_SCREENING = "sign_off_screening"
    ENROL = "enrol"
    RECORD_VISIT = "record_visit"
    ENTER_LABS = "enter_labs"
    REPORT_ADVERSE_EVENT = "report_adverse_event"
    MANAGE_KITS = "manage_kits"
    DISPENSE = "dispense"
    VIEW_ALLOCATION = "view_allocation"
    EMERGENCY_UNBLIND = "emergency_unblind"
    ORDER_DOSE_REDUCTION = "order_dose_reduction"
    LOCK_DATABASE = "lock_database"
    ANALYSE_LOCKED = "analyse_locked"
    VIEW_AUDIT = "view_audit"
    VIEW_DASHBOARD = "view_dashboard"
    MANAGE_MEMBERS = "manage_members"
    EXPORT_DATA = "export_data"  # de-identified, and blinded for a blinded role
    EXPORT_IDENTIFIED = "export_identified"  # real participant codes and dates
    RAISE_QUERY = "raise_query"  # a question about a recorded value
    ANSWER_QUERY = "answer_query"
    VERIFY_SOURCE = "verify_source"  # source data verification, form by form
    SIGN_CASEBOOK = "sign_casebook"  # the investigator's signature on a casebook
    AMEND_PROTOCOL = "amend_protocol"  # a new protocol version, with its reason


P = Permission
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.INVESTIGATOR: frozenset(
        {
            P.VIEW_PARTICIPANTS,
            P.VIEW_SAFETY,
            P.SCREEN,
            P.SIGN_OFF_SCREENING,
            P.ENROL,
            P.RECORD_VISIT,
            P.ENTER_LABS,
            P.REPORT_ADVERSE_EVENT,
            P.EMERGENCY_UNBLIND,
            P.ORDER_DOSE_REDUCTION,
            P.VIEW_DASHBOARD,
            P.EXPORT_DATA,
            P.EXPORT_IDENTIFIED,
            P.RAISE_QUERY,
            P.ANSWER_QUERY,
            P.SIGN_CASEBOOK,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
            P.VIEW_PARTICIPANTS,
            P.VIEW_SAFETY,
            P.SCREEN,
            P.ENROL,
            P.RECORD_VISIT,
            P.ENTER_LABS,
            P.REPORT_ADVERSE_EVENT,
            P.VIEW_DASHBOARD,
            P.ANSWER_QUERY,
        }
    ),
    Role.BLINDED_RATER: frozenset({P.VIEW_PARTICIPANTS, P.RECORD_VISIT, P.VIEW_DASHBOARD}),
    Role.PHARMACIST: frozenset(
        {
            P.VIEW_PARTICIPANTS,
            P.VIEW_SAFETY,
            P.MANAGE_KITS,
            P.DISPENSE,
            P.VIEW_ALLOCATION,
            P.VIEW_DASHBOARD,
        }
    ),
    Role.STATISTICIAN: frozenset({P.VIEW_DASHBOARD, P.ANALYSE_LOCKED, P.EXPORT_DATA}),
    Role.MONITOR: frozenset(
        {
            P.VIEW_PARTICIPANTS,
            P.VIEW_SAFETY,
            P.VIEW_AUDIT,
            P.VIEW_DASHBOARD,
            P.EXPORT_DATA,
            P.RAISE_QUERY,
            P.VERIFY_SOURCE,
        }
    ),
    Role.STUDY_ADMIN: frozenset(
        {
            P.VIEW_DASHBOARD,
            P.VIEW_AUDIT,
            P.LOCK_DATABASE,
            P.MANAGE_MEMBERS,
            P.AMEND_PROTOCOL,
            P.EXPORT_DATA,
            P.EXPORT_IDENTIFIED,
        }
    ),
}

BLINDED_ROLES = frozenset(
    role for role, perms in PERMISSIONS.items() if P.VIEW_ALLOCATION not in perms
)

# What writes study data: none of it is allowed once the study's database is locked (AUD-8).
DATA_ENTRY = frozenset(
    {
        P.SCREEN,
        P.SIGN_OFF_SCREENING,
        P.ENROL,
        P.RECORD_VISIT,
        P.ENTER_LABS,
        P.REPORT_ADVERSE_EVENT,
        P.MANAGE_KITS,
        P.DISPENSE,
        P.EMERGENCY_UNBLIND,
        P.ORDER_DOSE_REDUCTION,
        P.LOCK_DATABASE,
        P.RAISE_QUERY,
        P.ANSWER_QUERY,
        P.VERIFY_SOURCE,
        P.SIGN_CASEBOOK,
        P.AMEND_PROTOCOL,
    }
)
