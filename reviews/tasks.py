from celery import shared_task

from reviews.deadlines import deadline_alerts_send_due


@shared_task
def send_due_deadline_alerts_task() -> None:
    deadline_alerts_send_due()
