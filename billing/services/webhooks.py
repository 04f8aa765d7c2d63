"""Stripe's webhooks: each event verified, handled once, tolerant of duplicates and of
events arriving out of order."""

import hashlib
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from billing import stripe_api
from billing.models import (
    TAKEN,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
    WebhookAttempt,
)
from billing.selectors import refund_requested_cents
from billing.services.locking import _lock
from billing.services.refunds import _refresh_refunded
from billing.services.totals import payment_share, payment_totals_move
from intake.lifecycle import Status
from intake.models import money
from intake.services import review_request_transition

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """Not a genuine, fresh event from Stripe (wrong secret, changed body, too old)."""


def stripe_webhook_receive(*, body: bytes, signature: str, ip_address: str) -> str:
    """Verify and handle one webhook delivery; returns the outcome. Each event id is handled
    once: its record is written in the same transaction as the handler's changes, so a
    duplicate (even a concurrent one) finds it and does nothing, and a handler error rolls
    the record back so Stripe's retry can succeed. Every delivery is kept as an attempt."""
    attempt = {
        "signature": signature[:500],
        "ip_address": ip_address or None,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    try:
        event = stripe.Webhook.construct_event(body, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as error:
        WebhookAttempt.objects.create(
            outcome=WebhookAttempt.Outcome.REJECTED, reason=str(error)[:300], **attempt
        )
        raise WebhookRejected from None
    attempt.update(event_id=event.id, event_type=event.type)
    obj = event.data.object.to_dict()  # plain data for the handlers
    handler = WEBHOOK_HANDLERS.get(event.type)
    if handler is None:
        WebhookAttempt.objects.create(outcome=WebhookAttempt.Outcome.IGNORED, **attempt)
        return WebhookAttempt.Outcome.IGNORED
    try:
        _prepare(event.type, obj)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    StripeEvent.objects.create(
                        event_id=event.id,
                        type=event.type,
                        object_id=obj.get("id", ""),
                    )
            except IntegrityError:
                outcome = WebhookAttempt.Outcome.DUPLICATE
            else:
                handler(obj)
                outcome = WebhookAttempt.Outcome.PROCESSED
    except Exception as error:
        WebhookAttempt.objects.create(
            outcome=WebhookAttempt.Outcome.FAILED, reason=type(error).__name__, **attempt
        )
        raise
    WebhookAttempt.objects.create(outcome=outcome, **attempt)
    return outcome


def _payment_of_session(session) -> Payment | None:
    payment = Payment.objects.filter(stripe_checkout_session_id=session["id"]).first()
    if payment is None:  # the webhook can beat the line that saves the session's id
        payment_id = (session.get("metadata") or {}).get("payment")
        payment = (
            Payment.objects.filter(pk=payment_id).first()
            if str(payment_id or "").isdigit()
            else None
        )
    return payment


def _checkout_paid(session) -> None:
    """Stripe says the session is paid: apply it to the request exactly once, or set it aside
    for a refund if it cannot pay the request (already paid, cancelled, wrong amount)."""
    found = _payment_of_session(session)
    if found is None:
        logger.warning("Paid Checkout Session %s matches no payment.", session["id"])
        return
    request, payment = _lock(found)
    if payment.status != PaymentStatus.PENDING:
        return  # already applied, set aside, or refunded before this arrived
    before = payment_share(payment)
    payment.stripe_checkout_session_id = session["id"]
    payment.stripe_payment_intent_id = session.get("payment_intent") or ""
    payment.succeeded_at = timezone.now()
    taken = (session.get("amount_total"), session.get("currency"))
    if taken != (payment.amount_cents, payment.currency):
        payment.status = PaymentStatus.TO_REFUND
        payment.attention = (
            f"Stripe took {money(taken[0] or 0, taken[1] or payment.currency)}; the fee is "
            f"{payment.amount_display}. Refund it and ask the family to pay again."
        )
    elif (
        request.status != Status.AWAITING_PAYMENT
        or request.payments.filter(status__in=TAKEN).exists()
    ):
        payment.status = PaymentStatus.TO_REFUND
        payment.attention = (
            f"Paid while the request was {request.get_status_display().lower()}: refund it."
        )
    else:
        payment.status = (
            PaymentStatus.PARTIALLY_REFUNDED if payment.refunded_cents else PaymentStatus.SUCCEEDED
        )
    payment.save(
        update_fields=[
            "stripe_checkout_session_id",
            "stripe_payment_intent_id",
            "succeeded_at",
            "status",
            "attention",
        ]
    )
    payment_totals_move(before=before, after=payment_share(payment))
    if payment.status in TAKEN:
        review_request_transition(
            review_request=request,
            to_status=Status.SUBMITTED,
            actor=None,
            note=gettext_noop("Fee of %(amount)s paid online."),
            note_params={"amount_cents": payment.amount_cents, "currency": payment.currency},
        )


def _checkout_completed(session) -> None:
    if session.get("payment_status") == "paid":
        _checkout_paid(session)
    # Otherwise a delayed method (bank debit) is on its way: the async events follow.


def _checkout_failed(session) -> None:
    found = _payment_of_session(session)
    if found is not None:
        Payment.objects.filter(pk=found.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED
        )


def _prepare(event_type: str, obj: dict) -> None:
    """Network work a handler needs, done before its transaction (never while holding locks):
    the metadata of the PaymentIntent behind a charge the portal cannot place yet."""
    if event_type not in {"charge.refunded", "charge.dispute.created"}:
        return
    intent = obj.get("payment_intent") or ""
    if intent and not Payment.objects.filter(stripe_payment_intent_id=intent).exists():
        found = stripe_api.client().v1.payment_intents.retrieve(intent).to_dict()
        obj["_intent_metadata"] = found.get("metadata") or {}


def _payment_of_charge(charge) -> Payment | None:
    intent = charge.get("payment_intent") or ""
    matches = Q(pk__in=[])
    if charge.get("id"):
        matches |= Q(stripe_charge_id=charge["id"])
    if intent:
        matches |= Q(stripe_payment_intent_id=intent)
    payment = Payment.objects.filter(matches).first()
    if payment is None and intent:
        # The refund came before the payment's own event: the intent names our payment.
        metadata = charge.get("_intent_metadata") or {}
        payment_id = metadata.get("payment", "")
        payment = (
            Payment.objects.filter(
                pk=payment_id, request__reference=metadata.get("request", "")
            ).first()
            if payment_id.isdigit()
            else None
        )
    return payment


def _charge_refunded(charge) -> None:
    """Stripe's running total of refunds on a charge. The portal's own refund rows are the
    record; money Stripe refunded beyond them (from Stripe's dashboard) is added as a row.
    Pending rows count as covered: their answer may be what this event reports."""
    found = _payment_of_charge(charge)
    if found is None:
        logger.warning("Refunded charge %s matches no payment.", charge["id"])
        return
    request, payment = _lock(found)
    payment.stripe_charge_id = charge["id"]
    payment.save(update_fields=["stripe_charge_id"])
    known = refund_requested_cents(payment=payment)
    beyond = min(charge.get("amount_refunded") or 0, payment.amount_cents) - known
    if beyond > 0:
        Refund.objects.create(
            payment=payment,
            amount_cents=beyond,
            status=RefundStatus.SUCCEEDED,
            reason="Refunded in Stripe's dashboard.",
        )
    _refresh_refunded(request, payment, actor=None)


def _dispute_created(dispute) -> None:
    found = _payment_of_charge(
        {
            "id": dispute.get("charge") or "",
            "payment_intent": dispute.get("payment_intent"),
            "_intent_metadata": dispute.get("_intent_metadata"),
        }
    )
    if found is None:
        return
    _, payment = _lock(found)
    flag = "The card holder disputed this payment: answer the dispute in Stripe."
    payment.attention = f"{payment.attention} {flag}".strip()[:300]
    payment.save(update_fields=["attention"])


WEBHOOK_HANDLERS = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_paid,
    "checkout.session.async_payment_failed": _checkout_failed,
    "checkout.session.expired": _checkout_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}
