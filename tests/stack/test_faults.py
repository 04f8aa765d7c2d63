"""Parts of the running stack broken on purpose, each test asserting the exact final state."""

import concurrent.futures
import contextlib
import json
import os
import random
import signal
import time
import uuid
from datetime import timedelta

import requests
import stripe

from ops.stack import BUCKET, STRIPE_WEBHOOK_SECRET
from ops.standins import SLOW_MARK
from tests.stack import files
from tests.stack.test_journey import (
    PASSWORD,
    checkout_completed,
    deliver,
    fill_wizard,
    objects_match_rows,
    sign_up,
    start_request,
    stripe_event,
    upload,
    wait_for,
)


def family_with_draft(stack, visitor):
    email = f"family-{uuid.uuid4().hex[:8]}@example.org"
    visitor.email = email
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
    from tests.stack.test_journey import upload as send_file

    reference = family_with_draft(stack, visitor)
    for kind in ("referral", "record", "imaging"):
        send_file(visitor, reference, kind, f"{kind}.pdf", files.referral_pdf())
    visitor.submit(f"/requests/{reference}/review/", button="Send my request")
    visitor.submit(form="/pay/")
    event = checkout_completed(stack, visitor.last.headers["Location"], tag="_redis")
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


# --- Redis down while a family submits ---------------------------------------------------


def ready_to_send(stack, visitor):
    reference = family_with_draft(stack, visitor)
    for kind in ("referral", "record", "imaging"):
        upload(visitor, reference, kind, f"{kind}.pdf", files.referral_pdf())
    return reference


def run_task(stack, dotted):
    """Send a periodic task through the broker now, as beat does on its next tick."""
    module, name = dotted.rsplit(".", 1)
    stack.django(f"from {module} import {name} as t; t.delay(); print('ok')")


def test_redis_down_while_a_family_submits_the_request_is_committed_and_mail_goes_once(
    stack, visitor
):
    reference = ready_to_send(stack, visitor)
    stack.redis_stop()
    try:
        visitor.submit(f"/requests/{reference}/review/", button="Send my request")
        page = visitor.last.status_code, visitor.text()
        status = stack.sql(
            "SELECT status FROM intake_reviewrequest WHERE reference = %s", (reference,)
        )
    finally:
        stack.redis_start()

    assert page[0] == 200
    assert "Your request was sent" in page[1]
    assert status == [("awaiting_payment",)]
    queued = stack.sql(
        'SELECT count(*) FROM notifications_message WHERE "to" = %s', (visitor.email,)
    )[0][0]
    run_task(stack, "notifications.tasks.send_due_messages_task")
    mails = no_mail_twice(stack, visitor.email)
    assert len(mails) == queued  # the sign-up's and the request's, each once


# --- A worker SIGKILLed mid-task -------------------------------------------------------------


def kill_workers_when(stack, what, test, timeout=120, every=0.5):
    """SIGKILL every worker's pool process as soon as ``test()`` holds: the task running is
    lost mid-way; the worker's main process starts another pool process."""
    wait_for(what, test, timeout=timeout, every=every)
    for pid in stack.worker_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_while_drawing_previews_the_document_is_redone(stack, visitor):
    reference = family_with_draft(stack, visitor)
    accepted = upload(visitor, reference, "imaging", "study.zip", files.study_zip(16))
    document = accepted.json()["document"]["id"]
    state = "SELECT state FROM records_document WHERE id = %s"

    kill_workers_when(
        stack, "processing to start", lambda: stack.sql(state, (document,)) == [("processing",)]
    )

    time.sleep(3)  # the task, given back to the broker, finds the document claimed
    assert stack.sql(state, (document,)) == [("processing",)]
    # Thirty minutes later (simulated) the sweep beat runs takes the claim back.
    stack.sql(
        "UPDATE records_document SET processing_started_at = now() - interval '31 minutes', "
        "uploaded_at = now() - interval '31 minutes' WHERE id = %s",
        (document,),
    )
    run_task(stack, "records.tasks.process_waiting_documents_task")
    wait_for("the previews", lambda: stack.sql(state, (document,)) == [("ready",)])
    assert (
        stack.sql("SELECT count(*) FROM records_preview WHERE document_id = %s", (document,))[0][0]
        >= 1
    )
    assert objects_match_rows(stack) == []


