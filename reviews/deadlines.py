"""The deadline sweep: alerts as a review nears and passes its target and its limit.

State-based (DESIGN §3): every threshold is derived from the due dates stored on the request,
so time spent in ``needs_info`` (which moves the due dates) moves the thresholds with it, and
nothing is ever scheduled ahead. A periodic task runs the sweep every few minutes; each alert
is a unique ``DeadlineAlert`` row written in the same transaction as its e-mails.

Thresholds are counted in days left by the one rule of ``intake.clock`` (calendar days on the
department's clock, or its business days): each alert falls due at the first instant the
pages show what it says ("2 days left", "overdue by 1 day").
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from intake.clock import DUE_SOON_DAYS, DayCount, countdown, reached_at
from intake.lifecycle import Status
from intake.models import Department, ReviewRequest
from intake.selectors import department_day_counts, department_of, due_within, request_day_counts
from notifications.services import message_build, message_queue, messages_queue_bulk
from reviews.models import AlertKind, DeadlineAlert, Opinion, ReviewAssignment
from reviews.selectors import coordinator_recipients, coordinator_recipients_for

logger = logging.getLogger(__name__)

# An alert recorded more than this after it fell due is marked late: the sweep runs every 5
# minutes, so this means several sweeps did not run (beat or the broker was down).
LATE_AFTER = timedelta(minutes=15)
# Well inside the task's soft time limit (60 s); the next sweep carries on where this one ends.
SWEEP_SECONDS = 40

# Requests someone at the hospital is working on. Not swept: draft and awaiting_payment (no
# clock yet), needs_info (the clock is paused), delivered, cancelled and refunded (done).
OPEN = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.OPINION_READY})


@dataclass(frozen=True)
class Threshold:
    """An alert is due once the due date in ``due_field`` has at most ``days_left`` days left
    (negative: overdue), while the request is in one of ``statuses``."""

    due_field: str
    days_left: int
    statuses: frozenset[Status]

    def at(self, request: ReviewRequest, count: DayCount) -> datetime:
        """When the pages first show ``days_left`` for this request: the start of that day
        on its department's clock."""
        return reached_at(getattr(request, self.due_field), self.days_left, count)


# In the order the thresholds fall.
THRESHOLDS = {
    # "2 days left": the reviewer's badge turns to "due soon".
    AlertKind.REVIEWER_REMINDER: Threshold(
        "due_target_at", DUE_SOON_DAYS, frozenset({Status.IN_REVIEW})
    ),
    # "Overdue by 1 day": the target's day has passed.
    AlertKind.TARGET: Threshold("due_target_at", -1, OPEN),
    # "1 day left" to the limit.
    AlertKind.ESCALATION: Threshold("due_limit_at", 1, OPEN),
    # The limit's day has passed.
    AlertKind.BREACH: Threshold("due_limit_at", -1, OPEN),
}

# The holidays a sweep reads: enough days ahead to find the business days before a threshold.
HOLIDAYS_AHEAD = timedelta(days=62)


def deadline_alerts_send_due(
    *, now: datetime | None = None, budget_seconds: float = SWEEP_SECONDS
) -> int:
    """Send every deadline alert whose threshold has passed by ``now`` and that was never
    sent. Returns how many alerts were recorded.

    Guarantees: each alert (request, kind) is recorded at most once, ever, whoever runs the
    sweep and however often (a unique row); an alert is recorded together with its e-mails in
    one transaction, so a crash leaves either both or neither and the next sweep picks up what
    is missing; an alert that fails is logged and retried by the next sweep without holding
    up the others. Stops after ``budget_seconds`` (checked after each batch); the next sweep
    carries on.

    Alerts are sent a batch at a time: a few queries per batch of up to ``REVIEWS_ALERT_BATCH``
    requests, whatever their number, so a backlog after an outage is cleared in seconds."""
    now = now or timezone.now()
    stop_at = time.monotonic() + budget_seconds
    recorded = 0
    # Every department's clock, read once per sweep (one query, and one for the holidays
    # when a department counts business days).
    counts = department_day_counts(
        start=now.date() - timedelta(days=2), end=(now + HOLIDAYS_AHEAD).date()
    )
    for kind in THRESHOLDS:
        after = 0
        # Keyset batches: an alert skipped in this sweep (failed, no longer due) is not
        # selected again until the next sweep.
        while batch := _due_batch(kind, now, counts, after=after):
            recorded += _send_batch_isolated(request_ids=batch, kind=kind, now=now)
            if time.monotonic() >= stop_at:
                return recorded
            after = batch[-1]
    return recorded


