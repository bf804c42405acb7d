"""App configuration of staff accounts (the second factor)."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ldntrial.web.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
