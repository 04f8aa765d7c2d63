"""Queueing and sending outgoing e-mail through the outbox."""

import base64
import logging
import time
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import Message

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died mid-send: the row is tried again.
STALE_CLAIM = timedelta(minutes=10)
SWEEP_BATCH = 200
SWEEP_SECONDS = 40


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, 8 … minutes after each failure, never more than six hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 360))


def message_queue(
    *,
    to: str,
    template: str,
    context: dict,
    attachments: list[dict] | None = None,
    language: str | None = None,
) -> Message:
    """Write a message from ``templates/email/<template>.subject.txt`` and ``.txt`` and send
    it once the surrounding transaction commits. Rolled back with it if that fails.
    ``attachments`` are small files: ``{"filename", "content", "mimetype"}`` for text,
    ``content_base64`` instead of ``content`` for bytes (a PDF letter).
    ``language`` is the recipient's (a family's ``User.language``, a booking's or an
    invitation's); without it the message is in English, the staff's language, whatever
    page or task queues it."""
    (message,) = message_build(
        to=[to], template=template, context=context, attachments=attachments, language=language
    )
    message.save()
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def message_build(
    *,
    to: list[str],
    template: str,
    context: dict,
    attachments: list[dict] | None = None,
    language: str | None = None,
) -> list[Message]:
    """The same message to each address in ``to``, written once and not saved yet: for
    ``messages_queue_bulk``. The template and ``language`` as for ``message_queue``."""
    language = language or settings.LANGUAGE_CODE
    context = {"site_url": settings.SITE_URL, "hospital_name": settings.HOSPITAL_NAME, **context}
    with translation.override(language):
        subject = render_to_string(f"email/{template}.subject.txt", context)
        body = render_to_string(f"email/{template}.txt", context)
    subject = " ".join(subject.split())[:200]
    return [
        Message(
            to=address,
            subject=subject,
            body=body,
            template=template,
            language=language,
            attachments=attachments or [],
        )
        for address in to
    ]


def messages_queue_bulk(messages: list[Message]) -> list[Message]:
    """Save messages made by ``message_build`` in one insert and send them once the surrounding
    transaction commits, like ``message_queue`` does for one."""
    if not messages:
        return []
    saved = Message.objects.bulk_create(messages)
    ids = [message.pk for message in saved]
    transaction.on_commit(lambda: _enqueue_all(ids))
    return saved


def _enqueue(message_id: int) -> None:
    from notifications.tasks import send_message_task

    try:
        send_message_task.delay(message_id=message_id)
    except Exception:
        # The broker is down: the periodic sweep sends the row once it is reachable again.
        logger.warning("Outbox message %s not enqueued; the sweep will send it.", message_id)


# Messages queued together (a sweep's batch) go to the worker this many to a task: one broker
# message per chunk rather than per e-mail, and a chunk sent well inside the task's time
# limit even by a slow mail server.
ENQUEUE_CHUNK = 20


def _enqueue_all(message_ids: list[int]) -> None:
    from notifications.tasks import send_messages_task

    for first in range(0, len(message_ids), ENQUEUE_CHUNK):
        chunk = message_ids[first : first + ENQUEUE_CHUNK]
        try:
            send_messages_task.delay(message_ids=chunk)
        except Exception:
            # The broker is down: the periodic sweep sends the rows once it is reachable
            # again; the other chunks would only wait out the same timeout.
            logger.warning(
                "Outbox messages from %s on not enqueued; the sweep will send it all.", chunk[0]
            )
            return


def messages_send(*, message_ids: list[int]) -> int:
    """``message_send`` for each of ``message_ids`` in turn. Returns how many were sent."""
    return sum(message_send(message_id=message_id) for message_id in message_ids)


def message_send(*, message_id: int) -> bool:
    """Send one due message if nobody else is sending it. Safe to call twice: the second call
    finds the row already claimed or sent and does nothing. Returns whether it was sent."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=message_id, status=Message.Status.QUEUED, next_attempt_at__lte=now
    ).update(status=Message.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return False
    message = Message.objects.get(pk=message_id)
    try:
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
        )
        for attachment in message.attachments:
            content = (
                base64.b64decode(attachment["content_base64"])
                if "content_base64" in attachment
                else attachment["content"]
            )
            email.attach(attachment["filename"], content, attachment["mimetype"])
        email.send()
    except SoftTimeLimitExceeded as exc:
        # The task is out of time: schedule a retry, then let Celery end the task.
        _record_failure(message, exc)
        raise
    except Exception as exc:
        _record_failure(message, exc)
        return False
    Message.objects.filter(pk=message_id, status=Message.Status.SENDING).update(
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        last_error="",
        attachments=_files_dropped(message.attachments),
    )
    return True


def _files_dropped(attachments: list[dict]) -> list[dict]:
    """Once a message is sent, or failed for good, its files are not kept (an opinion letter
    would otherwise sit in the outbox, outside the checked and logged path of the records):
    their names and types stay."""
    return [
        {"filename": item["filename"], "mimetype": item["mimetype"], "removed": True}
        for item in attachments
    ]


def _record_failure(message: Message, exc: Exception) -> None:
    # The class name and a short reason only: a server's error text can echo the address.
    error = f"{type(exc).__name__}"[:200]
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        # No retry will need the files.
        changes = {
            "status": Message.Status.FAILED,
            "attachments": _files_dropped(message.attachments),
        }
        logger.error(
            "Outbox message %s failed for good after %s attempts.", message.pk, message.attempts
        )
    else:
        changes = {
            "status": Message.Status.QUEUED,
            "next_attempt_at": timezone.now() + retry_delay(message.attempts),
        }
    Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
        last_error=error, **changes
    )


def messages_send_due(*, budget_seconds: float = SWEEP_SECONDS) -> int:
    """Send messages that are due, oldest first, first releasing claims left by dead workers.
    Stops after ``budget_seconds`` (well inside the task's time limit, even with a slow mail
    server); the next sweep, a minute later, carries on. Returns how many were sent."""
    now = timezone.now()
    Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Message.Status.QUEUED, next_attempt_at=now
    )
    due = (
        Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    deadline = time.monotonic() + budget_seconds
    sent = 0
    for pk in list(due):
        sent += message_send(message_id=pk)
        if time.monotonic() >= deadline:
            break
    return sent
