"""An admin for records nobody edits by hand (logs, events, the outbox): they can be read,
never added, changed or deleted there. In config so that every app may use it."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
