"""Repairs for what lost webhooks missed: Stripe's sessions read back and applied by the
webhooks' own rules."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from billing import stripe_api
from billing.models import TAKEN, PaymentStatus
from billing.services.webhooks import _checkout_failed, _checkout_paid, _payment_of_session

logger = logging.getLogger(__name__)


def payments_reconcile(*, days: int = 3) -> list[str]:
    """Repair what lost webhooks missed: every Checkout Session of the last ``days`` that
    Stripe says is paid is applied to its pending payment, by the webhook's own rules (so
    running twice changes nothing); expired ones free their payment. Returns the references
    of the requests it repaired, and logs them."""
    since = int((timezone.now() - timedelta(days=days)).timestamp())
    listing = stripe_api.client().v1.checkout.sessions.list(
        params={"created": {"gte": since}, "limit": 100}
    )
    repaired = []
    for found in listing.auto_paging_iter():
        session = found.to_dict()
        payment = _payment_of_session(session)
        if payment is None or payment.status != PaymentStatus.PENDING:
            continue
        if session.get("status") == "complete" and session.get("payment_status") == "paid":
            with transaction.atomic():
                _checkout_paid(session)
            payment.refresh_from_db()
            if payment.status in TAKEN:
                repaired.append(payment.request.reference)
            else:
                logger.warning(
                    "Reconciliation set payment %s aside: %s", payment.pk, payment.attention
                )
        elif session.get("status") == "expired":
            _checkout_failed(session)
    if repaired:
        logger.warning(
            "Reconciliation applied %d payment(s) a webhook missed: %s",
            len(repaired),
            ", ".join(repaired),
        )
    return repaired
