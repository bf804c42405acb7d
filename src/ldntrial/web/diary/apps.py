"""App configuration of the daily diary."""

from django.apps import AppConfig


class DiaryConfig(AppConfig):
    name = "ldntrial.web.diary"
    label = "diary"
    verbose_name = "Daily diary"
    default_auto_field = "django.db.models.BigAutoField"
