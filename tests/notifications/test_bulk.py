"""Many messages at once (the deadline sweep's batches): written once for all their
recipients, saved in one insert, sent to the worker a chunk at a time after commit."""

import pytest
from django.core import mail

from notifications import services
from notifications.models import Message
from notifications.services import message_build, messages_queue_bulk, messages_send

pytestmark = pytest.mark.django_db

CONTEXT = {"verify_url": "http://testserver/accounts/confirm/x/", "valid_days": 3}


def test_a_message_for_many_is_written_once_and_saved_in_one_insert(
    django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    chunks = []
    monkeypatch.setattr(
        "notifications.tasks.send_messages_task.delay", lambda **kw: chunks.append(kw)
    )
    addresses = [f"person{n}@example.org" for n in range(45)]
    built = message_build(to=addresses, template="verify_email", context=CONTEXT)

    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(1):
        saved = messages_queue_bulk(built)

    assert {message.body for message in saved} == {built[0].body}
    assert sorted(Message.objects.values_list("to", flat=True)) == sorted(addresses)
    ids = [message.pk for message in saved]
    assert chunks == [
        {"message_ids": ids[:20]},
        {"message_ids": ids[20:40]},
        {"message_ids": ids[40:]},
    ]
    assert services.ENQUEUE_CHUNK == 20


def test_a_chunk_is_sent_message_by_message_once(django_capture_on_commit_callbacks):
    saved = messages_queue_bulk(
        message_build(
            to=["a@example.org", "b@example.org"], template="verify_email", context=CONTEXT
        )
    )
    ids = [message.pk for message in saved]

    assert messages_send(message_ids=ids) == 2
    assert messages_send(message_ids=ids) == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.org", "b@example.org"]


def test_with_the_broker_down_the_first_chunk_fails_and_the_rest_wait_for_the_sweep(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    tried = []

    def down(**kwargs):
        tried.append(kwargs)
        raise ConnectionError("broker down")

    monkeypatch.setattr("notifications.tasks.send_messages_task.delay", down)
    built = message_build(
        to=[f"p{n}@example.org" for n in range(30)], template="verify_email", context=CONTEXT
    )

    with django_capture_on_commit_callbacks(execute=True):
        messages_queue_bulk(built)

    assert len(tried) == 1
    assert "the sweep will send it all" in caplog.text
    assert Message.objects.filter(status=Message.Status.QUEUED).count() == 30
