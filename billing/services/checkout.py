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
from intake.lifecycle import Status
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


# --- Closing the sessions a request no longer needs ------------------------------------------

# Stripe closes an unpaid Checkout Session by itself this long after it opened.
SESSION_LIFETIME = timedelta(hours=24)
# Statuses in which a request still owes its fee; it never comes back to them once past.
OWING = (Status.DRAFT, Status.AWAITING_PAYMENT)


def checkouts_expire_after_commit(*, request_id: int) -> None:
    """Once the current transaction commits, have a worker close the request's open Checkout
    pages: Stripe is never called in the request that paid or cancelled it. A task the broker
    could not take is not lost: the sweep (``checkouts_expire_leftover``) does the work."""
    transaction.on_commit(lambda: _enqueue_expiry(request_id))


def _enqueue_expiry(request_id: int) -> None:
    from billing.tasks import expire_open_checkouts_task

    # Most requests were never sent to Stripe: no task for them.
    if not _open_sessions().filter(request_id=request_id).exists():
        return
    try:
        expire_open_checkouts_task.delay(request_id=request_id)
    except Exception:
        logger.warning(
            "Closing the Checkout pages of request %s not enqueued; the sweep will do it.",
            request_id,
        )


def expire_open_checkouts(*, request_id: int) -> int:
    """Close the request's open Checkout pages at Stripe once it is paid or cancelled, so an
    old tab or e-mailed link cannot take the fee a second time. Safe to run twice: a closed
    page's payment is no longer pending, so a rerun finds nothing to do. Best effort: a page
    that still takes money is set aside "to refund" by the webhook."""
    return _expire(_open_sessions().filter(request_id=request_id))


def checkouts_expire_leftover(*, limit: int = 50) -> int:
    """The periodic sweep: close every open Checkout page of a request that no longer owes its
    fee. It catches what ``expire_open_checkouts_task`` missed: a task the broker never took,
    a worker that died, a session saved just after its request was paid. Pages Stripe has
    closed by itself (after a day) are left to Stripe's own events."""
    if not stripe_api.stripe_configured():
        return 0
    return _expire(_open_sessions().order_by("created_at")[:limit])


def _open_sessions():
    """Pending payments whose Checkout page may still be open at Stripe, of requests that no
    longer owe the fee (the payment index on status and created_at serves this)."""
    return (
        Payment.objects.filter(
            status=PaymentStatus.PENDING,
            stripe_checkout_session_id__isnull=False,
            created_at__gte=timezone.now() - SESSION_LIFETIME,
        )
        .exclude(request__status__in=OWING)
        .only("pk", "stripe_checkout_session_id")
    )


def _expire(open_payments) -> int:
    closed = 0
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
