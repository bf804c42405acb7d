"""Screenings, the concealed allocation list, kits and enrolled participants.

Blinding (standards.md BLD-1, BLD-9): the allocation (a slot's sequence), a
kit's contents and lot, and the list's seed are stored only here, in fields
named ``concealed_*``, masked in the audit trail. Only :mod:`.concealed`
reads or writes them (a source test holds it), so a reader of this module
that is not that one cannot reach an arm by accident. Their columns keep
their plain names (``sequence``, ``condition``, ...), which the audit trail's
entries use. A site sees a participant's randomisation number and kit codes,
which carry no information about the arm.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models

from ldntrial import vocab
from ldntrial.protocol.eligibility import Outcome
from ldntrial.protocol.schedule import site_visit_plan
from ldntrial.vocab import WITHDRAWAL_REASON_LABELS
from ldntrial.web.studies.models import Site, Study, StudyData


class Screening(StudyData):
    """One person's screening visit: her answers, the decision and its reasons."""

    class Review(models.TextChoices):
        NONE = "", "not needed or not yet"
        APPROVED = "approved"
        REJECTED = "rejected"

    class NotEnrolled(models.TextChoices):
        """Why someone who could have been enrolled was not (CONSORT: excluded, with reasons)."""

        DECLINED = "declined", "she declined to take part"
        OTHER = "other", "another reason"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="screenings")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="screenings")
    number = models.PositiveIntegerField(help_text="Screening number within the study")
    answers = models.JSONField(help_text="The ScreeningAnswers, as entered")
    outcome = models.CharField(max_length=20, choices=[(o.value, o.value) for o in Outcome])
    reasons = models.JSONField(help_text="Every rule applied: rule, outcome, message, source")
    consent_on = models.DateField(
        null=True, blank=True, help_text="Date written consent was given"
    )
    review = models.CharField(max_length=10, choices=Review.choices, blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    not_enrolled_reason = models.CharField(
        max_length=10, choices=NotEnrolled.choices, blank=True, default=""
    )
    not_enrolled_detail = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="screening_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study.code} screening {self.number}"

    @property
    def may_enrol(self) -> bool:
        """Eligible, or sent for review and approved by an investigator."""
        return self.outcome == Outcome.ELIGIBLE or (
            self.outcome == Outcome.NEEDS_REVIEW and self.review == self.Review.APPROVED
        )


class AllocationListVersion(StudyData):
    """How one version of the allocation list was made (BLD-4); the seed is concealed (BLD-3)."""

    audit_concealed = frozenset({"concealed_seed"})

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocation_lists")
    version = models.PositiveIntegerField()
    method = models.CharField(max_length=30)
    concealed_seed = models.CharField(
        max_length=80, db_column="seed", help_text="Kept for the pharmacy and the audit"
    )
    per_stratum = models.PositiveIntegerField()
    strata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "version"], name="allocation_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study.code} allocation list v{self.version}"


class AllocationSlot(StudyData):
    """One row of the concealed allocation list: a randomisation number and its sequence."""

    audit_concealed = frozenset({"concealed_sequence"})

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="allocation_slots")
    list_version = models.PositiveIntegerField()
    randomisation_number = models.CharField(max_length=20)
    stratum = models.CharField(max_length=200)
    position = models.PositiveIntegerField()
    concealed_sequence = models.CharField(max_length=100, db_column="sequence")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "randomisation_number"], name="randomisation_number_unique"
            )
        ]
        indexes = [models.Index(fields=["study", "stratum", "position"])]

    def __str__(self) -> str:
        return f"{self.study.code} {self.randomisation_number}"


