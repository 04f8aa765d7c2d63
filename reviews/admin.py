from django.contrib import admin

from reviews.models import ReviewAssignment


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(admin.ModelAdmin):
    list_display = ("request", "reviewer", "is_lead", "assigned_at", "removed_at")
    list_filter = ("is_lead",)
    list_select_related = ("request", "reviewer")
    search_fields = ("=request__reference", "reviewer__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
