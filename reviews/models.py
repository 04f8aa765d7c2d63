from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ReviewAssignment(models.Model):
    """A reviewer on a request's panel. Removing someone keeps the row (who read the file and
    when) and ends their access at once: selectors look only at rows with no ``removed_at``."""

    request = models.ForeignKey(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="assignments"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    is_lead = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "reviewer"],
                condition=Q(removed_at__isnull=True),
                name="assignment_one_active_per_reviewer",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(is_lead=True, removed_at__isnull=True),
                name="assignment_one_active_lead",
            ),
        ]

    def __str__(self):
        return f"{self.reviewer} on {self.request}"
