"""Every write to payments: taken by phone now; Stripe Checkout, webhooks and refunds build on
the same rules (one taken payment per request, the request moved on exactly once)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from billing.models import TAKEN, Payment, PaymentMethod, PaymentStatus, money
from intake.lifecycle import Status
from intake.models import ReviewRequest
from intake.services import review_request_transition


class PaymentRefused(Exception):
    """The payment cannot be recorded; the message says why, for the coordinator."""


def _lock_awaiting_payment(review_request: ReviewRequest) -> ReviewRequest:
    request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    if request.status != Status.AWAITING_PAYMENT:
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
    another payment is stopped by the one-taken-payment rule of the database."""
    with transaction.atomic():
        request = _lock_awaiting_payment(review_request)
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
        review_request_transition(
            review_request=request,
            to_status=Status.SUBMITTED,
            actor=actor,
            note=f"Fee of {payment.amount_display} paid by phone.",
        )
    return payment
