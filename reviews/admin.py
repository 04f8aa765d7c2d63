from django.contrib import admin

from config.readonly_admin import ReadOnlyAdmin
from reviews.models import ReviewAssignment


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("request", "reviewer", "is_lead", "assigned_at", "removed_at")
    list_filter = ("is_lead",)
    list_select_related = ("request", "reviewer")
    search_fields = ("=request__reference", "reviewer__email")
