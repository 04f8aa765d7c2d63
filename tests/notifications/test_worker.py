"""The outbox through a real Celery worker and the configured broker (memory, or Redis when
REDIS_URL is set)."""

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


@pytest.fixture
def worker():
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


def test_a_message_written_in_a_transaction_is_sent_by_the_worker_after_commit(worker):
    with transaction.atomic():
        message = message_queue(
            to="parent@example.org",
            template="password_reset",
            context={"reset_url": "http://testserver/reset/"},
        )

    assert wait_until(lambda: Message.objects.get(pk=message.pk).status == Message.Status.SENT)
    assert [sent.to for sent in mail.outbox] == [["parent@example.org"]]


def test_the_periodic_sweep_runs_on_the_worker_and_sends_what_was_never_enqueued(worker):
    stranded = Message.objects.create(
        to="parent@example.org", subject="Update", body="Sign in.", template="manual"
    )

    send_due_messages_task.delay()

    assert wait_until(lambda: Message.objects.get(pk=stranded.pk).status == Message.Status.SENT)


def test_the_sweep_is_on_the_beat_schedule_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["send-due-messages"]

    assert entry["task"] == send_due_messages_task.name
    assert entry["schedule"].total_seconds() == 60
