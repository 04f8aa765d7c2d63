import pytest
from django.db import transaction
from django.urls import reverse

from billing.models import Payment, PaymentStatus, Refund
from billing.services import (
    PaymentRefused,
    payment_link_send,
    payment_record_phone,
    payment_refund,
    payments_reconcile,
)
from intake.lifecycle import Status
from notifications.models import Message
from tests.billing.conftest import charge_refunded, deliver, event, open_checkout
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_reconciliation_applies_a_payment_whose_webhook_was_lost_and_only_once(
    awaiting, family, standin
):
    payment = open_checkout(awaiting, family)
    standin.complete(payment.stripe_checkout_session_id)  # paid at Stripe; no webhook ever came

    first = payments_reconcile()
    second = payments_reconcile()

    awaiting.refresh_from_db()
    assert first == [awaiting.reference]
    assert second == []
    assert awaiting.status == Status.SUBMITTED
    assert awaiting.events.filter(to_status=Status.SUBMITTED).count() == 1
    assert Payment.objects.get().status == PaymentStatus.SUCCEEDED


def test_reconciliation_leaves_unpaid_sessions_and_frees_expired_ones(awaiting, family, standin):
    payment = open_checkout(awaiting, family)
    standin.sessions[payment.stripe_checkout_session_id]["status"] = "expired"

    assert payments_reconcile() == []

    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_a_late_webhook_after_reconciliation_changes_nothing(awaiting, family, standin):
    payment = open_checkout(awaiting, family)
    completed = standin.complete(payment.stripe_checkout_session_id)
    payments_reconcile()

    deliver(event("checkout.session.completed", completed))

    assert awaiting.events.filter(to_status=Status.SUBMITTED).count() == 1


@pytest.fixture
def paid_online(awaiting, family, standin):
    payment = open_checkout(awaiting, family)
    deliver(
        event("checkout.session.completed", standin.complete(payment.stripe_checkout_session_id))
    )
    payment.refresh_from_db()
    return payment


def test_a_full_online_refund_goes_through_stripe_once_and_ends_the_review(
    paid_online, admin_user, standin
):
    refund = payment_refund(
        payment=paid_online, amount_cents=50000, reason="Not eligible after all.", actor=admin_user
    )

    [call] = [r for r in standin.requests if r["path"] == "/v1/refunds"]
    assert call["params"]["amount"] == "50000"
    assert call["params"]["payment_intent"] == paid_online.stripe_payment_intent_id
    assert call["idempotency_key"] == f"portal-refund-{refund.pk}"
    paid_online.refresh_from_db()
    assert (paid_online.status, paid_online.refunded_cents) == (PaymentStatus.REFUNDED, 50000)
    paid_online.request.refresh_from_db()
    assert paid_online.request.status == Status.REFUNDED
    assert Refund.objects.get().stripe_refund_id.startswith("re_test_")


def test_stripes_own_refund_event_afterwards_counts_nothing_twice(paid_online, admin_user, standin):
    payment_refund(payment=paid_online, amount_cents=20000, reason="Goodwill.", actor=admin_user)

    deliver(charge_refunded(paid_online.stripe_payment_intent_id, 20000))

    paid_online.refresh_from_db()
    assert (paid_online.status, paid_online.refunded_cents) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        20000,
    )


def test_a_phone_payment_is_refunded_by_hand_without_stripe(
    awaiting, coordinator, admin_user, standin
):
    payment = payment_record_phone(
        review_request=awaiting, amount_cents=50000, reference="4242", note="", actor=coordinator
    )

    payment_refund(
        payment=payment, amount_cents=50000, reason="Cancelled by the family.", actor=admin_user
    )

    assert not [r for r in standin.requests if r["path"] == "/v1/refunds"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (60000, "Too much.", "Refund between $0.01 and $500.00."),
        (0, "Nothing.", "Refund between $0.01 and $500.00."),
        (100, "  ", "Say why the fee is refunded."),
    ],
)
def test_a_refund_out_of_bounds_or_without_a_reason_is_refused(
    paid_online, admin_user, amount, reason, message
):
    with pytest.raises(PaymentRefused, match=message.replace("$", r"\$").replace(".", r"\.")):
        payment_refund(payment=paid_online, amount_cents=amount, reason=reason, actor=admin_user)

    assert not Refund.objects.exists()


