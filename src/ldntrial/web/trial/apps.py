"""App configuration of screening, allocation, kits and participants."""

from django.apps import AppConfig


class TrialConfig(AppConfig):
    name = "ldntrial.web.trial"
    label = "trial"
    verbose_name = "Screening, allocation and participants"
    default_auto_field = "django.db.models.BigAutoField"
