"""App configuration of data quality: queries, source verification, casebook signatures."""

from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "ldntrial.web.quality"
    label = "quality"
    verbose_name = "Data quality"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """A failed check across forms (trial.visits.check_failed) becomes a query."""
        from ldntrial.web.quality.queries import raise_query_for_failed_check
        from ldntrial.web.trial.visits import check_failed

        check_failed.connect(raise_query_for_failed_check, dispatch_uid="quality.failed_check")
