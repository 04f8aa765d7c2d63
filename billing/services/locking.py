"""The locks a payment write takes, always in the same order (the request, then its
payments), and the checks that a request may still be paid."""

from billing.models import TAKEN, Payment
from billing.services.errors import PaymentRefused
from intake.lifecycle import Status
from intake.models import ReviewRequest


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


def _lock(payment: Payment) -> tuple[ReviewRequest, Payment]:
    """Lock the request, then the payment: always in this order, so two handlers never wait
    on each other in a circle."""
    request = ReviewRequest.objects.select_for_update().get(pk=payment.request_id)
    return request, Payment.objects.select_for_update().get(pk=payment.pk)
