"""Every write to payments: by phone, through Stripe Checkout and its webhooks, reconciliation,
refunds and payment links. The same rules hold throughout: one taken payment per request, the
request moved on exactly once, Stripe called outside database transactions."""

import hashlib
import logging
from datetime import timedelta

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from billing import stripe_api
from billing.models import (
    TAKEN,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
    WebhookAttempt,
)
from billing.selectors import payment_refundable_cents, refund_requested_cents
from intake.lifecycle import TRANSITIONS, Status
from intake.models import RequestEvent, ReviewRequest, money
from intake.services import review_request_event_add, review_request_transition
from notifications.services import message_queue

logger = logging.getLogger(__name__)


class PaymentRefused(Exception):
    """The payment cannot be recorded; the message says why, for the coordinator."""


def _lock_payable(review_request: ReviewRequest) -> ReviewRequest:
    """The request, locked, if a coordinator may take its fee by phone: awaiting payment, or
    a draft a coordinator started with the family on the phone (paid in advance)."""
    request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    advance = request.status == Status.DRAFT and request.started_by_coordinator
    return _check_unpaid(request, payable=advance or request.status == Status.AWAITING_PAYMENT)


def _lock_awaiting_payment(review_request: ReviewRequest) -> ReviewRequest:
    request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    return _check_unpaid(request, payable=request.status == Status.AWAITING_PAYMENT)


def _check_unpaid(request: ReviewRequest, *, payable: bool) -> ReviewRequest:
    if not payable:
        raise PaymentRefused(
            f"{request.reference} is {request.get_status_display().lower()}, not awaiting payment."
        )
    if Payment.objects.filter(request=request, status__in=TAKEN).exists():
        raise PaymentRefused(f"{request.reference} is already paid.")
    return request


def payment_record_phone(
    *, review_request: ReviewRequest, amount_cents: int, reference: str, note: str, actor: User
) -> Payment:
    """Record the fee a coordinator took by phone, and move the request on (its review clock
    starts). Refused unless the request awaits payment and has none taken; a race with
    another payment is stopped by the one-taken-payment rule of the database.

    On a draft (a request the coordinator started on the phone) the fee is taken in advance:
    the fee is fixed now, the request stays a draft for the family to finish, and sending it
    moves it straight on to submitted (``prepaid_request_sent``)."""
    with transaction.atomic():
        request = _lock_payable(review_request)
        if request.status == Status.DRAFT:
            request.fee_cents, request.currency = (
                request.service.fee_cents,
                request.service.currency,
            )
            request.save(update_fields=["fee_cents", "currency"])
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    request=request,
                    method=PaymentMethod.PHONE,
                    status=PaymentStatus.SUCCEEDED,
                    amount_cents=amount_cents,
                    currency=request.currency,
                    reference=reference.strip(),
                    note=note.strip(),
                    recorded_by=actor,
                    succeeded_at=timezone.now(),
                )
        except IntegrityError:
            raise PaymentRefused(f"{request.reference} is already paid.") from None
        if amount_cents != request.fee_cents:
            payment.attention = (
                f"Taken {money(amount_cents, request.currency)}; the fee was "
                f"{money(request.fee_cents, request.currency)}."
            )
            payment.save(update_fields=["attention"])
        if request.status == Status.DRAFT:
            review_request_event_add(
                review_request=request,
                kind=RequestEvent.Kind.PAYMENT,
                note=f"Your fee of {payment.amount_display} was paid by phone. Your review "
                "starts as soon as you send your request.",
                actor=actor,
            )
        else:
            review_request_transition(
                review_request=request,
                to_status=Status.SUBMITTED,
                actor=actor,
                note=f"Fee of {payment.amount_display} paid by phone.",
            )
    return payment


def prepaid_request_sent(*, review_request: ReviewRequest) -> None:
    """A request whose fee was taken in advance has just been sent: it owes nothing, so it
    moves on to submitted in the same transaction (the review clock starts)."""
    payment = Payment.objects.filter(request=review_request, status__in=TAKEN).first()
    if payment is not None:
        review_request_transition(
            review_request=review_request,
            to_status=Status.SUBMITTED,
            actor=None,
            note=f"Fee of {payment.amount_display} paid by phone in advance.",
        )