def test_a_worker_killed_while_sending_an_email_sends_it_once(stack, visitor):
    email = f"parent{SLOW_MARK}{uuid.uuid4().hex[:6]}@example.org"
    visitor.submit(
        "/accounts/sign-up/",
        data={"full_name": "Jordan Rivera", "email": email, "password": PASSWORD},
    )
    query = 'SELECT status FROM notifications_message WHERE "to" = %s'

    # The SMTP catcher holds the message at RCPT for 6 s: the worker is killed meanwhile.
    kill_workers_when(stack, "the send", lambda: stack.sql(query, (email,)) == [("sending",)])

    time.sleep(8)
    assert stack.sql(query, (email,)) == [("sending",)]
    assert [m for m in stack.mails() if email in m["to"]] == []
    # Ten minutes later (simulated), the outbox sweep takes the claim back and sends it.
    stack.sql(
        "UPDATE notifications_message SET claimed_at = now() - interval '11 minutes' "
        'WHERE "to" = %s',
        (email,),
    )
    run_task(stack, "notifications.tasks.send_due_messages_task")
    wait_for("the message", lambda: stack.sql(query, (email,)) == [("sent",)])
    time.sleep(2)
    assert len([m for m in stack.mails() if email in m["to"]]) == 1


OVERDUE = """
import json, time_machine
from datetime import timedelta
from django.utils import timezone
from intake.lifecycle import Status
from tests.factories import DepartmentFactory, ReviewServiceFactory, UserFactory, review_request
# Factory sequences start again in each process: names made unique here.
department = DepartmentFactory(alerts_email="{inbox}", name="{tag}", slug="{tag}")
service = ReviewServiceFactory(department=department, name="{tag}", slug="{tag}")
family = UserFactory(email="{inbox}.family@example.org")
with time_machine.travel(timezone.now() - timedelta(days={days})):
    ids = [review_request(family=family, status=Status.SUBMITTED, service=service).pk
           for _ in range({count})]
print(json.dumps(ids))
"""


def overdue_requests(stack, count, *, days=12):
    """Requests submitted ``days`` ago in a department of their own: their target, escalation
    and breach alerts are all due. Returns their ids and the department's inbox."""
    tag = f"alerts-{uuid.uuid4().hex[:8]}"
    inbox = f"{tag}@hospital.example"
    out = stack.django(OVERDUE.format(inbox=inbox, tag=tag, days=days, count=count))
    return json.loads(out.splitlines()[-1]), inbox


def alerts_of(stack, ids):
    return stack.sql(
        "SELECT request_id, kind, late FROM reviews_deadlinealert WHERE request_id = ANY(%s)",
        (ids,),
    )


def no_mail_twice(stack, inbox):
    wait_for(
        "the outbox to empty",
        lambda: (
            stack.sql(
                "SELECT count(*) FROM notifications_message WHERE status <> 'sent' AND \"to\" = %s",
                (inbox,),
            )
            == [(0,)]
        ),
    )
    time.sleep(2)
    mails = [(m["to"], m["subject"]) for m in stack.mails() if inbox in m["to"]]
    assert len(mails) == len(set(mails))
    return mails


def test_a_worker_killed_in_the_deadline_sweep_every_alert_is_sent_once(stack):
    ids, inbox = overdue_requests(stack, 120)
    run_task(stack, "reviews.tasks.send_due_deadline_alerts_task")

    kill_workers_when(
        stack,
        "the sweep to be under way",
        lambda: len(alerts_of(stack, ids)) > 0,
        timeout=60,
        every=0.02,
    )

    assert len(alerts_of(stack, ids)) < 3 * len(ids)  # killed mid-way
    # The task is given back to the broker (acks late, rejected on a lost worker) and redone.
    wait_for("every alert", lambda: len(alerts_of(stack, ids)) == 3 * len(ids))
    # An e-mail whose send the kill interrupted stays claimed; ten minutes later (simulated)
    # the outbox sweep takes the claim back and sends it.
    time.sleep(3)
    stack.sql(
        "UPDATE notifications_message SET claimed_at = now() - interval '11 minutes' "
        "WHERE status = 'sending' AND \"to\" = %s",
        (inbox,),
    )
    run_task(stack, "notifications.tasks.send_due_messages_task")
    assert len(no_mail_twice(stack, inbox)) == 3 * len(ids)


# --- Beat down for six hours ------------------------------------------------------------------


def test_beat_down_for_six_hours_then_back_every_alert_fires_once_marked_late(stack):
    import shelve

    stack.beat_stop()
    try:
        ids, inbox = overdue_requests(stack, 20)
        # Six hours without beat: every entry of its schedule last ran six hours ago.
        with shelve.open(str(stack.beat_schedule), writeback=True) as schedule:  # noqa: S301
            for entry in schedule["entries"].values():
                entry.last_run_at -= timedelta(hours=6)
    finally:
        stack.beat_start()

    wait_for("the alerts", lambda: len(alerts_of(stack, ids)) == 3 * len(ids))
    assert {late for _, _, late in alerts_of(stack, ids)} == {True}
    assert len(no_mail_twice(stack, inbox)) == 3 * len(ids)
    time.sleep(3)
    # Once, not once per missed run: beat sends a late entry once when it returns.
    log = stack.procs["beat"].log.read_text()
    sent = log.rsplit("beat: Starting", 1)[1].count("send-due-deadline-alerts")
    assert sent == 1


