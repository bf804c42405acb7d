"""App configuration of studies, sites and memberships."""

from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "ldntrial.web.studies"
    label = "studies"
    verbose_name = "Studies and sites"
    default_auto_field = "django.db.models.BigAutoField"
