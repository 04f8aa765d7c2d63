"""Refunds: written first under the payment's lock, then asked of Stripe (or recorded, for
phone payments); pending ones retried with the same idempotency key."""

from datetime import timedelta

import stripe
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from billing import stripe_api
from billing.models import TAKEN, Payment, PaymentMethod, PaymentStatus, Refund, RefundStatus
from billing.selectors import payment_refundable_cents
from billing.services.errors import PaymentRefused
from billing.services.locking import _lock
from billing.services.totals import payment_share, payment_totals_move
from intake.lifecycle import TRANSITIONS, Status
from intake.models import RequestEvent, ReviewRequest, money
from intake.services import review_request_event_add, review_request_transition


def payment_refund(*, payment: Payment, amount_cents: int, reason: str, actor: User) -> Refund:
    """Give back all or part of a payment. The refund is written first (pending), under the
    payment's lock, counting every refund not refused: a second submission, even at the same
    instant, cannot pass what is left. Online payments go to Stripe with the refund's own row as
    idempotency key; an unclear answer (no connection) leaves it pending, to be retried with the
    same key, never refunded twice. Phone payments are recorded (the money goes back on the
    card terminal). A full refund of the payment that paid a request ends its review."""
    if not reason.strip():
        raise PaymentRefused("Say why the fee is refunded.")
    with transaction.atomic():
        _, payment = _lock(payment)
        if payment.status not in (*TAKEN, PaymentStatus.TO_REFUND):
            raise PaymentRefused("This payment has nothing left to refund.")
        left = payment_refundable_cents(payment=payment)
        if left == 0:
            raise PaymentRefused(
                "Nothing is left to refund: the rest is refunded or pending at Stripe."
            )
        if not 0 < amount_cents <= left:
            raise PaymentRefused(f"Refund between $0.01 and {money(left, payment.currency)}.")
        refund = Refund.objects.create(
            payment=payment, amount_cents=amount_cents, reason=reason.strip(), recorded_by=actor
        )
    if payment.method == PaymentMethod.PHONE:
        return _refund_settled(refund, RefundStatus.SUCCEEDED, actor=actor)
    return _refund_at_stripe(refund, actor=actor)


def _refund_at_stripe(refund: Refund, *, actor) -> Refund:
    payment = refund.payment
    try:
        answer = stripe_api.client().v1.refunds.create(
            params={
                "payment_intent": payment.stripe_payment_intent_id,
                "amount": refund.amount_cents,
                "metadata": {"request": payment.request.reference, "refund": str(refund.pk)},
            },
            options={"idempotency_key": f"portal-refund-{refund.pk}"},
        )
    except (stripe.APIConnectionError, stripe.APIError):
        raise PaymentRefused(
            "Stripe did not answer. The refund is pending and will be retried; "
            "do not refund it again."
        ) from None
    except stripe.StripeError as error:
        _refund_settled(refund, RefundStatus.FAILED, actor=actor)
        raise PaymentRefused(
            f"Stripe did not refund: {error.user_message or type(error).__name__}."
        ) from None
    Refund.objects.filter(pk=refund.pk).update(stripe_refund_id=answer.id)
    return _refund_settled(refund, RefundStatus.SUCCEEDED, actor=actor)


def _refund_settled(refund: Refund, status: str, *, actor) -> Refund:
    with transaction.atomic():
        request, payment = _lock(refund.payment)
        Refund.objects.filter(pk=refund.pk).update(status=status)
        _refresh_refunded(request, payment, actor=actor)
    refund.refresh_from_db()
    return refund


def refunds_retry_pending() -> int:
    """Ask Stripe again about refunds whose answer never came (same idempotency key: Stripe
    answers with the first result, never a second refund)."""
    retried = 0
    for refund in Refund.objects.filter(
        status=RefundStatus.PENDING,
        stripe_refund_id__isnull=True,
        payment__method__in=(PaymentMethod.CHECKOUT, PaymentMethod.LINK),
        created_at__lt=timezone.now() - timedelta(minutes=10),
    ).select_related("payment__request"):
        try:
            _refund_at_stripe(refund, actor=None)
        except PaymentRefused:
            continue
        retried += 1
    return retried


def _refresh_refunded(request: ReviewRequest, payment: Payment, *, actor) -> None:
    """Set the payment's refunded total and status from its succeeded refunds (both locked by
    the caller). A full refund of the payment that paid the request ends its review; a refund
    before the payment arrived means it never pays."""
    before = payment_share(payment)
    refunded = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(
        total=Sum("amount_cents")
    )["total"]
    payment.refunded_cents = min(refunded or 0, payment.amount_cents)
    was_taken = payment.status in TAKEN
    full = payment.refunded_cents >= payment.amount_cents
    if full:
        payment.status = PaymentStatus.REFUNDED
    elif was_taken and payment.refunded_cents:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    payment.save(update_fields=["refunded_cents", "status"])
    payment_totals_move(before=before, after=payment_share(payment))
    if full and was_taken:
        _end_request_refunded(request, actor=actor)


def _end_request_refunded(request: ReviewRequest, *, actor) -> None:
    if Status.REFUNDED in TRANSITIONS[Status(request.status)] and request.submitted_at is not None:
        review_request_transition(
            review_request=request,
            to_status=Status.REFUNDED,
            actor=actor,
            note=gettext_noop("The fee was refunded in full."),
        )
    elif request.status == Status.DRAFT:
        # Paid in advance on the phone, refunded before the family sent it: it owes the fee
        # again when sent, and the timeline says why.
        review_request_event_add(
            review_request=request,
            kind=RequestEvent.Kind.PAYMENT,
            note=gettext_noop(
                "The fee paid by phone was refunded in full; it is due again when you send "
                "your request."
            ),
            actor=actor,
        )
