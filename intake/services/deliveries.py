"""The daily delivery figures (``DeliveryDay``) behind the dashboard's on-time shares and
median days: added to by the lifecycle service when an opinion is delivered, in the same
transaction, and computed again from the requests when needed."""

from collections import Counter
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from intake.clock import DayCount, days_left
from intake.models import DeliveryDay, ReviewRequest


def delivery_facts(request: ReviewRequest) -> tuple[bool, bool, int]:
    """Whether ``request`` (delivered, its service and department loaded) was delivered by
    its target and by its limit, "by" meaning on or before the due date's day on the
    department's calendar (never shown overdue: ``intake.clock``), and the seconds it took
    from submission (time waiting on the family included)."""
    count = DayCount(request.service.department.time_zone)
    return (
        days_left(request.due_target_at, request.delivered_at, count) >= 0,
        days_left(request.due_limit_at, request.delivered_at, count) >= 0,
        int((request.delivered_at - request.submitted_at).total_seconds()),
    )


def _day_of(request: ReviewRequest):
    return request.delivered_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def delivery_day_add(*, request: ReviewRequest) -> None:
    """Count ``request``, just delivered, in its day's figures. In the caller's transaction;
    the day's row is locked, so two deliveries at once both count."""
    if request.submitted_at is None or request.delivered_at is None:
        return
    by_target, by_limit, seconds = delivery_facts(request)
    day = _day_of(request)
    with transaction.atomic():
        DeliveryDay.objects.bulk_create(
            [DeliveryDay(date=day, service_id=request.service_id)], ignore_conflicts=True
        )
        row = DeliveryDay.objects.select_for_update().get(date=day, service_id=request.service_id)
        row.delivered += 1
        row.within_target += by_target
        row.within_limit += by_limit
        row.seconds_taken[str(seconds)] = row.seconds_taken.get(str(seconds), 0) + 1
        row.save(update_fields=["delivered", "within_target", "within_limit", "seconds_taken"])


def delivery_days_rebuild() -> int:
    """Every day's figures computed again from the delivered requests (after a bulk load,
    or to mend the table: ``manage.py rebuild_delivery_days``). Returns the days written."""
    days: dict[tuple, list] = {}
    delivered = ReviewRequest.objects.filter(
        delivered_at__isnull=False, submitted_at__isnull=False
    ).select_related("service__department")
    for request in delivered.iterator(chunk_size=2000):
        by_target, by_limit, seconds = delivery_facts(request)
        line = days.setdefault((_day_of(request), request.service_id), [0, 0, 0, Counter()])
        line[0] += 1
        line[1] += by_target
        line[2] += by_limit
        line[3][str(seconds)] += 1
    with transaction.atomic():
        DeliveryDay.objects.all().delete()
        DeliveryDay.objects.bulk_create(
            DeliveryDay(
                date=day,
                service_id=service_id,
                delivered=n,
                within_target=target,
                within_limit=limit,
                seconds_taken=dict(taken),
            )
            for (day, service_id), (n, target, limit, taken) in days.items()
        )
    return len(days)
