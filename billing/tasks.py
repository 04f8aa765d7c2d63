from celery import shared_task

from billing import stripe_api
from billing.services import payments_reconcile


@shared_task
def reconcile_payments_task() -> None:
    if stripe_api.stripe_configured():
        payments_reconcile()
