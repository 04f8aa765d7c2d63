"""The reminder sweep through a real Celery worker and the configured broker. As in the
outbox's worker tests, the in-memory mail outbox is watched, and the database read once the
worker has stopped. The real clock is used: the call is 20 hours away."""

from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from scheduling.models import Booking, Reminder
from scheduling.services import booking_create
from scheduling.slots import slots_open
from scheduling.tasks import send_due_reminders_task
from tests.factories import DepartmentFactory
from tests.notifications.test_worker import running_worker, wait_until
from tests.scheduling.conftest import DETAILS, add_coordinator

pytestmark = pytest.mark.django_db(transaction=True)


def reminder_mails():
    return [m for m in mail.outbox if m.subject.startswith("Reminder")]


def test_the_worker_sends_the_day_before_reminder_once_however_often_the_sweep_runs(coordinator):
    department = DepartmentFactory(minimum_notice_hours=1)
    add_coordinator(department, coordinator, hours=((time(0), time(23, 59)),), weekdays=range(7))
    now = timezone.now()
    start = next(
        s.starts_at
        for s in slots_open(department=department, now=now)
        if s.starts_at > now + timedelta(hours=20)
    )
    booking = booking_create(
        department=department, starts_at=start, details=DETAILS, family_time_zone="UTC"
    )
    # Booked two days ago, as far as the reminder rules are concerned.
    Booking.objects.filter(pk=booking.pk).update(created_at=now - timedelta(days=2))

    with running_worker():
        send_due_reminders_task.delay()
        send_due_reminders_task.delay()
        assert wait_until(lambda: len(reminder_mails()) >= 1)
        assert wait_until(lambda: len(mail.outbox) >= 3)  # the two confirmations as well

    assert len(reminder_mails()) == 1
    assert reminder_mails()[0].to == ["parent@example.org"]
    assert list(Reminder.objects.values_list("kind", flat=True)) == ["day_before"]
