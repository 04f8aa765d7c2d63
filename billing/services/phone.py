"""Payments a coordinator takes by phone, and the request paid in advance that is sent later."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import User
from billing.models import TAKEN, Payment, PaymentMethod, PaymentStatus
from billing.services.errors import PaymentRefused
from billing.services.locking import _lock_payable
from billing.services.totals import payment_share, payment_totals_move
from intake.lifecycle import Status
from intake.models import RequestEvent, ReviewRequest, money
from intake.services import review_request_event_add, review_request_transition


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
        payment_totals_move(before=None, after=payment_share(payment))
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
                note=gettext_noop(
                    "Your fee of %(amount)s was paid by phone. Your review starts as soon as "
                    "you send your request."
                ),
                note_params={"amount_cents": payment.amount_cents, "currency": payment.currency},
                actor=actor,
            )
        else:
            review_request_transition(
                review_request=request,
                to_status=Status.SUBMITTED,
                actor=actor,
                note=gettext_noop("Fee of %(amount)s paid by phone."),
                note_params={"amount_cents": payment.amount_cents, "currency": payment.currency},
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
            note=gettext_noop("Fee of %(amount)s paid by phone in advance."),
            note_params={"amount_cents": payment.amount_cents, "currency": payment.currency},
        )
