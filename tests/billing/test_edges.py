"""The edges of paying: outages, stale pages, early refunds, cancellations, e-mails."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse

from billing.models import Payment, PaymentStatus, Refund, StripeEvent, WebhookAttempt
from billing.services import payment_record_phone, payment_refund
from intake.lifecycle import Status
from notifications.models import Message
from tests.billing.conftest import charge_refunded, deliver, event, open_checkout
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_a_stripe_outage_tells_the_family_to_try_later_and_the_next_click_starts_afresh(
    client, family, awaiting, standin
):
    sign_in(client, family)
    standin.fail_next += ["/v1/checkout/sessions"] * 3

    response = client.post(reverse("billing:pay", args=[awaiting.reference]), follow=True)
    again = client.post(reverse("billing:pay", args=[awaiting.reference]))

    assert "Online payment is not available right now" in response.content.decode()
    assert awaiting.service.department.phone in response.content.decode()
    keys = [r["idempotency_key"] for r in standin.created_sessions()]
    assert keys[0] != keys[-1]  # the failed key is never replayed
    assert again["Location"].startswith("https://checkout.stripe.com/")
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["failed", "pending"]


def test_an_expired_checkout_frees_the_family_to_pay_again(awaiting, family, standin):
    first = open_checkout(awaiting, family)
    standin.sessions[first.stripe_checkout_session_id]["status"] = "expired"

    deliver(event("checkout.session.expired", standin.sessions[first.stripe_checkout_session_id]))
    second = open_checkout(awaiting, family)

    first.refresh_from_db()
    assert first.status == PaymentStatus.FAILED
    assert second.stripe_checkout_session_id != first.stripe_checkout_session_id


def test_a_different_currency_is_set_aside_for_a_refund(awaiting, family, standin):
    payment = open_checkout(awaiting, family)

    deliver(
        event(
            "checkout.session.completed",
            standin.complete(payment.stripe_checkout_session_id, currency="eur"),
        )
    )

    payment.refresh_from_db()
    awaiting.refresh_from_db()
    assert (awaiting.status, payment.status) == (Status.AWAITING_PAYMENT, PaymentStatus.TO_REFUND)


def test_a_partial_refund_before_completion_is_kept_and_the_request_is_paid(
    awaiting, family, standin
):
    payment = open_checkout(awaiting, family)
    completed = standin.complete(payment.stripe_checkout_session_id)

    deliver(charge_refunded(completed["payment_intent"], 10000))
    deliver(event("checkout.session.completed", completed))

    payment.refresh_from_db()
    awaiting.refresh_from_db()
    assert (awaiting.status, payment.status, payment.refunded_cents) == (
        Status.SUBMITTED,
        PaymentStatus.PARTIALLY_REFUNDED,
        10000,
    )


def test_a_tampered_body_is_kept_as_a_rejected_attempt_and_records_no_event(
    awaiting, family, standin
):
    import json

    payment = open_checkout(awaiting, family)
    genuine = event(
        "checkout.session.completed", standin.complete(payment.stripe_checkout_session_id)
    )
    tampered = json.dumps({**genuine, "type": "charge.refunded"}).encode()

    response = deliver(genuine, body=tampered)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert WebhookAttempt.objects.get().outcome == "rejected"


def test_cancelling_a_paid_request_flags_its_payment_for_a_refund(awaiting, coordinator):
    from intake.services import review_request_transition

    payment = payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )

    review_request_transition(
        review_request=awaiting,
        to_status=Status.CANCELLED,
        actor=coordinator,
        note="The family withdrew.",
    )

    payment.refresh_from_db()
    assert payment.attention == "The request was cancelled after it was paid: refund the fee."


def test_the_family_is_e_mailed_when_the_fee_arrives_and_when_it_is_refunded(
    awaiting, coordinator, admin_user
):
    Message.objects.all().delete()
    payment = payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )
    payment_refund(payment=payment, amount_cents=50000, reason="Withdrew.", actor=admin_user)

    mails = list(Message.objects.order_by("pk").values_list("to", "template"))
    assert mails == [(awaiting.family.email, "request_update")] * 2


def test_the_receipt_after_a_refund_shows_the_net_amount(
    client, family, awaiting, coordinator, admin_user
):
    payment = payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )
    payment_refund(payment=payment, amount_cents=50000, reason="Withdrew.", actor=admin_user)
    sign_in(client, family)

    page = client.get(reverse("billing:receipt", args=[awaiting.reference])).content.decode()

    assert "Refunded" in page
    assert "$0.00 (after a refund of $500.00)" in page


def test_the_return_page_explains_a_failed_payment_instead_of_waiting(
    client, family, awaiting, standin
):
    payment = open_checkout(awaiting, family)
    deliver(
        event(
            "checkout.session.async_payment_failed",
            standin.complete(payment.stripe_checkout_session_id, paid=False),
        )
    )
    sign_in(client, family)

    page = client.get(reverse("billing:paid", args=[awaiting.reference])).content.decode()

    assert "The payment did not go through" in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("other_family", 404),
        ("unassigned_reviewer", 404),
        ("assigned_reviewer", 404),
    ],
)
def test_nobody_else_refunds(request, client, awaiting, coordinator, persona, expected):
    payment = payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("admin:billing_payment_refund", args=[payment.pk]), {"amount": "500", "reason": "x"}
    )

    assert response.status_code == expected
    assert not Refund.objects.exists()


@pytest.mark.parametrize(
    ("persona", "sent"),
    [
        ("coordinator", True),
        ("admin_user", True),
        ("family", False),
        ("assigned_reviewer", False),
    ],
)
def test_only_coordinators_and_admins_send_payment_links(
    request, client, awaiting, standin, persona, sent
):
    sign_in(client, request.getfixturevalue(persona))

    client.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "send_payment_link", "_selected_action": [awaiting.pk]},
    )

    assert Payment.objects.filter(method="link").exists() is sent


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_the_same_instant_make_one_checkout(family, standin):
    from django.test import Client

    from tests.factories import review_request

    request = review_request(family=family, status=Status.AWAITING_PAYMENT)
    started = threading.Barrier(2)
    places = []

    def click():
        browser = Client()
        sign_in(browser, family)
        started.wait()
        try:
            places.append(
                browser.post(reverse("billing:pay", args=[request.reference]))["Location"]
            )
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(places) == 2
    assert places[0] == places[1]
    assert len(standin.sessions) == 1
    assert Payment.objects.filter(request=request).count() == 1
