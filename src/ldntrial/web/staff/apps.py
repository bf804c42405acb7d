"""App configuration of the staff pages."""

from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "ldntrial.web.staff"
    label = "staff"
    verbose_name = "Staff pages"
