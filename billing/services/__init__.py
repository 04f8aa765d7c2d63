"""Every write to payments, one module per concern: payments taken by phone (``phone``),
Stripe Checkout (``checkout``) and its webhooks (``webhooks``), refunds (``refunds``),
reconciliation with Stripe (``reconciliation``) and payment links (``links``). The same rules
hold throughout: one taken payment per request, the request moved on exactly once, Stripe
called outside database transactions.

Callers import from ``billing.services`` as before; the names below are its public face."""

from billing.services.checkout import (
    CHECKOUT_REUSE,
    checkout_start,
    checkouts_expire_after_commit,
    checkouts_expire_leftover,
    expire_open_checkouts,
)
from billing.services.errors import PaymentRefused
from billing.services.links import payment_link_send
from billing.services.locking import _lock
from billing.services.phone import payment_record_phone, prepaid_request_sent
from billing.services.reconciliation import payments_reconcile
from billing.services.refunds import _refresh_refunded, payment_refund, refunds_retry_pending
from billing.services.webhooks import WEBHOOK_HANDLERS, WebhookRejected, stripe_webhook_receive

__all__ = [
    "CHECKOUT_REUSE",
    "WEBHOOK_HANDLERS",
    "PaymentRefused",
    "WebhookRejected",
    "_lock",
    "_refresh_refunded",
    "checkout_start",
    "checkouts_expire_after_commit",
    "checkouts_expire_leftover",
    "expire_open_checkouts",
    "payment_link_send",
    "payment_record_phone",
    "payment_refund",
    "payments_reconcile",
    "prepaid_request_sent",
    "refunds_retry_pending",
    "stripe_webhook_receive",
]