# --- A webhook storm ----------------------------------------------------------------------


STORM = """
import json
from accounts.models import User
from billing.services import checkout_start
from intake.lifecycle import Status
from intake.models import ReviewService
from tests.factories import review_request
service = ReviewService.objects.get(slug="spine-document-review")
family = User.objects.create_user(email="{email}", password=None)
out = []
for _ in range({count}):
    request = review_request(family=family, status=Status.AWAITING_PAYMENT, service=service)
    payment = checkout_start(review_request=request, method="checkout", actor=family,
        success_url="http://127.0.0.1/ok", cancel_url="http://127.0.0.1/back")
    out.append([request.pk, payment.pk, payment.stripe_checkout_session_id])
print(json.dumps(out))
"""


def test_a_webhook_storm_leaves_every_payment_in_its_exact_state(stack):
    rng = random.Random(13)
    made = stack.django(STORM.format(email=f"storm-{uuid.uuid4().hex[:6]}@example.org", count=325))
    payments = json.loads(made.splitlines()[-1])
    genuine, outcome = [], {}
    for number, (request_id, payment_id, session_id) in enumerate(payments):
        session = requests.get(
            f"{stack.stripe_url}/v1/checkout/sessions/{session_id}", timeout=10
        ).json()
        pending = {**session, "status": "complete", "payment_status": "unpaid"}
        paid = {**pending, "payment_status": "paid", "payment_intent": f"pi_storm_{payment_id}"}
        genuine.append(event("checkout.session.completed", pending, f"{session_id}_done"))
        if number % 5 == 4:  # a fifth of the bank debits fail
            genuine.append(event("checkout.session.async_payment_failed", pending, session_id))
            outcome[payment_id] = ("failed", request_id, "awaiting_payment")
        else:
            genuine.append(event("checkout.session.async_payment_succeeded", paid, session_id))
            outcome[payment_id] = ("succeeded", request_id, "submitted")
    duplicates = [rng.choice(genuine) for _ in range(300)]
    forged = [(e, "wrong") for e in rng.sample(genuine, 25)] + [
        (e, "changed") for e in rng.sample(genuine, 25)
    ]
    deliveries = [(e, "good") for e in genuine + duplicates] + forged
    rng.shuffle(deliveries)
    assert len(deliveries) == 1000

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda d: send_event(stack, *d), deliveries))

    assert sorted(answers) == sorted(400 if how != "good" else 200 for _, how in deliveries)
    ids = list(outcome)
    states = dict(stack.sql("SELECT id, status FROM billing_payment WHERE id = ANY(%s)", (ids,)))
    requests_now = dict(
        stack.sql(
            "SELECT id, status FROM intake_reviewrequest WHERE id = ANY(%s)",
            ([r for _, r, _ in outcome.values()],),
        )
    )
    for payment_id, (state, request_id, request_state) in outcome.items():
        assert (states[payment_id], requests_now[request_id]) == (state, request_state)
    # Paid once: one move to submitted per request, one payment taken.
    moves = stack.sql(
        "SELECT request_id, count(*) FROM intake_requestevent WHERE to_status = 'submitted' "
        "AND request_id = ANY(%s) GROUP BY request_id",
        ([r for _, r, _ in outcome.values()],),
    )
    assert {count for _, count in moves} == {1}
    assert len(moves) == sum(1 for s, _, _ in outcome.values() if s == "succeeded")
    # Every delivery kept, the forged ones refused (no other test sends a forged one).
    assert stack.sql("SELECT count(*) FROM billing_webhookattempt WHERE outcome = 'rejected'") == [
        (50,)
    ]


def event(kind, obj, key):
    return stripe_event(kind, obj, f"evt_{kind.rsplit('.', 1)[1]}_{key}")


def send_event(stack, payload, how):
    if how == "wrong":
        return deliver(stack, payload, secret="whsec_not_stripes").status_code
    if how == "changed":
        changed = {**payload, "data": {"object": {**payload["data"]["object"], "amount_total": 1}}}
        raw = json.dumps(payload)
        header = stripe.WebhookSignature.generate_signature_header(raw, STRIPE_WEBHOOK_SECRET)
        return requests.post(
            f"{stack.url}/billing/stripe/webhook/",
            data=json.dumps(changed),
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            timeout=60,
        ).status_code
    return deliver(stack, payload).status_code
