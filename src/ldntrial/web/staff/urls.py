"""URLs of the staff pages."""

from django.urls import path

from ldntrial.web.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.studies, name="studies"),
    path("studies/<slug:code>/", views.dashboard, name="dashboard"),
    path("studies/<slug:code>/screen/", views.screen, name="screen"),
    path("studies/<slug:code>/audit/", views.audit_list, name="audit"),
    path("studies/<slug:code>/pharmacy/", views.pharmacy, name="pharmacy"),
    path("studies/<slug:code>/audit.csv", views.audit_csv, name="audit_csv"),
    path(
        "studies/<slug:code>/screenings/<int:number>/",
        views.screening_detail,
        name="screening",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/enrol/",
        views.screening_enrol,
        name="enrol",
    ),
    path(
        "studies/<slug:code>/screenings/<int:number>/sign-off/",
        views.screening_sign_off,
        name="sign_off",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/",
        views.participant_detail,
        name="participant",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/unblind/",
        views.participant_unblind,
        name="unblind",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/adverse-events/",
        views.participant_adverse_event,
        name="adverse_event",
    ),
    path(
        "studies/<slug:code>/participants/<str:participant>/visits/<int:number>/",
        views.visit_record,
        name="visit",
    ),
]
