"""Many requests at once, for the dashboard's query-count test and its benchmark
(bench/dashboard.py): rows written with ``bulk_create``, each field set as the lifecycle
would have set it, in the mix of a busy service with a long history (most requests delivered
over the last three years, some in every open queue, a few late). Fast enough for 100,000
requests; never used for behaviour tests, which go through the services.

The page benchmark (bench/pages.py) and the page query-count tests ask for more of what
grows with the requests: a family for every few requests (``family_every``), one request in
twenty started by a coordinator on the phone (``started_by``), the access log of each
request a reviewer and a family opened (``access_log``), and informational calls over the
same three years (``calls_history_bulk``)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.models import Role, User
from billing.models import Payment, PaymentMethod, PaymentStatus
from intake.lifecycle import Status
from intake.models import Department, ReviewRequest, ReviewService
from records.models import AccessLog
from reviews.models import AlertKind, DeadlineAlert, ReviewAssignment
from scheduling.models import Booking

# Of every hundred requests: one in each open status but two in review, one draft, one
# cancelled, one refunded, ninety-one delivered.
STATUS_CYCLE = (
    Status.DRAFT,
    Status.AWAITING_PAYMENT,
    Status.SUBMITTED,
    Status.NEEDS_INFO,
    Status.IN_REVIEW,
    Status.IN_REVIEW,
    Status.OPINION_READY,
    Status.CANCELLED,
    Status.REFUNDED,
    *[Status.DELIVERED] * 91,
)
HISTORY_HOURS = 3 * 365 * 24
PANEL_STATUSES = {Status.IN_REVIEW, Status.OPINION_READY, Status.DELIVERED}
BATCH = 2000


def _spread(i: int, size: int, salt: int = 0) -> int:
    """A number in [0, size) that looks random but is the same on every run."""
    return ((i + salt) * 2654435761 >> 8) % size


def _request(
    i: int, now: datetime, family: User, service: ReviewService, started_by: User | None = None
) -> ReviewRequest:
    status = STATUS_CYCLE[i % len(STATUS_CYCLE)]
    request = ReviewRequest(
        reference=f"BK{i:010d}",
        service=service,
        family=family,
        status=status,
        created_at=now,
        created_by=started_by,
    )
    if status == Status.DRAFT:
        request.created_at = now - timedelta(hours=_spread(i, 500))
        return request
    if status in {Status.AWAITING_PAYMENT, Status.CANCELLED}:
        request.awaiting_payment_at = now - timedelta(hours=_spread(i, 500))
        if status == Status.CANCELLED:
            request.cancelled_at = request.awaiting_payment_at + timedelta(hours=1)
    elif status in {Status.DELIVERED, Status.REFUNDED}:
        # Over the last three years, long enough ago that the opinion (2 to 13 days later)
        # is delivered by now.
        request.submitted_at = now - timedelta(days=13, hours=_spread(i, HISTORY_HOURS))
    else:
        # Submitted in the last 12 days: some in review are past their target, a few past
        # their limit.
        request.submitted_at = now - timedelta(hours=_spread(i, 12 * 24))
    if request.submitted_at:
        request.awaiting_payment_at = request.submitted_at - timedelta(minutes=30)
        request.due_target_at = request.submitted_at + timedelta(days=service.target_days)
        request.due_limit_at = request.submitted_at + timedelta(days=service.limit_days)
        _stamp_milestones(request, i)
    request.created_at = request.awaiting_payment_at - timedelta(hours=2)
    request.fee_cents, request.currency = service.fee_cents, service.currency
    return request


def _stamp_milestones(request: ReviewRequest, i: int) -> None:
    status, submitted_at = request.status, request.submitted_at
    if status == Status.NEEDS_INFO:
        request.needs_info_at = submitted_at + timedelta(hours=1)
    if status in PANEL_STATUSES:
        request.in_review_at = submitted_at + timedelta(hours=1)
    if status == Status.DELIVERED:
        # Two to ten days; one in ten three days later than that.
        late = 72 * (_spread(i, 10, salt=1) == 0)
        request.delivered_at = submitted_at + timedelta(hours=48 + _spread(i, 8 * 24) + late)
        request.opinion_ready_at = request.delivered_at - timedelta(hours=1)
    if status == Status.OPINION_READY:
        request.opinion_ready_at = submitted_at + timedelta(hours=2)
    if status == Status.REFUNDED:
        request.refunded_at = submitted_at + timedelta(days=2)


def requests_bulk(
    *,
    count: int,
    now: datetime,
    family: User,
    services: list[ReviewService],
    reviewers: list[User],
    start: int = 0,
    family_every: int = 0,
    started_by: User | None = None,
    access_log: bool = False,
) -> None:
    """``count`` requests numbered from ``start``; with them, the payment of each paid one,
    a reviewer (lead) on each that reached review, a breach alert on each that passed its
    limit (open while in review, closed once delivered), and the daily payment totals and
    delivery figures (computed again from all the requests).

    ``family_every``: a new family (``family<n>@example.org``) for every that many requests
    instead of ``family`` for all; ``started_by``: the coordinator who started one request in
    twenty by phone; ``access_log``: a reviewer's and a family's view of each request that
    reached review."""
    from billing.services.totals import payment_days_rebuild
    from intake.services.deliveries import delivery_days_rebuild

    for first in range(start, start + count, BATCH):
        numbers = range(first, min(first + BATCH, start + count))
        families = _families_bulk(numbers, family_every) if family_every else {}
        requests = ReviewRequest.objects.bulk_create(
            _request(
                i,
                now,
                families.get(i // family_every, family) if families else family,
                services[i % len(services)],
                started_by if started_by is not None and i % 20 == 0 else None,
            )
            for i in numbers
        )
        _related_bulk(requests, now, reviewers, access_log=access_log)
    # What the services keep as they go: the daily payment totals and delivery figures.
    payment_days_rebuild()
    delivery_days_rebuild()


def _families_bulk(numbers: range, every: int) -> dict[int, User]:
    """The families of the requests ``numbers``, one for every ``every`` requests, by their
    number (``i // every``); made here unless an earlier batch made them."""
    wanted = sorted({i // every for i in numbers})
    emails = {f"family{n}@example.org": n for n in wanted}
    known = {user.email: user for user in User.objects.filter(email__in=emails)}
    User.objects.bulk_create(
        User(email=email, full_name=f"Parent {n}", role=Role.FAMILY, password="!")
        for email, n in emails.items()
        if email not in known
    )
    return {n: user for user in User.objects.filter(email__in=emails) for n in [emails[user.email]]}


def _related_bulk(
    requests: list[ReviewRequest], now: datetime, reviewers: list[User], *, access_log: bool
) -> None:
    payments, assignments, alerts, views = [], [], [], []
    for request in requests:
        if request.submitted_at:
            refunded = request.status == Status.REFUNDED
            payments.append(
                Payment(
                    request=request,
                    method=PaymentMethod.PHONE,
                    status=PaymentStatus.REFUNDED if refunded else PaymentStatus.SUCCEEDED,
                    amount_cents=request.fee_cents,
                    refunded_cents=request.fee_cents if refunded else 0,
                    currency=request.currency,
                    created_at=request.submitted_at,
                    succeeded_at=request.submitted_at,
                )
            )
        if request.status in PANEL_STATUSES:
            reviewer = reviewers[request.pk % len(reviewers)]
            assignments.append(
                ReviewAssignment(
                    request=request,
                    reviewer=reviewer,
                    is_lead=True,
                    assigned_at=request.in_review_at,
                )
            )
            if access_log:
                views += _views(request, reviewer)
        finished_at = request.delivered_at or request.opinion_ready_at or now
        if request.status in PANEL_STATUSES and request.due_limit_at < finished_at:
            alerts.append(
                DeadlineAlert(
                    request=request,
                    kind=AlertKind.BREACH,
                    threshold_at=request.due_limit_at,
                    created_at=request.due_limit_at + timedelta(minutes=5),
                )
            )
    Payment.objects.bulk_create(payments)
    ReviewAssignment.objects.bulk_create(assignments)
    DeadlineAlert.objects.bulk_create(alerts)
    AccessLog.objects.bulk_create(views)


def _views(request: ReviewRequest, reviewer: User) -> list[AccessLog]:
    """The reviewer opening the case, and the family its status page once it is done."""
    seen = [
        AccessLog(
            at=request.in_review_at + timedelta(hours=2),
            user=reviewer,
            role=Role.REVIEWER,
            request=request,
            action=AccessLog.Action.VIEW,
            outcome=AccessLog.Outcome.ALLOWED,
            ip_address="10.0.0.7",
        )
    ]
    if request.delivered_at:
        seen.append(
            AccessLog(
                at=request.delivered_at + timedelta(hours=5),
                user=request.family,
                role=Role.FAMILY,
                request=request,
                action=AccessLog.Action.VIEW,
                outcome=AccessLog.Outcome.ALLOWED,
                ip_address="192.0.2.10",
            )
        )
    return seen


def calls_bulk(
    *, department: Department, coordinator: User, day: date, count: int
) -> list[Booking]:
    """``count`` informational calls on ``day`` (a date in the site's zone), half an hour
    apart from 9:00 on the department's clock."""
    zone = ZoneInfo(department.time_zone)
    nine = datetime(day.year, day.month, day.day, 9, tzinfo=zone)
    return Booking.objects.bulk_create(
        Booking(
            department=department,
            coordinator=coordinator,
            starts_at=nine + timedelta(minutes=30 * n),
            ends_at=nine + timedelta(minutes=30 * n + department.call_length_minutes),
            parent_name=f"Parent {n}",
            phone="+14045550123",
            email=f"parent{n}@example.org",
            child_first_name="Alex",
            child_age=10,
            consent_to_contact=True,
            family_time_zone=department.time_zone,
            ical_uid=f"call-{coordinator.pk}-{day:%Y%m%d}-{n}@portal",
        )
        for n in range(count)
    )


def calls_history_bulk(
    *, department: Department, coordinator: User, now: datetime, count: int, first: int = 0
) -> None:
    """``count`` informational calls over the last three years, twenty a day (half an
    hour apart from 9:00 on the department's clock), numbered from ``first`` (call 0 is
    yesterday's first, higher numbers go back in time); nine in ten held, the others
    cancelled or missed."""
    zone = ZoneInfo(department.time_zone)
    yesterday = now.astimezone(zone).date() - timedelta(days=1)
    statuses = (*[Booking.Status.COMPLETED] * 9, Booking.Status.CANCELLED, Booking.Status.NO_SHOW)
    for batch in range(first, first + count, BATCH):
        calls = []
        for n in range(batch, min(batch + BATCH, first + count)):
            day = yesterday - timedelta(days=n // 20)
            starts_at = datetime(day.year, day.month, day.day, 9, tzinfo=zone) + timedelta(
                minutes=30 * (n % 20)
            )
            calls.append(
                Booking(
                    department=department,
                    coordinator=coordinator,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=department.call_length_minutes),
                    status=statuses[n % len(statuses)],
                    parent_name=f"Parent {n}",
                    phone="+14045550123",
                    email=f"caller{n}@example.org",
                    child_first_name="Sam",
                    child_age=n % 18,
                    consent_to_contact=True,
                    family_time_zone=department.time_zone,
                    ical_uid=f"history-{coordinator.pk}-{n}@portal",
                    created_at=starts_at - timedelta(days=3),
                )
            )
        Booking.objects.bulk_create(calls)
