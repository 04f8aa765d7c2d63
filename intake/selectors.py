"""Every read of the catalogue and of review requests. Requests are reached only through
``review_requests_for_user``: someone else's request is indistinguishable from a missing one."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from intake.models import (
    ConsentText,
    Department,
    Questionnaire,
    RequestEvent,
    ReviewRequest,
    ReviewService,
)


def catalogue_departments() -> QuerySet[Department]:
    """Active departments, each with its active review services, in two queries."""
    services = ReviewService.objects.filter(active=True).order_by("name")
    return (
        Department.objects.filter(active=True)
        .prefetch_related(Prefetch("services", queryset=services, to_attr="active_services"))
        .order_by("name")
    )


def questionnaire_current(*, service: ReviewService) -> Questionnaire | None:
    """The published version new requests answer (the highest published version)."""
    return (
        service.questionnaires.filter(published_at__isnull=False)
        .order_by("-version")
        .prefetch_related("questions")
        .first()
    )


def consent_text_current() -> ConsentText | None:
    return ConsentText.objects.filter(published_at__isnull=False).order_by("-version").first()


def review_requests_for_user(*, user: User) -> QuerySet[ReviewRequest]:
    """The requests ``user`` may see: a family its own, a reviewer those assigned to them now,
    coordinators and admins all of them, anyone else none."""
    requests = ReviewRequest.objects.select_related("service__department")
    if not (user.is_authenticated and user.is_active):
        return requests.none()
    if user.sees_all_requests:
        return requests
    if user.is_reviewer:
        # One active assignment per reviewer and request (a database rule): no duplicates.
        return requests.filter(assignments__reviewer=user, assignments__removed_at__isnull=True)
    if user.is_family:
        return requests.filter(family=user)
    return requests.none()


def review_request_get_for_user(*, user: User, reference: str) -> ReviewRequest:
    try:
        return review_requests_for_user(user=user).get(reference=reference)
    except ReviewRequest.DoesNotExist:
        raise Http404 from None


def request_timeline(*, review_request: ReviewRequest) -> QuerySet[RequestEvent]:
    return review_request.events.order_by("created_at", "pk")
