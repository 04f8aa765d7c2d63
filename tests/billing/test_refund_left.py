"""What is left to refund: the refund page offers exactly what the refund service accepts,
a refund still pending at Stripe included."""

import pytest
from django.urls import reverse

from billing.models import Refund, RefundStatus
from billing.services import PaymentRefused, payment_refund
from tests.billing.conftest import deliver, event, open_checkout
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_with_pending_refund(awaiting, family, admin_user, standin):
    """A $500 online payment with a $200 refund Stripe never answered (it stays pending)."""
    payment = open_checkout(awaiting, family)
    deliver(
        event("checkout.session.completed", standin.complete(payment.stripe_checkout_session_id))
    )
    standin.fail_next += ["/v1/refunds"] * 3  # the library's first try and its two retries
    with pytest.raises(PaymentRefused, match="Stripe did not answer"):
        payment_refund(payment=payment, amount_cents=20000, reason="Mistake.", actor=admin_user)
    payment.refresh_from_db()
    assert Refund.objects.get().status == RefundStatus.PENDING
    return payment


def test_the_refund_page_offers_what_is_left_after_a_refund_pending_at_stripe(
    client, admin_user, paid_with_pending_refund
):
    sign_in(client, admin_user)

    response = client.get(
        reverse("admin:billing_payment_refund", args=[paid_with_pending_refund.pk])
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="amount" value="300.00"' in page
    assert "$300.00 left to refund" in page
    assert "$200.00 asked of Stripe is still pending" in page


def test_the_refund_service_refuses_a_cent_more_than_the_page_offers(
    admin_user, paid_with_pending_refund, standin
):
    with pytest.raises(PaymentRefused, match=r"Refund between \$0\.01 and \$300\.00\."):
        payment_refund(
            payment=paid_with_pending_refund,
            amount_cents=30001,
            reason="Too much.",
            actor=admin_user,
        )
    assert Refund.objects.count() == 1

    refund = payment_refund(
        payment=paid_with_pending_refund, amount_cents=30000, reason="The rest.", actor=admin_user
    )

    assert refund.status == RefundStatus.SUCCEEDED


def test_submitting_the_offered_amount_from_the_page_refunds_it(
    client, admin_user, paid_with_pending_refund
):
    sign_in(client, admin_user)
    url = reverse("admin:billing_payment_refund", args=[paid_with_pending_refund.pk])

    client.post(url, {"amount": "300.01", "reason": "Too much."})
    response = client.post(url, {"amount": "300.00", "reason": "The rest."})

    assert response.status_code == 302
    assert sorted(Refund.objects.values_list("amount_cents", "status")) == [
        (20000, RefundStatus.PENDING),
        (30000, RefundStatus.SUCCEEDED),
    ]


def test_with_everything_refunded_or_pending_the_service_says_nothing_is_left(
    admin_user, paid_with_pending_refund
):
    payment_refund(
        payment=paid_with_pending_refund, amount_cents=30000, reason="The rest.", actor=admin_user
    )

    with pytest.raises(PaymentRefused, match="Nothing is left to refund"):
        payment_refund(
            payment=paid_with_pending_refund, amount_cents=1, reason="More.", actor=admin_user
        )
