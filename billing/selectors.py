from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from billing.models import TAKEN, Payment, PaymentDay, PaymentStatus, RefundStatus
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
    """Money taken, net of refunds, per day (the last ``days``, today's so far included) and
    per calendar month (the last ``months``, this one so far included), in the hospital's
    time zone: one query of the daily totals the payment services keep (``PaymentDay``), a
    few hundred rows whatever the number of payments."""
    today = timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    back = today.year * 12 + today.month - 1 - (months - 1)
    first_month = date(back // 12, back % 12 + 1, 1)
    rows = PaymentDay.objects.filter(
        currency="usd", date__gte=min(first_month, today - timedelta(days=days))
    ).order_by("-date")
    daily, monthly = [], {}
    for row in rows:
        if row.count == 0:
            continue
        if row.date > today - timedelta(days=days):
            daily.append((row.date, row.count, money(row.net_cents, "usd")))
        if row.date >= first_month:
            month = monthly.setdefault(row.date.replace(day=1), [0, 0])
            month[0] += row.count
            month[1] += row.net_cents
    return {
        "daily": daily,
        "monthly": [
            (month, count, money(cents, "usd")) for month, (count, cents) in monthly.items()
        ],
    }
