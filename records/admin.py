from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Role
from config.admin_counts import LargeTableAdmin
from config.readonly_admin import ReadOnlyAdmin
from intake.admin import ReviewRequestAdmin
from records.models import AccessLog, Document


class DocumentInline(admin.TabularInline):
    """A request's files, opened through the portal's file view (logged, checksum-checked),
    never through a storage address."""

    model = Document
    fields = ("file", "kind", "file_type", "size", "sent_by", "uploaded_at", "state")
    readonly_fields = fields
    ordering = ("uploaded_at",)
    extra = 0
    can_delete = False

    @admin.display(description="File")
    def file(self, document):
        url = reverse("records:document_file", args=[document.pk])
        return format_html('<a href="{}">{}</a>', url, document.original_name)

    @admin.display(description="Sent by")
    def sent_by(self, document):
        if document.from_pediatrician:
            return f"the pediatrician ({document.upload_link.email}), by upload link"
        return document.uploaded_by or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by", "upload_link")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# The request page is intake's; its files are records'. Records adds its inline here, since
# intake may not import records.
ReviewRequestAdmin.inlines = (*ReviewRequestAdmin.inlines, DocumentInline)


class RoleFilter(admin.SimpleListFilter):
    """The roles there are, not those found in the log (which would read all of it)."""

    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        return queryset.filter(role=self.value()) if self.value() else queryset


@admin.register(AccessLog)
class AccessLogAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """Who read or changed which file, when and from where. Append-only: read-only here."""

    list_display = ("at", "user", "role", "request", "action", "outcome", "ip_address")
    list_filter = ("action", "outcome", RoleFilter, "at")
    list_select_related = ("user", "request")
    search_fields = ("=request__reference", "=document_id", "user__email")
