"""Every webhook case, each with the exact final state."""

import json
import threading
import time

import pytest
from django.db import close_old_connections, connection

from billing.models import Payment, PaymentStatus, StripeEvent, WebhookAttempt
from billing.services import payment_record_phone
from intake.lifecycle import Status
from tests.billing.conftest import charge_refunded, deliver, event, open_checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(awaiting, family, standin):
    """An open Checkout for the request, and the stand-in's copy of it."""
    payment = open_checkout(awaiting, family)
    return standin.sessions[payment.stripe_checkout_session_id]


def state(awaiting):
    awaiting.refresh_from_db()
    payment = Payment.objects.get(request=awaiting, method="checkout")
    return awaiting.status, payment.status


def paid_events(awaiting):
    return awaiting.events.filter(to_status=Status.SUBMITTED).count()


def test_a_paid_checkout_moves_the_request_on_once_and_records_the_event(
    awaiting, session, standin
):
    response = deliver(
        event("checkout.session.completed", standin.complete(session["id"]), "evt_paid")
    )

    assert response.status_code == 200
    assert state(awaiting) == (Status.SUBMITTED, PaymentStatus.SUCCEEDED)
    assert awaiting.due_target_at is not None
    assert StripeEvent.objects.get().event_id == "evt_paid"
    assert WebhookAttempt.objects.get().outcome == "processed"
    assert Payment.objects.get().stripe_payment_intent_id.startswith("pi_test_")


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("wrong-secret", {"secret": "whsec_someone_else"}),
        ("stale", {"timestamp": int(time.time()) - 301}),
    ],
)
def test_a_forged_or_stale_delivery_is_refused_changes_nothing_and_is_kept(
    awaiting, session, standin, case, kwargs
):
    response = deliver(
        event("checkout.session.completed", standin.complete(session["id"])), **kwargs
    )

    assert response.status_code == 400
    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.PENDING)
    assert not StripeEvent.objects.exists()
    attempt = WebhookAttempt.objects.get()
    assert attempt.outcome == "rejected"
    assert attempt.body_sha256


def test_a_body_changed_after_signing_is_refused(awaiting, session, standin):
    genuine = event("checkout.session.completed", standin.complete(session["id"]))
    tampered = json.loads(json.dumps(genuine))
    tampered["data"]["object"]["amount_total"] = 1

    response = deliver(genuine, body=json.dumps(tampered).encode())

    assert response.status_code == 400
    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.PENDING)


def test_a_duplicate_delivery_answers_ok_and_has_no_second_effect(awaiting, session, standin):
    paid = event("checkout.session.completed", standin.complete(session["id"]), "evt_twice")
    deliver(paid)

    response = deliver(paid)

    assert response.status_code == 200
    assert paid_events(awaiting) == 1
    assert list(WebhookAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "processed",
        "duplicate",
    ]


def test_a_completion_not_yet_paid_waits_for_the_delayed_payment(awaiting, session, standin):
    unpaid = standin.complete(session["id"], paid=False)
    deliver(event("checkout.session.completed", unpaid))
    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.PENDING)

    deliver(event("checkout.session.async_payment_succeeded", {**unpaid, "payment_status": "paid"}))

    assert state(awaiting) == (Status.SUBMITTED, PaymentStatus.SUCCEEDED)


def test_a_delayed_payment_that_fails_leaves_the_request_unpaid(awaiting, session, standin):
    unpaid = standin.complete(session["id"], paid=False)
    deliver(event("checkout.session.completed", unpaid))

    deliver(event("checkout.session.async_payment_failed", unpaid))

    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.FAILED)


def test_a_wrong_amount_or_currency_is_set_aside_for_a_refund_and_pays_nothing(
    awaiting, session, standin
):
    deliver(event("checkout.session.completed", standin.complete(session["id"], amount_total=100)))

    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.TO_REFUND)
    assert "Stripe took $1.00; the fee is $500.00" in Payment.objects.get().attention