def test_a_refund_stripe_does_not_answer_stays_pending_and_is_retried_once(
    paid_online, admin_user, standin
):
    from datetime import timedelta

    from django.utils import timezone

    from billing.models import RefundStatus
    from billing.services import refunds_retry_pending

    standin.fail_next += ["/v1/refunds"] * 3

    with pytest.raises(PaymentRefused, match="Stripe did not answer"):
        payment_refund(payment=paid_online, amount_cents=20000, reason="Mistake.", actor=admin_user)
    with pytest.raises(
        PaymentRefused, match=r"between \$0.01 and \$300.00"
    ):  # the pending one counts
        payment_refund(payment=paid_online, amount_cents=50000, reason="Again.", actor=admin_user)
    Refund.objects.update(created_at=timezone.now() - timedelta(minutes=11))

    assert refunds_retry_pending() == 1

    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED
    keys = {r["idempotency_key"] for r in standin.requests if r["path"] == "/v1/refunds"}
    assert keys == {f"portal-refund-{refund.pk}"}
    paid_online.refresh_from_db()
    assert (paid_online.status, paid_online.refunded_cents) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        20000,
    )


def test_a_refund_stripe_refuses_is_explained_and_changes_nothing(paid_online, admin_user, standin):
    from billing.models import RefundStatus

    standin.intents[paid_online.stripe_payment_intent_id]["refunded"] = 45000  # refunded elsewhere

    with pytest.raises(PaymentRefused, match="Stripe did not refund"):
        payment_refund(payment=paid_online, amount_cents=10000, reason="Mistake.", actor=admin_user)

    assert Refund.objects.get().status == RefundStatus.FAILED
    paid_online.refresh_from_db()
    assert (paid_online.status, paid_online.refunded_cents) == (PaymentStatus.SUCCEEDED, 0)


def test_stripes_event_during_the_refund_is_not_counted_twice(paid_online, admin_user, standin):
    from billing.models import RefundStatus

    pending = Refund.objects.create(
        payment=paid_online, amount_cents=30000, reason="Partly.", recorded_by=admin_user
    )
    # Stripe's event reports the refund before the portal has settled its own row.
    deliver(charge_refunded(paid_online.stripe_payment_intent_id, 30000))
    Refund.objects.filter(pk=pending.pk).update(status=RefundStatus.SUCCEEDED)
    from billing.services import _lock, _refresh_refunded

    with transaction.atomic():
        request, payment = _lock(paid_online)
        _refresh_refunded(request, payment, actor=None)

    paid_online.refresh_from_db()
    assert Refund.objects.count() == 1
    assert (paid_online.status, paid_online.refunded_cents) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        30000,
    )
    paid_online.request.refresh_from_db()
    assert paid_online.request.status == Status.SUBMITTED


def test_money_refunded_in_stripes_dashboard_is_recorded(paid_online, standin):
    deliver(charge_refunded(paid_online.stripe_payment_intent_id, 5000))

    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.reason) == (5000, "Refunded in Stripe's dashboard.")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", "login"),
        ("family", 404),
        ("coordinator", 403),
        ("admin_user", 302),
        ("assigned_reviewer", 404),
    ],
)
def test_only_people_with_the_refund_permission_refund(
    request, client, paid_online, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("admin:billing_payment_refund", args=[paid_online.pk]),
        {"amount": "500.00", "reason": "Requested."},
    )

    outcome = (
        "login"
        if response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
        else response.status_code
    )
    assert outcome == expected
    assert Refund.objects.count() == (1 if expected == 302 else 0)


def test_a_coordinator_given_the_refund_permission_may_refund(client, coordinator, paid_online):
    from django.contrib.auth.models import Permission

    coordinator.user_permissions.add(Permission.objects.get(codename="refund_payment"))
    sign_in(client, coordinator)

    client.post(
        reverse("admin:billing_payment_refund", args=[paid_online.pk]),
        {"amount": "100", "reason": "Goodwill."},
    )

    assert Refund.objects.get().recorded_by == coordinator


def test_a_payment_link_is_e_mailed_with_the_link_and_nothing_else(awaiting, coordinator, standin):
    payment = payment_link_send(review_request=awaiting, actor=coordinator)

    message = Message.objects.get()
    assert payment.method == "link"
    assert message.to == awaiting.family.email
    assert payment.checkout_url in message.body
    assert awaiting.reference in message.body
    assert awaiting.service.name not in message.body


def test_the_coordinator_sends_a_payment_link_from_the_request_list(
    client, coordinator, awaiting, standin
):
    sign_in(client, coordinator)

    response = client.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "send_payment_link", "_selected_action": [awaiting.pk]},
        follow=True,
    )

    assert "Payment link sent" in response.content.decode()
    assert Payment.objects.get().method == "link"


def test_without_stripe_a_payment_link_cannot_be_sent(client, coordinator, awaiting):
    sign_in(client, coordinator)

    response = client.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "send_payment_link", "_selected_action": [awaiting.pk]},
        follow=True,
    )

    assert "Online payment is not set up" in response.content.decode()
    assert not Payment.objects.exists()
