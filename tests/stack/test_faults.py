"""Parts of the running stack broken on purpose, each test asserting the exact final state."""

import concurrent.futures
import time
import uuid

import requests

from ops.stack import BUCKET
from tests.stack import files
from tests.stack.test_journey import (
    PASSWORD,
    deliver,
    fill_wizard,
    sign_up,
    start_request,
    upload,
    wait_for,
)


def family_with_draft(stack, visitor):
    email = f"family-{uuid.uuid4().hex[:8]}@example.org"
    sign_up(stack, visitor, email)
    visitor.sign_in(email, PASSWORD)
    reference = start_request(visitor, stack.seed["service"])
    fill_wizard(visitor, reference)
    return reference


def documents_of(stack, reference):
    return stack.sql(
        "SELECT d.storage_key FROM records_document d JOIN intake_reviewrequest r "
        "ON r.id = d.request_id WHERE r.reference = %s",
        (reference,),
    )


def test_s3_down_during_an_upload_is_a_clear_error_and_the_same_upload_works_after(stack, visitor):
    reference = family_with_draft(stack, visitor)
    stack.s3_stop()
    try:
        refused = upload(visitor, reference, "record", "clinic notes.pdf", files.referral_pdf())
    finally:
        stack.s3_start()

    assert refused.status_code == 503
    assert "try again" in refused.json()["error"]
    assert documents_of(stack, reference) == []  # no row without its object
    accepted = upload(visitor, reference, "record", "clinic notes.pdf", files.referral_pdf())
    assert accepted.status_code == 201
    assert len(documents_of(stack, reference)) == 1


def test_an_object_no_row_points_to_is_removed_after_the_grace_period_never_one_with_a_row(
    stack, visitor
):
    reference = family_with_draft(stack, visitor)
    upload(visitor, reference, "record", "clinic notes.pdf", files.referral_pdf())
    [(kept,)] = documents_of(stack, reference)
    # What a web worker killed between storing an upload and committing its row leaves.
    orphan = f"documents/{uuid.uuid4().hex}"
    stack.s3_client().put_object(Bucket=BUCKET, Key=orphan, Body=b"%PDF-1.4 left behind")
    remove = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from records.services import orphaned_objects_remove as remove; "
        "print(remove(now=timezone.now() + timedelta(hours={hours})))"
    )

    within_grace = stack.django(remove.format(hours=0))
    after_grace = stack.django(remove.format(hours=25))

    assert within_grace.strip() == "0"
    assert int(after_grace.strip()) >= 1
    keys = {
        item["Key"]
        for item in stack.s3_client().list_objects_v2(Bucket=BUCKET, Prefix="documents/")[
            "Contents"
        ]
    }
    assert orphan not in keys
    assert kept in keys


def test_postgres_restarted_under_traffic_then_the_next_requests_succeed(stack, visitor):
    def hammer(stop_at):
        codes = []
        while time.monotonic() < stop_at:
            try:
                codes.append(requests.get(f"{stack.url}/", timeout=30).status_code)
            except requests.RequestException:
                codes.append(0)
        return codes

    web_before = stack.web_pids()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        running = [pool.submit(hammer, time.monotonic() + 6) for _ in range(4)]
        time.sleep(2)
        stack.postgres_restart()
        during = [code for future in running for code in future.result()]

    assert set(during) <= {200, 500, 503}  # in flight: a clean failure, never a hang
    after = [requests.get(f"{stack.url}/", timeout=30).status_code for _ in range(20)]
    assert after == [200] * 20
    assert stack.web_pids()[0] == web_before[0]  # gunicorn was not restarted
    # The workers carry on too: a new upload is processed.
    reference = family_with_draft(stack, visitor)
    upload(visitor, reference, "record", "notes.pdf", files.referral_pdf())
    wait_for(
        "the upload's processing",
        lambda: (
            stack.sql(
                "SELECT d.state FROM records_document d JOIN intake_reviewrequest r "
                "ON r.id = d.request_id WHERE r.reference = %s",
                (reference,),
            )
            == [("ready",)]
        ),
    )


def test_redis_down_while_a_webhook_arrives_the_payment_is_committed_and_mail_goes_once(
    stack, visitor
):
    import json

    from tests.stack.test_journey import upload as send_file

    reference = family_with_draft(stack, visitor)
    for kind in ("referral", "record", "imaging"):
        send_file(visitor, reference, kind, f"{kind}.pdf", files.referral_pdf())
    visitor.submit(f"/requests/{reference}/review/", button="Send my request")
    visitor.submit(form="/pay/")
    session_id = visitor.last.headers["Location"].rsplit("/", 1)[1]
    session = json.loads(
        requests.post(f"{stack.stripe_url}/_stack/complete/{session_id}", timeout=10).text
    )
    event = {
        "id": f"evt_{session_id}_redis",
        "object": "event",
        "type": "checkout.session.completed",
        "api_version": "2025-01-27",
        "created": int(time.time()),
        "data": {"object": session},
    }
    before = len(stack.mails())
    stack.redis_stop()
    try:
        answer = deliver(stack, event)
        status = stack.sql(
            "SELECT status FROM intake_reviewrequest WHERE reference = %s", (reference,)
        )
    finally:
        stack.redis_start()

    assert answer.status_code == 200
    assert status == [("submitted",)]
    # The outbox row waits for the sweep beat sends each minute; run it now.
    stack.django(
        "from notifications.tasks import send_due_messages_task as t; t.delay(); print('ok')"
    )
    paid = wait_for(
        "the receipt e-mail",
        lambda: [m for m in stack.mails()[before:] if reference in m["subject"]],
    )
    time.sleep(5)
    again = [m for m in stack.mails()[before:] if reference in m["subject"]]
    assert len(again) == len(paid)  # once, not again
    assert stack.sql(
        "SELECT count(*) FROM notifications_message WHERE status <> 'sent' AND subject LIKE %s",
        (f"%{reference}%",),
    ) == [(0,)]
