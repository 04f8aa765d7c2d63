"""Stripe Checkout: the session a family (or an e-mailed link) pays on, and closing the
sessions a request no longer needs."""

import logging
from datetime import timedelta

import stripe
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from billing import stripe_api
from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.services.errors import PaymentRefused
from billing.services.locking import _lock_awaiting_payment
from intake.models import ReviewRequest

logger = logging.getLogger(__name__)


# Stripe keeps a Checkout Session open for 24 hours; an open one is offered again until then.
CHECKOUT_REUSE = timedelta(hours=23)


def checkout_start(
    *, review_request: ReviewRequest, method: str, success_url: str, cancel_url: str, actor: User
) -> Payment:
    """An open Stripe Checkout Session for the fee the request owes, on a pending payment.
    A double click or a retry gets the same session: the pending payment is reused, and the
    idempotency key (the payment's id) makes Stripe answer two racing calls with one session.
    Only the server sets the amount. Stripe is called outside any database transaction."""
    with transaction.atomic():
        request = _lock_awaiting_payment(review_request)
        payment = (
            Payment.objects.filter(
                request=request,
                method__in=(PaymentMethod.CHECKOUT, PaymentMethod.LINK),
                status=PaymentStatus.PENDING,
                created_at__gte=timezone.now() - CHECKOUT_REUSE,
            )
            .order_by("-created_at")
            .first()
        )
        if payment is None:
            payment = Payment.objects.create(
                request=request,
                method=method,
                amount_cents=request.fee_cents,
                currency=request.currency,
                recorded_by=actor if actor.is_staff_member else None,
            )
    if payment.checkout_url:
        return payment
    try:
        session = stripe_api.client().v1.checkout.sessions.create(
            params=_checkout_params(request, payment, success_url, cancel_url),
            options={"idempotency_key": f"portal-checkout-{payment.pk}"},
        )
    except stripe.StripeError:
        # Stripe remembers an idempotency key's error too: this payment is dropped, and the next
        # click starts afresh with a new one.
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED
        )
        logger.warning("Stripe refused or did not answer a Checkout for %s.", request.reference)
        phone = request.service.department.phone
        raise PaymentRefused(
            f"Online payment is not available right now. Please try again later, or call {phone}."
        ) from None
    Payment.objects.filter(pk=payment.pk).update(
        stripe_checkout_session_id=session.id, checkout_url=session.url
    )
    payment.refresh_from_db()
    return payment


def _checkout_params(
    request: ReviewRequest, payment: Payment, success_url: str, cancel_url: str
) -> dict:
    names = {"request": request.reference, "payment": str(payment.pk)}
    return {
        "mode": "payment",
        "client_reference_id": request.reference,
        # A plain name: what the review is about is nobody's business at the card company.
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": payment.currency,
                    "unit_amount": payment.amount_cents,
                    "product_data": {"name": f"Second-opinion document review {request.reference}"},
                },
            }
        ],
        "metadata": names,
        "payment_intent_data": {"metadata": names},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }


def expire_open_checkouts(*, request_id: int) -> int:
    """Close the request's open Checkout pages at Stripe once it is paid or cancelled, so an
    old tab or e-mailed link cannot take the fee a second time. Best effort: a page that
    still takes money is set aside "to refund" by the webhook."""
    closed = 0
    open_payments = Payment.objects.filter(
        request_id=request_id,
        status=PaymentStatus.PENDING,
        stripe_checkout_session_id__isnull=False,
    )
    for payment in open_payments:
        try:
            stripe_api.client().v1.checkout.sessions.expire(payment.stripe_checkout_session_id)
        except stripe.StripeError:
            logger.warning("Checkout Session of payment %s could not be expired.", payment.pk)
            continue
        closed += Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED
        )
    return closed
