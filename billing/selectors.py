from datetime import timedelta

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDay, TruncMonth
from django.utils import timezone

from billing.models import TAKEN, Payment, PaymentStatus, RefundStatus
from intake.models import ReviewRequest, money


def payment_taken(*, review_request: ReviewRequest) -> Payment | None:
    """The payment that paid the fee, if any."""
    return review_request.payments.filter(status__in=TAKEN).first()


def payment_for_receipt(*, review_request: ReviewRequest) -> Payment | None:
    """The payment a receipt is about: the one that paid the fee, refunded since or not."""
    return (
        review_request.payments.filter(
            status__in=(*TAKEN, PaymentStatus.REFUNDED), succeeded_at__isnull=False
        )
        .order_by("-succeeded_at")
        .first()
    )


def online_payment_latest(*, review_request: ReviewRequest) -> Payment | None:
    """The family's latest online attempt, to explain what became of it."""
    return review_request.payments.exclude(method="phone").order_by("-created_at").first()


def refund_requested_cents(*, payment: Payment) -> int:
    """What the payment's refunds ask back: the succeeded ones and those still pending at
    Stripe (their answer may yet be a refund). Refunds Stripe refused do not count."""
    total = payment.refunds.exclude(status=RefundStatus.FAILED).aggregate(
        total=Sum("amount_cents")
    )["total"]
    return total or 0


def payment_refundable_cents(*, payment: Payment) -> int:
    """What may still be refunded: the amount less every refund asked for. The refund page
    offers it and the refund service accepts no more (under the payment's lock)."""
    return max(payment.amount_cents - refund_requested_cents(payment=payment), 0)


def payment_totals(*, days: int = 14, months: int = 12) -> dict:
    """Money taken, net of refunds, per day (last ``days``) and per month (last ``months``),
    in the hospital's time zone: two grouped queries whatever the number of payments."""
    kept = Payment.objects.filter(
        status__in=(*TAKEN, PaymentStatus.REFUNDED), succeeded_at__isnull=False, currency="usd"
    ).annotate(net=F("amount_cents") - F("refunded_cents"))
    now = timezone.now()

    def grouped(trunc, since):
        rows = (
            kept.filter(succeeded_at__gte=since)
            .annotate(period=trunc("succeeded_at"))
            .values("period")
            .annotate(cents=Sum("net"), count=Count("id"))
            .order_by("-period")
        )
        return [(row["period"], row["count"], money(row["cents"] or 0, "usd")) for row in rows]

    return {
        "daily": grouped(TruncDay, now - timedelta(days=days)),
        "monthly": grouped(TruncMonth, now - timedelta(days=31 * months)),
    }
