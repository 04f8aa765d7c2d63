"""Billing's reactions to the request lifecycle."""

from django.dispatch import receiver

from billing.models import TAKEN, Payment
from billing.services import checkouts_expire_after_commit, prepaid_request_sent
from intake.lifecycle import Status
from intake.signals import request_moved


@receiver(request_moved, dispatch_uid="billing.on_request_moved")
def on_request_moved(sender, review_request, from_status, to_status, **kwargs):
    if (from_status, to_status) == (Status.DRAFT, Status.AWAITING_PAYMENT):
        # Taken by phone before the family sent it: nothing is owed, the review starts.
        prepaid_request_sent(review_request=review_request)
    if to_status == Status.CANCELLED:
        # A paid request that stops owes the family its fee: the coordinator sees it.
        Payment.objects.filter(request=review_request, status__in=TAKEN).update(
            attention="The request was cancelled after it was paid: refund the fee."
        )
    if to_status in {Status.SUBMITTED, Status.CANCELLED} and from_status != Status.NEEDS_INFO:
        # Paid (or stopped): open Checkout pages of this request must no longer take money. A
        # worker closes them after commit; Stripe is not called in the request.
        checkouts_expire_after_commit(request_id=review_request.pk)
