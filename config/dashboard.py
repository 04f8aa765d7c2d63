"""The coordinators' dashboard, on the admin's index page above the app list.

Each app reads its own part through its selectors; this module only composes them (the
admin site, in ``accounts``, may not import the apps above it, so it finds this function
through the ``ADMIN_DASHBOARD`` setting). The page costs a fixed number of queries whatever
the number of requests: every list on it is grouped in SQL or cut to a fixed length.
"""

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from billing.selectors import payment_totals
from intake.lifecycle import Status
from intake.models import ReviewRequest
from intake.selectors import on_time_by_service, request_queue_counts, requests_in_review_by_due
from reviews.models import AlertKind, DeadlineAlert
from reviews.selectors import deadline_breaches_open, reviewer_workload
from scheduling.selectors import calls_today

IN_REVIEW_SHOWN = 25
BREACHES_SHOWN = 10

# What each queue asks of the coordinator.
QUEUE_HINTS = {
    Status.AWAITING_PAYMENT: "fee not paid yet",
    Status.SUBMITTED: "confirm the records",
    Status.NEEDS_INFO: "waiting on the family",
    Status.IN_REVIEW: "with the reviewers",
    Status.OPINION_READY: "to deliver",
}


def requests_list_url(**params) -> str:
    """The requests changelist filtered by its own list filters (``status__exact``)."""
    return f"{reverse('admin:intake_reviewrequest_changelist')}?{urlencode(params)}"


def _sorted_by(model, field: str) -> dict:
    """``model``'s changelist sorted by ``field``, if it lists that column. ``o`` counts the
    changelist's columns from 0, the actions' checkbox first when the admin has actions."""
    model_admin = admin.site.get_model_admin(model)
    list_display = list(model_admin.list_display)
    if field not in list_display:
        return {}
    return {"o": list_display.index(field) + bool(model_admin.actions)}


def _due_order() -> dict:
    """The requests changelist sorted by target date."""
    return _sorted_by(ReviewRequest, "due_target_at")


def breaches_list_url() -> str:
    """Every breach of a request not delivered yet, the oldest first: the deadline alerts'
    changelist, filtered."""
    params = {
        "kind__exact": AlertKind.BREACH,
        "open": "yes",
        **_sorted_by(DeadlineAlert, "threshold_at"),
    }
    return f"{reverse('admin:reviews_deadlinealert_changelist')}?{urlencode(params)}"


def dashboard_context(request) -> dict:
    now = timezone.now()
    counts = request_queue_counts()
    queues = [
        {
            "label": status.label,
            "hint": QUEUE_HINTS[status],
            "count": counts[status.value],
            "url": requests_list_url(status__exact=status.value),
        }
        for status in QUEUE_HINTS
    ]
    # What a breach's row shows, and no more: a request's and a service's other fields
    # (answers, lists of states) cost more to read than the rest of the row.
    breaches = deadline_breaches_open().only(
        "threshold_at",
        "request__reference",
        "request__status",
        "request__due_limit_at",
        "request__service__name",
        "request__service__department__time_zone",
    )
    zone = ZoneInfo(settings.TIME_ZONE)
    return {
        "now": now,
        "queues": queues,
        "in_review": requests_in_review_by_due(now=now, limit=IN_REVIEW_SHOWN),
        "in_review_count": counts[Status.IN_REVIEW.value],
        "in_review_url": requests_list_url(status__exact=Status.IN_REVIEW.value, **_due_order()),
        "breaches": list(breaches[:BREACHES_SHOWN]),
        "breach_count": breaches.count(),
        "breaches_url": breaches_list_url(),
        "workload": reviewer_workload(now=now),
        "on_time": on_time_by_service(now=now, windows=(30, 90)),
        "today": now.astimezone(zone).date(),
        "today_calls": calls_today(now=now, zone=zone),
        "payment_totals": payment_totals(),
    }
