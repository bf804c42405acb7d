"""App configuration of the audit trail."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ldntrial.web.audit"
    label = "audit"
    verbose_name = "Audit trail"
    default_auto_field = "django.db.models.BigAutoField"
