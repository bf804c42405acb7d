"""URLs of the staff pages."""

from django.urls import path

from ldntrial.web.staff.views import (
    access_review,
    adverse_events,
    analysis,
    audit,
    dashboard,
    deviation,
    evidence,
    export,
    lab_result,
    labs,
    nof1,
    participant_status,
    participants,
    pharmacy,
    protocol,
    quality,
    records,
    screening,
    setup,
)

app_name = "staff"

urlpatterns = [
    path("", dashboard.studies, name="studies"),
    path("evidence/", evidence.evidence, name="evidence"),
    path("evidence.json", evidence.evidence_json, name="evidence_json"),
    path("nof1/new/", nof1.nof1_start, name="nof1_start"),
    path("studies/new/", setup.study_new, name="study_new"),
    path("studies/<slug:code>/", dashboard.dashboard, name="dashboard"),
    path("studies/<slug:code>/nof1/", nof1.nof1_trial, name="nof1"),
    path("studies/<slug:code>/nof1/report/", nof1.nof1_report, name="nof1_report"),
    path(
        "studies/<slug:code>/nof1/report/preview/",
        nof1.nof1_report_preview,
        name="nof1_report_preview",
    ),
    path("studies/<slug:code>/screen/", screening.screen, name="screen"),
    path("studies/<slug:code>/records/", records.records, name="records"),
    path("studies/<slug:code>/protocol/", protocol.protocol, name="protocol"),
    path(
        "studies/<slug:code>/protocol/v<int:number>.toml",
        protocol.protocol_version,
        name="protocol_version",
    ),
    path("studies/<slug:code>/audit/", audit.audit_list, name="audit"),
    path("studies/<slug:code>/pharmacy/", pharmacy.pharmacy, name="pharmacy"),
    path(
        "studies/<slug:code>/pharmacy/labels/<str:participant>/<int:number>/",
        pharmacy.kit_labels,
        name="kit_labels",
    ),
    path(
        "studies/<slug:code>/access-review/",
        access_review.access_review,
        name="access_review",
    ),
    path("studies/<slug:code>/audit.csv", audit.audit_csv, name="audit_csv"),
    path("studies/<slug:code>/labs/import/", labs.lab_import, name="lab_import"),
    path("studies/<slug:code>/export/", export.export, name="export"),
    path("studies/<slug:code>/lock/", analysis.lock, name="lock"),
    path("studies/<slug:code>/analysis/", analysis.analysis, name="analysis"),
    path("studies/<slug:code>/analysis/report/", analysis.analysis_report, name="report"),
    path(
        "studies/<slug:code>/analysis/<str:what>",
        analysis.analysis_download,
        name="analysis_download",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/",
        screening.screening_detail,
        name="screening",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/enrol/",
        screening.screening_enrol,
        name="enrol",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/not-enrolled/",
        screening.screening_not_enrolled,
        name="not_enrolled",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/sign-off/",
        screening.screening_sign_off,
        name="sign_off",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/",
        participants.participant_detail,
        name="participant",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/unblind/",
        participants.participant_unblind,
        name="unblind",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/code-breaks/<int:number>/",
        participants.participant_code_break,
        name="code_break",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/adverse-events/",
        participants.participant_adverse_event,
        name="adverse_event",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/adverse-events/<int:number>/",
        adverse_events.adverse_event,
        name="adverse_event_detail",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/dose-reduction/",
        participants.participant_dose_reduction,
        name="dose_reduction",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/diary-link/",
        participants.participant_diary_link,
        name="diary_link",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/diary-settings/",
        participants.participant_diary_settings,
        name="diary_settings",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/revoke-devices/",
        participants.participant_revoke_devices,
        name="revoke_devices",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/withdraw/",
        participant_status.participant_withdraw,
        name="withdraw",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/complete/",
        participant_status.participant_complete,
        name="complete",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/queries/",
        quality.query_raise,
        name="query_raise",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/queries/<int:number>/",
        quality.query_step,
        name="query_step",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/verify/",
        quality.verify,
        name="verify",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/sign/",
        quality.sign,
        name="sign",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/labs/<int:number>/",
        lab_result.lab_result,
        name="lab_result",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/deviations/<int:number>/",
        deviation.deviation,
        name="deviation",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/esr/",
        participants.participant_esr,
        name="esr",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/liver-test/",
        participants.participant_liver_test,
        name="liver_test",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/visits/<int:number>/",
        participants.visit_record,
        name="visit",
    ),
]
