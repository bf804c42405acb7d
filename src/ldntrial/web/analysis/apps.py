"""App configuration of the database lock and the analysis of the locked data."""

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "ldntrial.web.analysis"
    label = "analysis"
    verbose_name = "Database lock and analysis"
    default_auto_field = "django.db.models.BigAutoField"
