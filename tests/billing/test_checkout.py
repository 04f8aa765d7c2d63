"""Paying online: the Pay button, Stripe Checkout through the stand-in, and the return page."""

import pytest
from django.urls import reverse

from billing.models import Payment, PaymentStatus
from intake.lifecycle import Status
from tests.billing.conftest import deliver, event, open_checkout
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def pay(client, request):
    return client.post(reverse("billing:pay", args=[request.reference]))


def test_pay_opens_a_checkout_for_the_fee_set_by_the_server(client, family, awaiting, standin):
    awaiting.service.fee_cents = 99900  # the price changed after the request was sent
    awaiting.service.save(update_fields=["fee_cents"])
    sign_in(client, family)

    response = pay(client, awaiting)

    [created] = standin.created_sessions()
    params = created["params"]
    assert response.status_code == 302
    assert response["Location"] == standin.sessions[response["Location"].rsplit("/", 1)[1]]["url"]
    assert params["mode"] == "payment"
    assert params["line_items"]["0"]["price_data"]["unit_amount"] == "50000"
    assert params["line_items"]["0"]["price_data"]["currency"] == "usd"
    assert params["metadata"]["request"] == awaiting.reference
    assert params["success_url"] == f"http://testserver/requests/{awaiting.reference}/paid/"
    assert created["idempotency_key"] == f"portal-checkout-{Payment.objects.get().pk}"
    assert created["authorization"] == "Bearer sk_test_portal"
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_cents, payment.method) == (
        PaymentStatus.PENDING,
        50000,
        "checkout",
    )


def test_no_patient_details_are_sent_to_stripe(client, family, awaiting, standin):
    sign_in(client, family)

    pay(client, awaiting)

    sent = repr(standin.created_sessions()[0]["params"])
    assert awaiting.service.name not in sent  # what the review is about stays with us
    assert family.email not in sent
    assert family.full_name not in sent


def test_a_double_click_makes_one_session(client, family, awaiting, standin):
    sign_in(client, family)

    first, second = pay(client, awaiting), pay(client, awaiting)

    assert first["Location"] == second["Location"]
    assert len(standin.created_sessions()) == 1
    assert Payment.objects.count() == 1


def test_a_retry_after_a_lost_answer_gets_the_same_session_from_stripe(family, awaiting, standin):
    first = open_checkout(awaiting, family)
    Payment.objects.filter(pk=first.pk).update(checkout_url="", stripe_checkout_session_id=None)

    again = open_checkout(awaiting, family)

    keys = [r["idempotency_key"] for r in standin.created_sessions()]
    assert keys == [keys[0], keys[0]]
    assert again.stripe_checkout_session_id == first.stripe_checkout_session_id
    assert len(standin.sessions) == 1


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("other_family", 404),
        ("coordinator", 404),
        ("admin_user", 404),
        ("assigned_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_the_family_of_the_request_starts_its_checkout(
    request, client, awaiting, standin, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))

    response = pay(client, awaiting)

    assert response.status_code == expected
    assert standin.created_sessions() == []
    assert not Payment.objects.exists()


def test_a_request_already_paid_is_not_charged_again(
    client, family, awaiting, standin, coordinator
):
    from billing.services import payment_record_phone

    payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )
    sign_in(client, family)

    response = pay(client, awaiting)

    assert response["Location"] == reverse("intake:request_detail", args=[awaiting.reference])
    assert standin.created_sessions() == []


def test_without_stripe_the_family_is_told_a_coordinator_will_call(client, family, awaiting):
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[awaiting.reference])).content.decode()

    assert "Our coordinator will call you to take the fee" in page
    assert "Pay $500 now" not in page
    assert pay(client, awaiting).status_code == 404


def test_with_stripe_the_family_sees_a_pay_button(client, family, awaiting, standin):
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[awaiting.reference])).content.decode()

    assert "Pay $500 now" in page


def test_the_return_page_waits_for_the_webhook_before_saying_paid(
    client, family, awaiting, standin
):
    sign_in(client, family)
    pay(client, awaiting)
    session_id = Payment.objects.get().stripe_checkout_session_id

    before = client.get(reverse("billing:paid", args=[awaiting.reference])).content.decode()
    deliver(event("checkout.session.completed", standin.complete(session_id)))
    after = client.get(reverse("billing:paid", args=[awaiting.reference])).content.decode()

    assert "Payment received, confirming" in before
    assert 'http-equiv="refresh"' in before
    awaiting.refresh_from_db()
    assert awaiting.status == Status.SUBMITTED
    assert "Thank you: your fee is paid" in after
    assert 'http-equiv="refresh"' not in after


def test_arriving_back_after_the_webhook_shows_paid_at_once(client, family, awaiting, standin):
    sign_in(client, family)
    pay(client, awaiting)
    deliver(
        event(
            "checkout.session.completed",
            standin.complete(Payment.objects.get().stripe_checkout_session_id),
        )
    )

    page = client.get(reverse("billing:paid", args=[awaiting.reference])).content.decode()

    assert "Thank you: your fee is paid" in page


def test_the_receipt_shows_what_was_paid_and_a_summary_for_an_insurer(
    client, family, awaiting, standin
):
    sign_in(client, family)
    pay(client, awaiting)
    deliver(
        event(
            "checkout.session.completed",
            standin.complete(Payment.objects.get().stripe_checkout_session_id),
        )
    )

    page = client.get(reverse("billing:receipt", args=[awaiting.reference])).content.decode()

    for text in (
        awaiting.reference,
        awaiting.service.name,
        "$500.00",
        "Online (Stripe Checkout)",
        "Summary for an HSA, FSA or insurer",
        "Not billed to insurance",
    ):
        assert text in page


def test_there_is_no_receipt_before_payment(client, family, awaiting):
    sign_in(client, family)

    assert client.get(reverse("billing:receipt", args=[awaiting.reference])).status_code == 404