# --- Stripe Checkout ----------------------------------------------------------------------

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


# --- Webhooks -----------------------------------------------------------------------------


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


def _lock(payment: Payment) -> tuple[ReviewRequest, Payment]:
    """Lock the request, then the payment: always in this order, so two handlers never wait
    on each other in a circle."""
    request = ReviewRequest.objects.select_for_update().get(pk=payment.request_id)
    return request, Payment.objects.select_for_update().get(pk=payment.pk)


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
    if payment.status in TAKEN:
        review_request_transition(
            review_request=request,
            to_status=Status.SUBMITTED,
            actor=None,
            note=f"Fee of {payment.amount_display} paid online.",
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


def _refresh_refunded(request: ReviewRequest, payment: Payment, *, actor) -> None:
    """Set the payment's refunded total and status from its succeeded refunds (both locked by
    the caller). A full refund of the payment that paid the request ends its review; a refund
    before the payment arrived means it never pays."""
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
    if full and was_taken:
        _end_request_refunded(request, actor=actor)


def _end_request_refunded(request: ReviewRequest, *, actor) -> None:
    if Status.REFUNDED in TRANSITIONS[Status(request.status)] and request.submitted_at is not None:
        review_request_transition(
            review_request=request,
            to_status=Status.REFUNDED,
            actor=actor,
            note="The fee was refunded in full.",
        )
    elif request.status == Status.DRAFT:
        # Paid in advance on the phone, refunded before the family sent it: it owes the fee
        # again when sent, and the timeline says why.
        review_request_event_add(
            review_request=request,
            kind=RequestEvent.Kind.PAYMENT,
            note="The fee paid by phone was refunded in full; it is due again when you send "
            "your request.",
            actor=actor,
        )


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


# --- Reconciliation, refunds, payment links -------------------------------------------------


def payments_reconcile(*, days: int = 3) -> list[str]:
    """Repair what lost webhooks missed: every Checkout Session of the last ``days`` that
    Stripe says is paid is applied to its pending payment, by the webhook's own rules (so
    running twice changes nothing); expired ones free their payment. Returns the references
    of the requests it repaired, and logs them."""
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    listing = stripe_api.client().v1.checkout.sessions.list(
        params={"created": {"gte": since}, "limit": 100}
    )
    repaired = []
    for found in listing.auto_paging_iter():
        session = found.to_dict()
        payment = _payment_of_session(session)
        if payment is None or payment.status != PaymentStatus.PENDING:
            continue
        if session.get("status") == "complete" and session.get("payment_status") == "paid":
            with transaction.atomic():
                _checkout_paid(session)
            payment.refresh_from_db()
            if payment.status in TAKEN:
                repaired.append(payment.request.reference)
            else:
                logger.warning(
                    "Reconciliation set payment %s aside: %s", payment.pk, payment.attention
                )
        elif session.get("status") == "expired":
            _checkout_failed(session)
    if repaired:
        logger.warning(
            "Reconciliation applied %d payment(s) a webhook missed: %s",
            len(repaired),
            ", ".join(repaired),
        )
    return repaired


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


def payment_link_send(*, review_request: ReviewRequest, actor: User) -> Payment:
    """E-mail the family a link to pay online (a Checkout Session), through the outbox. The
    e-mail holds the link and the reference, nothing about the child."""
    reference = review_request.reference
    payment = checkout_start(
        review_request=review_request,
        method=PaymentMethod.LINK,
        actor=actor,
        success_url=settings.SITE_URL + reverse("billing:paid", args=[reference]),
        cancel_url=settings.SITE_URL + reverse("intake:request_detail", args=[reference]),
    )
    message_queue(
        to=review_request.family.email,
        template="payment_link",
        context={
            "reference": reference,
            "pay_url": payment.checkout_url,
            "fee": payment.amount_display,
        },
    )
    return payment


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
