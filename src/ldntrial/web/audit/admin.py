"""The audit trail in the admin: readable, never editable."""

from django.contrib import admin

from ldntrial.web.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("id", "at", "actor", "action", "record")
    list_filter = ("action",)
    search_fields = ("actor", "record", "reason")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