class Kit(StudyData):
    """A bottle of capsules or liquid with a code that reveals nothing.

    Its contents are concealed, and so are its lot and the lot's beyond-use
    date: a placebo compounded in another batch would tell its arm by them
    (they are on the pharmacy's list only; see :mod:`ldntrial.protocol.kit_label`).
    """

    audit_concealed = frozenset(
        {
            "concealed_condition",
            "concealed_dose_mg",
            "concealed_mg_per_ml",
            "concealed_lot",
            "concealed_beyond_use_on",
        }
    )

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="kits")
    slot = models.ForeignKey(AllocationSlot, on_delete=models.PROTECT, related_name="kits")
    code = models.CharField(max_length=12)
    kit_number = models.PositiveIntegerField(help_text="1 for the first bottle of the slot")
    concealed_condition = models.CharField(max_length=100, db_column="condition")
    concealed_dose_mg = models.FloatField(null=True, blank=True, db_column="dose_mg")
    concealed_mg_per_ml = models.FloatField(
        null=True,
        blank=True,
        db_column="mg_per_ml",
        help_text="A liquid's concentration (placebo 0); none for capsules",
    )
    first_day = models.PositiveIntegerField()
    last_day = models.PositiveIntegerField()
    capsules = models.PositiveIntegerField(help_text="Capsules, or mL of a liquid")
    concealed_lot = models.CharField(
        max_length=40, blank=True, db_column="lot", help_text="The pharmacy's lot number"
    )
    concealed_beyond_use_on = models.DateField(
        null=True,
        blank=True,
        db_column="beyond_use_on",
        help_text="The lot's beyond-use date (from its compounding)",
    )
    dispense_visit = models.PositiveIntegerField()
    dispensed_on = models.DateField(null=True, blank=True)
    reduced = models.BooleanField(
        default=False, help_text="Labelled 'reduced dose' (placebo kits too, to stay blind)"
    )
    returned_on = models.DateField(null=True, blank=True)
    returned_capsules = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["study", "code"], name="kit_code_unique")]

    @property
    def status(self) -> str:
        """prepared, dispensed or returned (drug accountability, standards.md BLD-10)."""
        if self.returned_on:
            return "returned"
        return "dispensed" if self.dispensed_on else "prepared"

    def __str__(self) -> str:
        return self.code


class Participant(StudyData):
    """An enrolled participant: pseudonymous code, site, randomisation number, status."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        COMPLETED = "completed"
        WITHDRAWN = "withdrawn"

    # Why she left early: the core's CONSORT categories (the TrialData vocabulary).
    # django-stubs types the functional API with plain values only, not (value, label).
    WithdrawalReason = models.TextChoices(  # type: ignore[call-overload]
        "WithdrawalReason",
        [(r.name, (r.value, WITHDRAWAL_REASON_LABELS[r])) for r in vocab.WithdrawalReason],
    )

    class AfterWithdrawal(models.TextChoices):
        """What she agreed may still be collected after she left (EU CTR Art. 28(3))."""

        NOTHING = "nothing", "nothing more"
        SAFETY = "safety", "safety follow-up only (adverse events)"
        VISITS = "visits", "visits, labs and adverse events (no capsules, no diary)"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="participants")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    code = models.CharField(max_length=20)
    screening = models.OneToOneField(Screening, on_delete=models.PROTECT)
    slot = models.OneToOneField(AllocationSlot, on_delete=models.PROTECT)
    randomisation_number = models.CharField(max_length=20)
    enrolled_on = models.DateField()
    timezone = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    withdrawn_on = models.DateField(
        null=True, blank=True, help_text="Her last day in the study, if she withdrew"
    )
    withdrawal_reason = models.CharField(
        max_length=24, choices=WithdrawalReason.choices, blank=True, default=""
    )
    withdrawal_detail = models.TextField(
        blank=True, default="", help_text="Her words, or the investigator's, about why she left"
    )
    after_withdrawal = models.CharField(
        max_length=8,
        choices=AfterWithdrawal.choices,
        blank=True,
        default="",
        help_text="What may still be collected after she withdrew",
    )
    completed_on = models.DateField(
        null=True, blank=True, help_text="The day she completed the study as planned"
    )
    protocol_version = models.PositiveIntegerField(
        default=1, help_text="The protocol version in force when she was enrolled"
    )
    language = models.CharField(
        max_length=5,
        choices=[("en", "English"), ("es", "Español")],
        default="en",
        help_text="The language of her diary and reminders",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="participant_code_unique")
        ]

    def __str__(self) -> str:
        return self.code

    def visit_calendar(self) -> list[dict]:
        """Her visits with dates and windows, as blinded staff may see them (no phase names)."""
        protocol = self.study.protocol
        return calendar_from(self.enrolled_on, protocol, site_visit_plan(protocol))


def calendar_from(enrolled_on, protocol, site_plan: list[dict]) -> list[dict]:
    """Dated visits of ``site_plan`` for someone enrolled on ``enrolled_on``, with windows."""
    window = protocol.visits.window_days if protocol.visits else 0
    labels = {m.id: m.label for m in (protocol.visits.measures if protocol.visits else [])}
    return [
        {
            "visit": visit["visit"],
            "date": enrolled_on + timedelta(days=visit["study_day"] - 1),
            "earliest": enrolled_on + timedelta(days=max(1, visit["study_day"] - window) - 1),
            "latest": enrolled_on + timedelta(days=visit["study_day"] + window - 1),
            "measures": [labels[m] for m in visit["measures"]],
            "kits": len(visit["dispenses"]),
        }
        for visit in site_plan
    ]


class Unblinding(StudyData):
    """One emergency code break (BLD-5 to BLD-8): who, when, which participant, why.

    The record never holds the arm; it was shown once to the investigator who
    asked. It stands as the protocol deviation to assess (BLD-8).
    """

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="unblindings"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    at = models.DateTimeField()
    reason = models.TextField()
    told_to = models.CharField(
        max_length=200, blank=True, help_text="A third party who received the allocation, if any"
    )

    def __str__(self) -> str:
        return f"{self.participant.code} unblinded {self.at:%Y-%m-%d %H:%M}"


class AdverseEvent(StudyData):
    """An adverse event as the site records it (the TrialData adverse_events vocabulary).

    Phase and condition are not stored: they follow from her calendar and are
    added, unblinded, only when the locked data are analysed.
    """

    study_via = "participant"

    class Severity(models.TextChoices):
        MILD = "mild"
        MODERATE = "moderate"
        SEVERE = "severe"

    class Relatedness(models.TextChoices):
        NOT_RELATED = "not_related", "not related"
        UNLIKELY = "unlikely"
        POSSIBLE = "possible"
        PROBABLE = "probable"
        DEFINITE = "definite"

    class Outcome(models.TextChoices):
        RECOVERING = "recovering"
        RECOVERED = "recovered"
        NOT_RECOVERED = "not_recovered", "not recovered"
        FATAL = "fatal"
        UNKNOWN = "unknown"

    class ActionTaken(models.TextChoices):
        """What was done with the study capsules (CDISC SDTM AEACN)."""

        DOSE_NOT_CHANGED = "dose_not_changed", "dose not changed"
        DOSE_REDUCED = "dose_reduced", "dose reduced"
        DRUG_INTERRUPTED = "drug_interrupted", "capsules interrupted"
        DRUG_WITHDRAWN = "drug_withdrawn", "capsules stopped for good"
        NOT_APPLICABLE = "not_applicable", "not applicable (no capsules then)"
        UNKNOWN = "unknown"

    ENDED = frozenset({Outcome.RECOVERED, Outcome.FATAL})
    """Outcomes that close an event; it then has the date it ended."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="adverse_events"
    )
    term = models.CharField(max_length=200)
    onset = models.DateField()
    severity = models.CharField(max_length=10, choices=Severity.choices)
    serious = models.BooleanField(
        help_text="Death, life-threatening, hospitalisation, disability or medically important"
    )
    related = models.CharField(max_length=12, choices=Relatedness.choices)
    outcome = models.CharField(max_length=14, choices=Outcome.choices)
    resolved_on = models.DateField(
        null=True, blank=True, help_text="The day she recovered (or died), once the event ended"
    )
    action_taken = models.CharField(
        max_length=16,
        choices=ActionTaken.choices,
        default=ActionTaken.UNKNOWN,
        verbose_name="action taken with the capsules",
    )
    alerted = models.JSONField(
        default=list, blank=True, help_text="Who the serious-event alert was sent to"
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.participant.code}: {self.term} ({self.onset:%Y-%m-%d})"


