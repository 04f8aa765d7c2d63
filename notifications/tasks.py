from celery import shared_task

from notifications.services import message_send, messages_send, messages_send_due


@shared_task
def send_message_task(*, message_id: int) -> None:
    message_send(message_id=message_id)


@shared_task
def send_messages_task(*, message_ids: list[int]) -> None:
    messages_send(message_ids=message_ids)


@shared_task
def send_due_messages_task() -> None:
    messages_send_due()
