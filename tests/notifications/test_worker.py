"""The outbox through a real Celery worker and the configured broker (memory, or Redis when
REDIS_URL is set).

The tests wait on the in-memory mail outbox, not the database: on SQLite, reading while the
worker thread writes makes one of them fail with "table is locked". The database is checked
once the worker has stopped (a warm shutdown finishes the task it is running)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.db import transaction

from config.celery import app
from notifications.models import Message
from notifications.services import message_queue
from notifications.tasks import send_due_messages_task

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(condition, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def running_worker():
    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10)


def test_a_message_written_in_a_transaction_is_sent_by_the_worker_after_commit():
    with running_worker():
        with transaction.atomic():
            message = message_queue(
                to="parent@example.org",
                template="password_reset",
                context={"reset_url": "http://testserver/reset/"},
            )
        assert wait_until(lambda: len(mail.outbox) == 1)

    assert [sent.to for sent in mail.outbox] == [["parent@example.org"]]
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENT


def test_the_periodic_sweep_runs_on_the_worker_and_sends_what_was_never_enqueued():
    stranded = Message.objects.create(
        to="parent@example.org", subject="Update", body="Sign in.", template="manual"
    )

    with running_worker():
        send_due_messages_task.delay()
        assert wait_until(lambda: len(mail.outbox) == 1)

    assert Message.objects.get(pk=stranded.pk).status == Message.Status.SENT


def test_the_sweep_is_on_the_beat_schedule_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-messages"]

    assert entry["task"] == send_due_messages_task.name
    assert entry["schedule"].total_seconds() == 60
