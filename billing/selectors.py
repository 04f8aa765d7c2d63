from django.db.models import QuerySet

from billing.models import TAKEN, Payment
from intake.models import ReviewRequest


def payments_for_request(*, review_request: ReviewRequest) -> QuerySet[Payment]:
    return review_request.payments.select_related("recorded_by").order_by("created_at")


def payment_taken(*, review_request: ReviewRequest) -> Payment | None:
    """The payment that paid the fee, if any."""
    return review_request.payments.filter(status__in=TAKEN).first()
