from celery import shared_task

from scheduling.services import reminders_send_due


@shared_task
def send_due_reminders_task() -> None:
    reminders_send_due()
