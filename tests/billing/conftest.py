import itertools
import json
import time

import pytest
import stripe
from django.test import Client
from django.urls import reverse

from billing.services import checkout_start
from intake.lifecycle import Status
from tests.billing.stripe_standin import WEBHOOK_SECRET
from tests.factories import review_request

_events = itertools.count(1)


@pytest.fixture
def awaiting(family):
    return review_request(family=family, status=Status.AWAITING_PAYMENT)


def event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{next(_events)}",
        "object": "event",
        "type": event_type,
        "api_version": "2025-01-27",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def charge_refunded(
    payment_intent: str, refunded_cents: int, *, charge_id="ch_1", event_id=None
) -> dict:
    """Stripe's charge.refunded event: its running total of refunds on a $500 charge."""
    charge = {
        "id": charge_id,
        "object": "charge",
        "payment_intent": payment_intent,
        "amount": 50000,
        "amount_refunded": refunded_cents,
    }
    return event("charge.refunded", charge, event_id)


def deliver(payload: dict, *, secret=WEBHOOK_SECRET, timestamp=None, body: bytes | None = None):
    """POST an event to the webhook as Stripe does, signed with Stripe's own helper."""
    raw = json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(raw, secret, timestamp=timestamp)
    return Client().post(
        reverse("billing:stripe_webhook"),
        data=body if body is not None else raw,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def open_checkout(request, family):
    """A family's open Checkout for the request, as the pay button starts it."""
    return checkout_start(
        review_request=request,
        method="checkout",
        success_url="http://t/ok",
        cancel_url="http://t/back",
        actor=family,
    )