class Visit(StudyData):
    """One lab visit as recorded: the date it happened and each measure's value."""

    study_via = "participant"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="visits")
    number = models.PositiveIntegerField()
    held_on = models.DateField()
    out_of_window = models.BooleanField(default=False)
    values = models.JSONField(default=dict, help_text="{measure id: value}")
    not_done = models.JSONField(
        default=dict, blank=True, help_text="{measure id: why it was not done}"
    )
    medications = models.JSONField(default=list, help_text="Concomitant medications as entered")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["participant", "number"], name="visit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.participant.code} visit {self.number}"


class ProtocolDeviation(StudyData):
    """A departure from the protocol, raised by the system or staff, for review."""

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="deviations"
    )
    kind = models.CharField(max_length=40)
    description = models.TextField()
    raised_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.participant.code}: {self.kind}"


class DoseReduction(StudyData):
    """A blind order to reduce a participant's dose, and when the pharmacy applied it.

    The investigator orders without knowing the arm; the pharmacist applies it
    to her undispensed kits: LDN kits get the protocol's reduced dose, placebo
    kits the same "reduced dose" label and nothing else, so the order and its
    effect look the same in both arms.
    """

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="dose_reductions"
    )
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField()
    reason = models.TextField()
    applied_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.participant.code} dose reduction ({self.ordered_at:%Y-%m-%d})"


class LabResult(StudyData):
    """One analyte of one blood sample (the TrialData labs vocabulary: panel, analyte, unit)."""

    study_via = "participant"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="lab_results"
    )
    sampled_on = models.DateField()
    panel = models.CharField(max_length=40)
    analyte = models.CharField(max_length=40)
    value = models.FloatField()
    unit = models.CharField(max_length=20)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "sampled_on", "panel", "analyte"], name="lab_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant.code} {self.analyte} {self.sampled_on:%Y-%m-%d}"
