"""The daily payment totals (``PaymentDay``): moved by each service that changes what a
payment counts for, in its transaction, and rebuilt from the payments when needed."""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate

from billing.models import TAKEN, Payment, PaymentDay, PaymentStatus

# A payment is in the totals while taken, and once refunded (its net then zero or less).
COUNTED = (*TAKEN, PaymentStatus.REFUNDED)

# What a payment adds to the totals: (day, currency), and (count, net cents).
Share = tuple[tuple[date, str], tuple[int, int]] | None


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def payment_share(payment: Payment) -> Share:
    """What ``payment``, as it is now, adds to the daily totals (None: nothing)."""
    if payment.status not in COUNTED or payment.succeeded_at is None:
        return None
    day = payment.succeeded_at.astimezone(_zone()).date()
    return (day, payment.currency), (1, payment.amount_cents - payment.refunded_cents)


def payment_totals_move(*, before: Share, after: Share) -> None:
    """Move the daily totals from a payment's share ``before`` a change to its share
    ``after`` it (``payment_share`` of each), inside the caller's transaction: at most two
    queries per day touched, none when nothing changed. Concurrent payments on the same day
    add up (each is an ``UPDATE … SET count = count + …``)."""
    if before == after:
        return
    changes: dict[tuple[date, str], list[int]] = {}
    for share, sign in ((before, -1), (after, 1)):
        if share is not None:
            key, (count, cents) = share
            change = changes.setdefault(key, [0, 0])
            change[0] += sign * count
            change[1] += sign * cents
    for (day, currency), (count, cents) in changes.items():
        if count == cents == 0:
            continue
        PaymentDay.objects.bulk_create(
            [PaymentDay(date=day, currency=currency)], ignore_conflicts=True
        )
        PaymentDay.objects.filter(date=day, currency=currency).update(
            count=F("count") + count, net_cents=F("net_cents") + cents
        )


def payment_days_rebuild() -> int:
    """Every day's totals computed again from the payments (after a bulk load, or to mend
    the table by hand: ``manage.py rebuild_payment_totals``). Returns the days written."""
    days = (
        Payment.objects.filter(status__in=COUNTED, succeeded_at__isnull=False)
        .annotate(day=TruncDate("succeeded_at", tzinfo=_zone()))
        .values("day", "currency")
        .annotate(count=Count("id"), net=Sum(F("amount_cents") - F("refunded_cents")))
        .order_by()
    )
    with transaction.atomic():
        PaymentDay.objects.all().delete()
        made = PaymentDay.objects.bulk_create(
            PaymentDay(
                date=row["day"], currency=row["currency"], count=row["count"], net_cents=row["net"]
            )
            for row in days
        )
    return len(made)
