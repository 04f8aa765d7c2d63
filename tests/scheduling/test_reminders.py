"""Reminders the day before and an hour before: swept by state, each sent once."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine

from notifications.models import Message
from scheduling import services
from scheduling.models import Reminder
from scheduling.services import reminders_send_due
from tests.scheduling.conftest import book, ny

pytestmark = pytest.mark.django_db


def reminders(kind=None):
    messages = Message.objects.filter(template="call_reminder")
    return (
        messages.filter(subject__contains="tomorrow" if kind == "day" else "in an hour")
        if kind
        else messages
    )


def test_nothing_is_due_two_days_ahead(booking):
    assert reminders_send_due() == 0


def test_the_day_before_reminder_is_sent_once_however_often_the_sweep_runs(booking):
    with time_machine.travel(booking.starts_at - timedelta(hours=23), tick=False):
        first = reminders_send_due()
        second = reminders_send_due()

    assert (first, second) == (1, 0)
    assert reminders("day").count() == 1
    message = reminders("day").get()
    assert "/calls/move/" in message.body
    assert "/calls/cancel/" in message.body


def test_the_hour_before_reminder_follows_and_is_sent_once(booking):
    with time_machine.travel(booking.starts_at - timedelta(hours=23), tick=False):
        reminders_send_due()
    with time_machine.travel(booking.starts_at - timedelta(minutes=55), tick=False):
        reminders_send_due()
        reminders_send_due()

    assert reminders("day").count() == 1
    assert reminders("hour").count() == 1
    assert set(Reminder.objects.values_list("kind", flat=True)) == {"day_before", "hour_before"}


def test_after_an_outage_only_the_reminder_still_useful_is_sent(booking):
    # The sweep did not run all day: 30 minutes before the call, only "in an hour" goes out.
    with time_machine.travel(booking.starts_at - timedelta(minutes=30), tick=False):
        reminders_send_due()

    assert reminders("day").count() == 0
    assert reminders("hour").count() == 1


def test_no_reminder_once_the_call_has_started(booking):
    with time_machine.travel(booking.starts_at + timedelta(minutes=1), tick=False):
        assert reminders_send_due() == 0


def test_cancelled_and_moved_calls_get_no_reminders(booking, department):
    services.booking_cancel(booking=booking)
    other = book(department, ny(2026, 11, 18, 10, 20), email="second@example.org")
    services.booking_reschedule(booking=other, starts_at=ny(2026, 11, 20, 9))

    with time_machine.travel(ny(2026, 11, 18, 9) - timedelta(hours=23), tick=False):
        sent = reminders_send_due()

    assert sent == 0
    assert not reminders().exists()
    # The moved call is reminded at its new time.
    with time_machine.travel(ny(2026, 11, 20, 9) - timedelta(hours=23), tick=False):
        assert reminders_send_due() == 1
    assert reminders().get().to == "second@example.org"


def test_a_call_booked_within_the_day_gets_only_the_hour_before_reminder(
    frozen_now, department, call_coordinator
):
    department.minimum_notice_hours = 2
    department.save()
    soon = book(department, ny(2026, 11, 16, 11))  # booked at 8:00 for 11:00

    assert reminders_send_due() == 0
    with time_machine.travel(soon.starts_at - timedelta(minutes=59), tick=False):
        assert reminders_send_due() == 1
    assert reminders("hour").count() == 1


def test_a_sweep_killed_mid_way_loses_nothing_and_sends_nothing_twice(booking, department):
    second = book(department, ny(2026, 11, 18, 10, 20), email="second@example.org")
    real_queue = services.message_queue
    calls = []

    def dies_on_the_second(**kwargs):
        calls.append(kwargs["to"])
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_queue(**kwargs)

    with time_machine.travel(ny(2026, 11, 17, 11), tick=False):  # both calls within the day
        with (
            mock.patch.object(services, "message_queue", dies_on_the_second),
            pytest.raises(SystemExit),
        ):
            reminders_send_due()
        assert reminders().count() == 1  # the first was committed with its reminder row
        reminders_send_due()  # the next sweep
        reminders_send_due()

    assert sorted(reminders().values_list("to", flat=True)) == sorted(
        ["parent@example.org", second.email]
    )
    assert Reminder.objects.count() == 2


def test_the_beat_task_runs_the_sweep(booking, settings):
    from scheduling.tasks import send_due_reminders_task

    assert (
        settings.CELERY_BEAT_SCHEDULE["send-due-reminders"]["task"] == send_due_reminders_task.name
    )
    with time_machine.travel(booking.starts_at - timedelta(hours=23), tick=False):
        send_due_reminders_task.apply()

    assert reminders().count() == 1