def _due_batch(
    kind: AlertKind, now: datetime, counts: dict[int, DayCount], *, after: int
) -> list[int]:
    """The ids, after ``after`` in pk order, of requests whose ``kind`` threshold has passed
    and that have no such alert yet. The (status, due date) indexes answer the range (one
    cut-off per department clock, all under the latest); the anti-join leaves out the alerts
    already sent, so the rows read are only the open requests past this threshold."""
    threshold = THRESHOLDS[kind]
    due = ReviewRequest.objects.filter(
        due_within(counts=counts, now=now, days=threshold.days_left, field=threshold.due_field),
        ~Exists(DeadlineAlert.objects.filter(request=OuterRef("pk"), kind=kind)),
        status__in=threshold.statuses,
    )
    if kind == AlertKind.REVIEWER_REMINDER:
        # No panel yet: the reminder waits for one (the coordinators hear at the target).
        due = due.filter(Exists(_active_assignments().filter(request=OuterRef("pk"))))
    return list(
        due.filter(pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[: settings.REVIEWS_ALERT_BATCH]
    )


def _send_batch_isolated(*, request_ids: list[int], kind: AlertKind, now: datetime) -> int:
    try:
        return deadline_alerts_send_batch(request_ids=request_ids, kind=kind, now=now)
    except SoftTimeLimitExceeded:
        raise  # out of time: Celery ends the task; the next sweep carries on
    except Exception:
        # The batch was rolled back: its alerts are tried one at a time, so one that fails
        # holds up no other (and is tried again by the next sweep).
        logger.exception("Deadline alerts %s: a batch failed; sending them one by one.", kind)
        return sum(
            _send_isolated(request_id=request_id, kind=kind, now=now) for request_id in request_ids
        )


def deadline_alerts_send_batch(*, request_ids: list[int], kind: str, now: datetime) -> int:
    """Record ``kind`` for those of ``request_ids`` for which it is due and was never sent,
    and queue their e-mails, in one transaction. Returns how many were recorded.

    The same guarantees as ``deadline_alert_send``, for many alerts in a fixed number of
    queries: the requests are locked in pk order and read again (their status and due dates
    now), the recipients are resolved once for the batch, the alert rows go in with one
    ``INSERT … ON CONFLICT DO NOTHING`` (an alert a concurrent sweep recorded first is left
    out, with its e-mails) and the e-mails with one more insert. Any error rolls back the
    whole batch: no alert without its e-mails, no e-mail without its alert."""
    kind = AlertKind(kind)
    threshold = THRESHOLDS[kind]
    with transaction.atomic():
        requests = list(
            ReviewRequest.objects.select_for_update(of=("self",))
            .select_related("service__department__program_lead")
            .filter(pk__in=request_ids, status__in=threshold.statuses)
            .order_by("pk")
        )
        counts = request_day_counts(requests=requests, now=now) if requests else {}
        due = {}
        for request in requests:
            count = counts[department_of(request)]
            threshold_at = threshold.at(request, count)
            if threshold_at <= now:
                due[request.pk] = (request, count, threshold_at)
        recipients = _batch_recipients([request for request, _, _ in due.values()], kind)
        alerts = [
            DeadlineAlert(
                request=request,
                kind=kind,
                threshold_at=threshold_at,
                late=now - threshold_at > LATE_AFTER,
            )
            for request, _, threshold_at in due.values()
            if recipients[request.pk] is not None
        ]
        recorded = _insert_new(alerts)
        messages = []
        for request_id in sorted(recorded):
            request, count, _ = due[request_id]
            if not recipients[request_id]:
                continue  # a reminder with every opinion in: recorded, nobody to remind
            messages += message_build(
                to=recipients[request_id],
                template=f"deadline_{kind.value}",
                context=_context(request, kind, count, now),
            )
        messages_queue_bulk(messages)
    return len(recorded)


def _insert_new(alerts: list[DeadlineAlert]) -> set[int]:
    """Insert ``alerts`` in one statement, leaving out any that exists already (the unique
    (request, kind) rule); returns the ids of the requests whose alert this call inserted.
    PostgreSQL and SQLite (3.35 and later) both speak ``ON CONFLICT DO NOTHING … RETURNING``;
    Django's ``bulk_create(ignore_conflicts=True)`` does not say which rows went in."""
    if not alerts:
        return set()
    quote = connection.ops.quote_name
    fields = [field for field in DeadlineAlert._meta.concrete_fields if not field.primary_key]
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params = [
        field.get_db_prep_save(field.pre_save(alert, True), connection)
        for alert in alerts
        for field in fields
    ]
    table = quote(DeadlineAlert._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join([row] * len(alerts))
    # Only the model's own names and placeholders go into the text; the values are parameters.
    sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT DO NOTHING"  # noqa: S608
    sql += f" RETURNING {quote('request_id')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {request_id for (request_id,) in cursor.fetchall()}


def _batch_recipients(
    requests: list[ReviewRequest], kind: AlertKind
) -> dict[int, list[str] | None]:
    """Who receives ``kind`` for each of ``requests`` (as ``_recipients``), in at most one
    query for the batch: the panels for a reminder, else the coordinators when a department
    has no inbox of its own."""
    if kind == AlertKind.REVIEWER_REMINDER:
        return _reviewers_to_remind_all(requests)
    departments = {request.service.department for request in requests}
    coordinators = coordinator_recipients_for(departments=departments)
    result = {}
    for request in requests:
        department = request.service.department
        result[request.pk] = _addresses(request, kind, department, coordinators[department.pk])
    return result


def _send_isolated(*, request_id: int, kind: AlertKind, now: datetime) -> bool:
    try:
        return deadline_alert_send(request_id=request_id, kind=kind, now=now)
    except SoftTimeLimitExceeded:
        raise  # out of time: Celery ends the task; the next sweep carries on
    except Exception:
        # Its transaction was rolled back (no row, no e-mail): the next sweep tries again.
        logger.exception("Deadline alert %s for request %s not sent.", kind, request_id)
        return False


def deadline_alert_send(*, request_id: int, kind: str, now: datetime | None = None) -> bool:
    """Record one alert and queue its e-mails, if it is due and was never sent. Returns
    whether it was recorded.

    Guarantees: the request row is locked, so the alert matches the status and due dates it
    has (a request delivered or moved to needs_info a moment ago is not alerted); the row and
    the e-mails commit together or not at all; a concurrent sweep that recorded the same alert
    first wins and this call does nothing. An alert nobody can receive yet (no panel, no
    coordinator) is not recorded: it waits for the next sweep. A reviewer reminder when every
    active reviewer has submitted is recorded without an e-mail."""
    now = now or timezone.now()
    kind = AlertKind(kind)
    threshold = THRESHOLDS[kind]
    with transaction.atomic():
        request = (
            ReviewRequest.objects.select_for_update(of=("self",))
            .select_related("service__department__program_lead")
            .filter(pk=request_id, status__in=threshold.statuses)
            .first()
        )
        if request is None:
            return False
        count = request_day_counts(requests=[request], now=now)[department_of(request)]
        threshold_at = threshold.at(request, count)
        if threshold_at > now:
            return False
        recipients = _recipients(request, kind)
        if recipients is None:
            return False
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves this transaction usable
                DeadlineAlert.objects.create(
                    request=request,
                    kind=kind,
                    threshold_at=threshold_at,
                    late=now - threshold_at > LATE_AFTER,
                )
        except IntegrityError:
            return False
        context = _context(request, kind, count, now)
        for to in recipients:
            message_queue(to=to, template=f"deadline_{kind.value}", context=context)
    return True


def _recipients(request: ReviewRequest, kind: AlertKind) -> list[str] | None:
    """Who receives ``kind`` for ``request``: addresses without repeats, or None when there is
    nobody yet and the alert must wait."""
    if kind == AlertKind.REVIEWER_REMINDER:
        return _reviewers_to_remind_all([request])[request.pk]
    department = request.service.department
    return _addresses(request, kind, department, coordinator_recipients(department=department))


def _addresses(
    request: ReviewRequest, kind: AlertKind, department: Department, coordinators: list[str]
) -> list[str] | None:
    addresses = coordinators
    if kind in {AlertKind.ESCALATION, AlertKind.BREACH}:
        addresses = _program_lead(department) + addresses
    if not addresses:
        logger.warning(
            "Deadline alert %s for request %s waits: department %s has no alerts e-mail "
            "and no active coordinator.",
            kind,
            request.pk,
            department.pk,
        )
        return None
    return list(dict.fromkeys(address.lower() for address in addresses))


def _active_assignments():
    return ReviewAssignment.objects.filter(removed_at__isnull=True)


def _reviewers_to_remind_all(requests: list[ReviewRequest]) -> dict[int, list[str] | None]:
    """For each request, the active reviewers on its panel who have not submitted an opinion;
    None: no panel yet. One query for all of them."""
    result: dict[int, list[str] | None] = {request.pk: None for request in requests}
    if not requests:
        return result
    panels = (
        _active_assignments()
        .filter(request__in=requests)
        .annotate(
            submitted=Exists(
                Opinion.objects.filter(assignment=OuterRef("pk"), submitted_at__isnull=False)
            )
        )
        .select_related("reviewer")
        .order_by("request_id", "pk")
    )
    for assignment in panels:
        reviewers = result[assignment.request_id]
        if reviewers is None:
            reviewers = result[assignment.request_id] = []
        if not assignment.submitted and assignment.reviewer.is_active:
            reviewers.append(assignment.reviewer.email)
    return result


def _program_lead(department: Department) -> list[str]:
    """The department's program lead (none, or an inactive one: the coordinators, who are
    alerted anyway, carry the escalation alone)."""
    lead = department.program_lead
    return [lead.email] if lead is not None and lead.is_active else []


def _context(request: ReviewRequest, kind: AlertKind, count: DayCount, now: datetime) -> dict:
    """What an alert says: the reference, the service, the due dates (days on the
    department's calendar) with the days left to each as the pages show them now, and a
    link. Never anything about the child or the family."""
    if kind == AlertKind.REVIEWER_REMINDER:
        link = reverse("reviews:my_reviews")
    else:
        link = reverse("admin:intake_reviewrequest_change", args=[request.pk])
    target = countdown(request.due_target_at, now, count)
    limit = countdown(request.due_limit_at, now, count)
    return {
        "reference": request.reference,
        "service_name": request.service.name,
        "due_target": target.due_date,
        "due_limit": limit.due_date,
        "target_left": target.label,
        "limit_left": limit.label,
        "time_zone": count.time_zone,
        "link": settings.SITE_URL + link,
    }