def test_a_refund_arriving_before_the_completion_never_leaves_the_request_paid(
    awaiting, session, standin
):
    completed = standin.complete(session["id"])
    deliver(charge_refunded(completed["payment_intent"], 50000, charge_id="ch_test_1"))
    deliver(event("checkout.session.completed", completed))

    assert state(awaiting) == (Status.AWAITING_PAYMENT, PaymentStatus.REFUNDED)
    assert paid_events(awaiting) == 0


def test_a_full_refund_after_payment_ends_the_request(awaiting, session, standin):
    completed = standin.complete(session["id"])
    deliver(event("checkout.session.completed", completed))

    deliver(charge_refunded(completed["payment_intent"], 50000))

    assert state(awaiting) == (Status.REFUNDED, PaymentStatus.REFUNDED)


def test_a_partial_refund_keeps_the_request_going(awaiting, session, standin):
    completed = standin.complete(session["id"])
    deliver(event("checkout.session.completed", completed))

    deliver(charge_refunded(completed["payment_intent"], 10000))

    assert state(awaiting) == (Status.SUBMITTED, PaymentStatus.PARTIALLY_REFUNDED)
    assert Payment.objects.get().refunded_cents == 10000


def test_a_dispute_is_flagged_for_the_coordinator(awaiting, session, standin):
    completed = standin.complete(session["id"])
    deliver(event("checkout.session.completed", completed))

    deliver(
        event(
            "charge.dispute.created",
            {
                "id": "dp_1",
                "object": "dispute",
                "charge": "ch_1",
                "payment_intent": completed["payment_intent"],
            },
        )
    )

    assert "disputed" in Payment.objects.get().attention


def test_a_handler_that_fails_leaves_no_trace_so_stripes_retry_succeeds(awaiting, session, standin):
    completed = standin.complete(session["id"])
    refund = charge_refunded(completed["payment_intent"], 50000, event_id="evt_retried")
    # Stripe's library retries twice: the stand-in fails all three tries.
    standin.fail_next += [f"/v1/payment_intents/{completed['payment_intent']}"] * 3

    with pytest.raises(Exception):  # noqa: B017, PT011 (the error Stripe sees as a 500)
        deliver(refund)
    assert not StripeEvent.objects.filter(event_id="evt_retried").exists()

    response = deliver(refund)

    assert response.status_code == 200
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert list(WebhookAttempt.objects.order_by("pk").values_list("outcome", flat=True)) == [
        "failed",
        "processed",
    ]


def test_a_phone_payment_while_a_checkout_is_open_leaves_one_payment_and_flags_the_other(
    awaiting, session, standin, coordinator
):
    payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )

    deliver(event("checkout.session.completed", standin.complete(session["id"])))

    awaiting.refresh_from_db()
    assert awaiting.status == Status.SUBMITTED
    assert paid_events(awaiting) == 1
    statuses = dict(Payment.objects.values_list("method", "status"))
    assert statuses == {"phone": PaymentStatus.SUCCEEDED, "checkout": PaymentStatus.TO_REFUND}
    assert "refund it" in Payment.objects.get(method="checkout").attention


def test_events_the_portal_does_not_handle_are_acknowledged_and_noted(awaiting, standin):
    response = deliver(event("customer.created", {"id": "cus_1", "object": "customer"}))

    assert response.status_code == 200
    assert WebhookAttempt.objects.get().outcome == "ignored"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_one_event_at_the_same_instant_have_one_effect(family, standin):
    from tests.factories import review_request

    request = review_request(family=family, status=Status.AWAITING_PAYMENT)
    payment = open_checkout(request, family)
    paid = event(
        "checkout.session.completed",
        standin.complete(payment.stripe_checkout_session_id),
        "evt_race",
    )
    started = threading.Barrier(2)
    codes = []

    def send():
        started.wait()
        try:
            codes.append(deliver(paid).status_code)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert codes == [200, 200]
    assert request.events.filter(to_status=Status.SUBMITTED).count() == 1
    assert StripeEvent.objects.filter(event_id="evt_race").count() == 1
    outcomes = sorted(WebhookAttempt.objects.values_list("outcome", flat=True))
    assert outcomes == ["duplicate", "processed"]
