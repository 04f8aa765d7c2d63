from celery import shared_task

from billing import stripe_api
from billing.services import (
    checkouts_expire_leftover,
    expire_open_checkouts,
    payments_reconcile,
    refunds_retry_pending,
)


@shared_task
def reconcile_payments_task() -> None:
    if stripe_api.stripe_configured():
        payments_reconcile()
        refunds_retry_pending()


# Each Stripe call has its own timeout; the limits stop a stuck one. Work left undone by a
# limit or a dead worker is picked up by the sweep, so nothing is retried here.
@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def expire_open_checkouts_task(*, request_id: int) -> None:
    """Close the open Checkout pages of a request just paid or cancelled."""
    expire_open_checkouts(request_id=request_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def expire_leftover_checkouts_task() -> None:
    """The sweep: open Checkout pages of requests that no longer owe their fee."""
    checkouts_expire_leftover()
