from celery import shared_task

from billing import stripe_api
from billing.services import payments_reconcile, refunds_retry_pending


@shared_task
def reconcile_payments_task() -> None:
    if stripe_api.stripe_configured():
        payments_reconcile()
        refunds_retry_pending()
