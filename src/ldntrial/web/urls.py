"""URL routes of the staff site."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ldntrial.web.accounts import invitation as invitation_views
from ldntrial.web.accounts import views as account_views
from ldntrial.web.diary import views as diary_views
from ldntrial.web.participant_api import api as participant_api

urlpatterns = [
    path("accounts/login/", account_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/second-factor/",
        account_views.second_factor_setup,
        name="second_factor_setup",
    ),
    path(
        "accounts/second-factor/code/",
        account_views.second_factor_verify,
        name="second_factor_verify",
    ),
    path(
        "accounts/invitations/<str:secret>/",
        invitation_views.invitation,
        name="invitation",
    ),
    path("admin/", admin.site.urls),
    path("api/v1/", participant_api.urls),
    path("diary/", diary_views.diary_page, name="diary"),
    path("diary/sw.js", diary_views.service_worker, name="diary_service_worker"),
    path("", include("ldntrial.web.staff.urls")),
]
