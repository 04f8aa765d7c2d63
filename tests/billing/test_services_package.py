"""billing.services is a package by concern; callers still import every name from it."""

import importlib

import pytest

NAMES = [
    "CHECKOUT_REUSE",
    "WEBHOOK_HANDLERS",
    "PaymentRefused",
    "WebhookRejected",
    "_lock",
    "_refresh_refunded",
    "checkout_start",
    "expire_open_checkouts",
    "payment_link_send",
    "payment_record_phone",
    "payment_refund",
    "payments_reconcile",
    "prepaid_request_sent",
    "refunds_retry_pending",
    "stripe_webhook_receive",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_name_callers_use_is_still_reachable_from_billing_services(name):
    services = importlib.import_module("billing.services")

    assert getattr(services, name) is not None
    assert name in services.__all__
