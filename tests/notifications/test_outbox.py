import base64
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.models import Message
from notifications.services import message_queue, message_send, messages_send_due, retry_delay

pytestmark = pytest.mark.django_db


def queue(**overrides):
    fields = {
        "to": "parent@example.org",
        "template": "verify_email",
        "context": {"verify_url": "http://testserver/accounts/confirm/x/", "valid_days": 3},
    }
    return message_queue(**{**fields, **overrides})


class BrokenBackend:
    """An SMTP server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp.example.org:587 refused user=secret")


def test_a_queued_message_is_written_from_its_template_and_enqueued_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as enqueued:
        message = queue()

    assert message.subject == "Confirm your e-mail address for Children's Hospital second opinions"
    assert "http://testserver/accounts/confirm/x/" in message.body
    assert message.status == Message.Status.QUEUED
    assert len(enqueued) == 1


def test_a_change_that_is_rolled_back_sends_nothing():
    def change_that_fails():
        with transaction.atomic():
            queue()
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()

    assert not Message.objects.exists()


def test_sending_delivers_once_even_if_asked_twice():
    message = queue()

    assert message_send(message_id=message.pk) is True
    assert message_send(message_id=message.pk) is False

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["parent@example.org"]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert message.sent_at is not None
    assert message.attempts == 1


def test_a_failed_send_is_retried_later_and_the_error_keeps_no_server_text(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.BrokenBackend"
    message = queue()
    now = timezone.now()

    with time_machine.travel(now, tick=False):
        assert message_send(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.next_attempt_at == now + timedelta(minutes=1)
    assert message.last_error == "ConnectionRefusedError"


def test_retries_back_off_and_stop_after_the_last_attempt(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.BrokenBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = queue()
    moment = timezone.now()

    for _ in range(3):
        with time_machine.travel(moment, tick=False):
            message_send(message_id=message.pk)
        message.refresh_from_db()
        moment = message.next_attempt_at

    assert message.status == Message.Status.FAILED
    assert message.attempts == 3
    assert [retry_delay(n) for n in (1, 2, 3, 4, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(hours=6),
    ]


def test_a_message_is_not_sent_before_its_retry_time():
    message = queue()
    Message.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    assert message_send(message_id=message.pk) is False
    assert not mail.outbox


def test_the_sweep_sends_what_is_due_and_leaves_what_is_not():
    due = queue(to="due@example.org")
    later = queue(to="later@example.org")
    Message.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))

    sent = messages_send_due()

    assert sent == 1
    assert [m.to for m in mail.outbox] == [["due@example.org"]]
    due.refresh_from_db()
    assert due.status == Message.Status.SENT


def test_the_sweep_takes_back_a_message_whose_worker_died_mid_send():
    message = queue()
    claimed_long_ago = timezone.now() - timedelta(minutes=11)
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, claimed_at=claimed_long_ago
    )

    messages_send_due()

    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(mail.outbox) == 1


def test_a_message_being_sent_right_now_is_left_alone():
    message = queue()
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.SENDING, claimed_at=timezone.now()
    )

    assert messages_send_due() == 0
    assert not mail.outbox


def test_a_broker_outage_does_not_break_the_change_and_the_sweep_sends_later(
    broker_down, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()

    assert f"Outbox message {message.pk} not enqueued" in caplog.text
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert messages_send_due() == 1


def test_the_sweep_stops_when_its_time_is_up_and_leaves_the_rest_for_the_next_one():
    for n in range(3):
        queue(to=f"parent{n}@example.org")

    assert messages_send_due(budget_seconds=0) == 1  # the budget is checked after each send
    assert messages_send_due() == 2


class SlowBackend(BrokenBackend):
    """A mail server so slow that Celery's soft time limit fires mid-send."""

    def send_messages(self, messages):
        from celery.exceptions import SoftTimeLimitExceeded

        raise SoftTimeLimitExceeded()


def test_running_out_of_task_time_ends_the_task_and_schedules_a_retry(settings):
    from celery.exceptions import SoftTimeLimitExceeded

    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.SlowBackend"
    message = queue()

    with pytest.raises(SoftTimeLimitExceeded):
        messages_send_due()

    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED
    assert message.last_error == "SoftTimeLimitExceeded"


def test_attachments_reach_the_sent_email_as_text_and_as_decoded_bytes():
    pdf = b"%PDF-1.7 the letter"
    message = queue(
        attachments=[
            {"filename": "invite.ics", "content": "BEGIN:VCALENDAR", "mimetype": "text/calendar"},
            {
                "filename": "letter.pdf",
                "content_base64": base64.b64encode(pdf).decode(),
                "mimetype": "application/pdf",
            },
        ]
    )

    assert message_send(message_id=message.pk) is True

    assert mail.outbox[0].attachments == [
        ("invite.ics", "BEGIN:VCALENDAR", "text/calendar"),
        ("letter.pdf", pdf, "application/pdf"),
    ]
    message.refresh_from_db()
    # Sent: the files are no longer kept in the outbox, only what they were.
    assert message.attachments == [
        {"filename": "invite.ics", "mimetype": "text/calendar", "removed": True},
        {"filename": "letter.pdf", "mimetype": "application/pdf", "removed": True},
    ]


@pytest.mark.parametrize(
    ("attempts_allowed", "status", "kept"),
    [
        # A retry will send them.
        (
            2,
            Message.Status.QUEUED,
            [{"filename": "a.ics", "content": "X", "mimetype": "text/calendar"}],
        ),
        # Failed for good: no retry needs them.
        (
            1,
            Message.Status.FAILED,
            [{"filename": "a.ics", "mimetype": "text/calendar", "removed": True}],
        ),
    ],
)
def test_a_failed_send_keeps_the_files_only_while_a_retry_will_come(
    settings, attempts_allowed, status, kept
):
    settings.EMAIL_BACKEND = "tests.notifications.test_outbox.BrokenBackend"
    settings.OUTBOX_MAX_ATTEMPTS = attempts_allowed
    message = queue(
        attachments=[{"filename": "a.ics", "content": "X", "mimetype": "text/calendar"}]
    )

    assert message_send(message_id=message.pk) is False

    message.refresh_from_db()
    assert (message.status, message.attachments) == (status, kept)
