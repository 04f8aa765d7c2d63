from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import ReviewRequest, money


class PaymentMethod(models.TextChoices):
    CHECKOUT = "checkout", _("Online (Stripe Checkout)")
    PHONE = "phone", _("By phone")
    LINK = "link", _("Payment link (Stripe Checkout)")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    # Money taken that cannot pay the request (paid twice, wrong amount, request cancelled).
    TO_REFUND = "to_refund", "Taken but not applied: to refund"


# The fee is taken: at most one such payment per request (a database rule).
TAKEN = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


class Payment(models.Model):
    """The flat fee of a request: taken online, by phone, or through a link a coordinator
    sent. The amount is the fee as it was when the request was sent, never today's price."""

    request = models.ForeignKey(ReviewRequest, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    refunded_cents = models.PositiveIntegerField(default=0)
    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    checkout_url = models.URLField(max_length=1000, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)
    reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="Last four digits of the card, or the terminal's reference.",
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attention = models.CharField(
        max_length=300, blank=True, help_text="Why a coordinator must look at this payment."
    )
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=TAKEN),
                name="payment_one_taken_per_request",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("amount_cents")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(method__in=PaymentMethod.values), name="payment_method_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_idx"),
            # The dashboard's totals read the last year of payments by this stamp.
            models.Index(fields=["succeeded_at"], name="payment_succeeded_idx"),
        ]
        permissions = [("refund_payment", "Can refund payments")]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount_display} for {self.request}"

    @property
    def amount_display(self) -> str:
        return money(self.amount_cents, self.currency)

    @property
    def refunded_display(self) -> str:
        return money(self.refunded_cents, self.currency)

    @property
    def net_display(self) -> str:
        return money(self.amount_cents - self.refunded_cents, self.currency)


class RefundStatus(models.TextChoices):
    # Asked of Stripe, answer unknown (a lost connection): retried with the same key.
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Refused by Stripe"


class Refund(models.Model):
    """Money given back, all or part of a payment, with the reason. The rows are the record of
    what was refunded: a payment's refunded total is the sum of its succeeded refunds."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    amount_cents = models.PositiveIntegerField()
    reason = models.TextField()
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")
        ]

    def __str__(self):
        return f"Refund of {money(self.amount_cents, self.payment.currency)}"


class StripeEvent(models.Model):
    """A webhook event from Stripe, processed once: the unique id is the guard against
    duplicate and concurrent deliveries."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.type} {self.event_id}"


class WebhookAttempt(models.Model):
    """Every delivery to the webhook, kept for forensics, refused ones included."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Already processed"
        REJECTED = "rejected", "Rejected: signature or payload"
        FAILED = "failed", "Failed while handling (Stripe retries)"
        IGNORED = "ignored", "Not an event the portal handles"

    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=300, blank=True)
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=100, blank=True)
    signature = models.CharField(max_length=500, blank=True)
    body_sha256 = models.CharField(max_length=64)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.outcome}"


class PaymentDay(models.Model):
    """The fees taken on one day (the hospital's calendar, ``settings.TIME_ZONE``) in one
    currency, net of refunds: what the dashboard's totals add up. Kept by the payment services
    in the same transaction as each change to a payment (``billing.services.totals``), so the
    dashboard reads a few hundred rows, never a year of payments. A payment counts on the day
    it succeeded, as long as it is taken or refunded; a refund lowers that day's net."""

    date = models.DateField()
    currency = models.CharField(max_length=3)
    count = models.IntegerField(default=0)
    net_cents = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "currency"], name="payment_day_once"),
        ]

    def __str__(self):
        return f"{self.date} {self.currency}: {self.count}, {self.net_cents}"
