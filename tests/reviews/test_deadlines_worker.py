"""The deadline sweep through a real Celery worker and the configured broker (memory, or Redis
when REDIS_URL is set), and two sweeps at the same instant on PostgreSQL.

As in the outbox's worker tests, the in-memory mail outbox is watched while the worker runs,
and the database read once it has stopped. The real clock is used: the request was paid 11
days ago (under time_machine), so all four of its alerts are due."""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role
from intake.lifecycle import Status
from intake.models import ReviewRequest
from notifications.models import Message
from reviews.deadlines import deadline_alerts_send_due
from reviews.models import AlertKind, DeadlineAlert
from reviews.services import review_assignment_add
from reviews.tasks import send_due_deadline_alerts_task
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request, staff_user
from tests.notifications.test_worker import running_worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ALERTS = "spine.alerts@example.org"
LEAD = "program.lead@example.org"
REVIEWER = "reviewer@example.org"
# Per request: the reminder (1), the target (1), the escalation (2) and the breach (2).
EXPECTED_TO = sorted([REVIEWER, ALERTS, LEAD, ALERTS, LEAD, ALERTS])


def overdue_requests(family, count=1) -> list[ReviewRequest]:
    """``count`` requests in review, paid 11 days ago: past their limit (10 days)."""
    department = DepartmentFactory(
        alerts_email=ALERTS, program_lead=staff_user(Role.ADMIN, email=LEAD)
    )
    service = ReviewServiceFactory(department=department)
    reviewer = staff_user(Role.REVIEWER, email=REVIEWER)
    requests = []
    with time_machine.travel(timezone.now() - timedelta(days=11), tick=False):
        for _ in range(count):
            request = review_request(family=family, status=Status.IN_REVIEW, service=service)
            review_assignment_add(review_request=request, reviewer=reviewer, is_lead=True)
            requests.append(request)
    return requests


def alert_mails():
    return [m for m in mail.outbox if m.to != ["parent@example.org"]]


def test_the_worker_sends_each_alert_once_however_often_the_task_is_enqueued(family):
    overdue_requests(family)
    mail.outbox.clear()  # the family's own e-mails about the request
    sweeps_done = []

    def count_sweeps(sender=None, **kwargs):
        if sender.name == send_due_deadline_alerts_task.name:
            sweeps_done.append(1)

    task_postrun.connect(count_sweeps, weak=False)
    try:
        with running_worker():
            send_due_deadline_alerts_task.delay()
            send_due_deadline_alerts_task.delay()
            assert wait_until(lambda: len(sweeps_done) == 2)
            assert wait_until(lambda: len(alert_mails()) >= len(EXPECTED_TO))
            time.sleep(0.5)  # room for a duplicate to show up, if there were one
    finally:
        task_postrun.disconnect(count_sweeps)

    assert sorted(m.to[0] for m in alert_mails()) == EXPECTED_TO
    assert DeadlineAlert.objects.count() == 4
    deadline_messages = Message.objects.filter(template__startswith="deadline_")
    assert set(deadline_messages.values_list("status", flat=True)) == {Message.Status.SENT}
    assert deadline_messages.count() == len(EXPECTED_TO)


def test_the_sweep_is_on_the_beat_schedule_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-deadline-alerts"]

    assert entry["task"] == send_due_deadline_alerts_task.name
    assert entry["schedule"].total_seconds() == 5 * 60


@pytest.mark.postgres
def test_two_sweeps_at_the_same_instant_send_each_alert_once(family):
    requests = overdue_requests(family, count=10)
    results = []
    started = threading.Barrier(3)

    def sweep():
        try:
            started.wait()
            results.append(deadline_alerts_send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    # Both sweeps read the same due requests, then queue on the first request's row lock
    # held here, and race through every alert once it is released.
    with transaction.atomic():
        list(ReviewRequest.objects.select_for_update().filter(pk=requests[0].pk))
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert sum(results) == 40
    assert DeadlineAlert.objects.count() == 40
    for kind in AlertKind.values:
        assert DeadlineAlert.objects.filter(kind=kind).count() == 10
    deadline_messages = Message.objects.filter(template__startswith="deadline_")
    assert deadline_messages.count() == 10 * len(EXPECTED_TO)
    for request in requests:
        sent = deadline_messages.filter(body__contains=request.reference)
        assert sorted(sent.values_list("to", flat=True)) == EXPECTED_TO


@pytest.mark.postgres
def test_two_sweeps_racing_through_many_small_batches_send_each_alert_once(family, settings):
    requests = overdue_requests(family, count=30)
    settings.REVIEWS_ALERT_BATCH = 7
    results = []
    started = threading.Barrier(2)

    def sweep():
        try:
            started.wait()
            results.append(deadline_alerts_send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert sum(results) == 120
    assert DeadlineAlert.objects.count() == 120
    deadline_messages = Message.objects.filter(template__startswith="deadline_")
    assert deadline_messages.count() == 30 * len(EXPECTED_TO)
    for request in requests:
        sent = deadline_messages.filter(body__contains=request.reference)
        assert sorted(sent.values_list("to", flat=True)) == EXPECTED_TO
