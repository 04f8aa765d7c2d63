from celery import shared_task

from intake.services import invitation_reminders_send


@shared_task
def send_invitation_reminders_task() -> None:
    invitation_reminders_send()
