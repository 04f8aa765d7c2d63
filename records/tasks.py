from celery import shared_task

from records.frames import study_index_prepare
from records.services import (
    document_process,
    documents_process_waiting,
    held_files_discard_stale,
    orphaned_objects_remove,
)


# A study from a CD can take minutes to read and draw.
@shared_task(soft_time_limit=15 * 60, time_limit=20 * 60)
def process_document_task(*, document_id: str) -> None:
    if document_process(document_id=document_id):
        # The imaging viewer's index of the study, ready before a reviewer opens it.
        study_index_prepare(document_id=document_id)


@shared_task
def process_waiting_documents_task() -> None:
    documents_process_waiting()


@shared_task
def discard_stale_held_files_task() -> None:
    held_files_discard_stale()


@shared_task
def remove_orphaned_objects_task() -> None:
    orphaned_objects_remove()
