"""App configuration of data quality: queries, source verification, casebook signatures."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "ldntrial.web.quality"
    label = "quality"
    verbose_name = "Data quality"
    default_auto_field = "django.db.models.BigAutoField"
