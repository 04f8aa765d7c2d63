"""Panels: who reviews which request. (Assignment rules, opinions and deadlines build on this.)"""

from django.utils import timezone

from accounts.models import User
from intake.models import ReviewRequest
from reviews.models import ReviewAssignment


class NotAReviewer(ValueError):
    pass


def review_assignment_add(
    *, review_request: ReviewRequest, reviewer: User, is_lead: bool = False
) -> ReviewAssignment:
    """Put ``reviewer`` on the request's panel; they see the request from their next page."""
    if not (reviewer.is_reviewer and reviewer.is_active):
        raise NotAReviewer(f"{reviewer} is not an active reviewer.")
    return ReviewAssignment.objects.create(
        request=review_request, reviewer=reviewer, is_lead=is_lead
    )


def review_assignment_remove(*, assignment: ReviewAssignment) -> None:
    """Take a reviewer off a panel; their very next request no longer reaches the case."""
    ReviewAssignment.objects.filter(pk=assignment.pk, removed_at__isnull=True).update(
        removed_at=timezone.now()
    )
