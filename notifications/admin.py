from django.contrib import admin

from config.readonly_admin import ReadOnlyAdmin
from notifications.models import Message


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """The outbox, read-only: staff can see what was sent and what is failing. Bodies are not
    shown: they hold sign-in links (verification, password reset) meant for one person."""

    list_display = ("created_at", "template", "language", "to", "status", "attempts", "sent_at")
    list_filter = ("status", "template")
    search_fields = ("to",)
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "to",
        "subject",
        "template",
        "language",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
