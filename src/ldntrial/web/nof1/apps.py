"""App configuration of N-of-1 trials in the clinic."""

from django.apps import AppConfig


class Nof1Config(AppConfig):
    name = "ldntrial.web.nof1"
    label = "nof1"
    verbose_name = "N-of-1 trials in the clinic"
    default_auto_field = "django.db.models.BigAutoField"
