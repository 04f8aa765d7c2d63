"""Every write to records: uploads, removals and the access log."""

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from config.outages import OUTAGES
from intake.lifecycle import Status
from intake.models import DocumentKind, Invitation, ReviewRequest
from intake.models.catalogue import document_kind_in_sentence
from records.filetypes import Checked, Rejected, display_name, file_type_of, inspect
from records.models import AccessLog, Document, FileType, HeldFile, Preview, ProcessingState
from records.previews import draw_into
from records.sandbox import render_limits, run_limited
from records.uploads import NAMELESS

logger = logging.getLogger(__name__)

# A family adds files while drafting, and while the team is waiting on it.
UPLOADABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.NEEDS_INFO})
ACCEPTED_BY_KIND = {
    DocumentKind.REFERRAL: {FileType.PDF, FileType.JPEG, FileType.PNG},
    DocumentKind.RECORD: {FileType.PDF, FileType.JPEG, FileType.PNG},
    DocumentKind.IMAGING: {
        FileType.DICOM,
        FileType.DICOM_ZIP,
        FileType.JPEG,
        FileType.PNG,
        FileType.PDF,
    },
    DocumentKind.OTHER: {FileType.PDF, FileType.JPEG, FileType.PNG},
}
CHUNK = 1024 * 1024


class CorruptDocument(Exception):
    """The stored bytes no longer match the checksum taken at upload."""


def size_limit(kind: str) -> int:
    if kind == DocumentKind.IMAGING:
        return settings.RECORDS_MAX_IMAGING_BYTES
    return settings.RECORDS_MAX_DOCUMENT_BYTES


# The role written for someone using the referring pediatrician's upload link.
PEDIATRICIAN_LINK_ROLE = "pediatrician link"


def access_log_write(
    *, user, review_request_id, document_id, action, outcome, ip_address, role: str = ""
) -> AccessLog:
    """Append one line to the access log (written before any bytes are returned). ``role``
    names someone without an account (the pediatrician's upload link)."""
    authenticated = user is not None and user.is_authenticated
    return AccessLog.objects.create(
        user=user if authenticated else None,
        role=role or (user.role if authenticated else "anonymous"),
        request_id=review_request_id,
        document_id=document_id,
        action=action,
        outcome=outcome,
        ip_address=ip_address or None,
    )


def records_read_log(*, user: User, review_request_id: int, ip_address: str) -> AccessLog:
    """A staff member read a request's records on an admin page: one line, as a reviewer's
    case page writes (``config.admin_pages.RecordsReadLogged``)."""
    return access_log_write(
        user=user,
        review_request_id=review_request_id,
        document_id=None,
        action=AccessLog.Action.VIEW,
        outcome=AccessLog.Outcome.ALLOWED,
        ip_address=ip_address,
    )


def _check_upload(kind: str, upload, *, hold_reports: bool) -> Checked:
    """The clean copy of an upload that is an accepted type for ``kind``, within its size
    limit; ``Rejected`` otherwise."""
    if kind not in ACCEPTED_BY_KIND:
        raise Rejected(
            gettext("Choose what the file is: referral, medical records, imaging or other.")
        )
    limit = size_limit(kind)
    if upload.size > limit:
        raise Rejected(
            gettext("This file is %(size)s MB; %(kind)s files can be up to %(limit)s MB.")
            % {
                "size": f"{upload.size / 1048576:,.0f}",
                "kind": document_kind_in_sentence(kind),
                "limit": f"{limit // 1048576:,}",
            }
        )
    checked = inspect(upload, hold_reports=hold_reports)
    if checked.file_type not in ACCEPTED_BY_KIND[kind]:
        checked.close()
        if (
            kind != DocumentKind.IMAGING
            and checked.file_type in ACCEPTED_BY_KIND[DocumentKind.IMAGING]
        ):
            raise Rejected(
                gettext("A %(type)s belongs with imaging: choose “Imaging” for it.")
                % {"type": FileType(checked.file_type).label}
            )
        raise Rejected(
            gettext("%(kind)s must be a PDF, JPEG or PNG file.")
            % {"kind": DocumentKind(kind).label}
        )
    return checked


def _sha256(content) -> str:
    digest = hashlib.sha256()
    content.seek(0)
    for chunk in iter(lambda: content.read(CHUNK), b""):
        digest.update(chunk)
    content.seek(0)
    return digest.hexdigest()


def _store(content) -> tuple[str, str]:
    """Store bytes under a new random key: (the key, their SHA-256)."""
    sha256 = _sha256(content)
    return default_storage.save(f"documents/{uuid.uuid4().hex}", File(content)), sha256


@dataclass
class Upload:
    """An accepted upload: its document, what the family is told about the copy that was
    stored, and the files held aside from it (a CD's PDF report)."""

    document: Document
    notes: list[str]
    held: list[HeldFile]


def document_upload(
    *,
    review_request: ReviewRequest,
    kind: str,
    upload,
    actor: User | None,
    ip_address: str,
    upload_link: Invitation | None = None,
) -> Upload:
    """Accept a file for a request if its bytes are an accepted type within the kind's size
    limit. What is stored is the clean copy the check wrote (the real document only), under
    a random key, with its SHA-256, and logged; its name is made safe to show. Either every
    stored object and its row exist afterwards, or none does. Raises ``Rejected``.
    A file sent through the pediatrician's ``upload_link`` (no ``actor``) is marked so; the
    link is checked again under the lock (revoked or expired meanwhile: refused). The family's
    imaging CD keeps its PDF reports aside (``HeldFile``) for the family to add as records."""
    if review_request.status not in UPLOADABLE:
        raise Rejected(gettext("This request no longer accepts files."))
    checked = _check_upload(kind, upload, hold_reports=upload_link is None)
    keys: list[str] = []
    try:
        with checked.content:
            key, sha256 = _store(checked.content)
        keys.append(key)
        held_stored = []
        for held in checked.held:
            with held.content:
                held_key, held_sha256 = _store(held.content)
            keys.append(held_key)
            held_stored.append((held, held_key, held_sha256))
        with transaction.atomic():
            request = _lock_uploadable(review_request, upload_link)
            document = Document.objects.create(
                request=request,
                kind=kind,
                original_name=display_name(
                    "" if upload.name == NAMELESS else upload.name,
                    file_type=checked.file_type,
                    number=_next_number(request),
                ),
                storage_key=key,
                file_type=checked.file_type,
                size=checked.size,
                sha256=sha256,
                uploaded_by=actor,
                upload_link=upload_link,
                state=ProcessingState.RECEIVED,
            )
            held_files = [
                HeldFile.objects.create(
                    request=request,
                    source=document,
                    original_name=display_name(held.name, file_type=FileType.PDF, number=0),
                    storage_key=held_key,
                    size=held.size,
                    sha256=held_sha256,
                )
                for held, held_key, held_sha256 in held_stored
            ]
            _received(document, actor, ip_address, upload_link=upload_link)
    except BaseException:
        checked.close()
        for stored in keys:
            default_storage.delete(stored)
        raise
    return Upload(document, checked.notes, held_files)


def _received(document: Document, actor, ip_address: str, *, upload_link=None) -> None:
    """Log a new document's upload and have it processed once that is committed."""
    access_log_write(
        user=actor,
        review_request_id=document.request_id,
        document_id=document.pk,
        action=AccessLog.Action.UPLOAD,
        outcome=AccessLog.Outcome.ALLOWED,
        ip_address=ip_address,
        role=PEDIATRICIAN_LINK_ROLE if upload_link is not None else "",
    )
    transaction.on_commit(lambda: _enqueue_processing(document.pk))


def _lock_uploadable(review_request: ReviewRequest, upload_link: Invitation | None):
    request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    if request.status not in UPLOADABLE:
        raise Rejected(gettext("This request no longer accepts files."))
    if upload_link is not None and not _link_works(upload_link):
        raise Rejected(gettext("This upload link no longer works."))
    return request


def _next_number(request: ReviewRequest) -> int:
    """The number a nameless file is shown with ("Document 3.pdf")."""
    return request.documents.count() + 1


def _link_works(upload_link: Invitation) -> bool:
    current = Invitation.objects.select_for_update().get(pk=upload_link.pk)
    return current.state_at(timezone.now()) == "open"


def generated_bytes_store(*, content: bytes) -> str:
    """Store bytes the portal wrote (the opinion letter) under a random key, before the
    transaction that records them; ``generated_bytes_discard`` undoes it if that fails."""
    return default_storage.save(f"documents/{uuid.uuid4().hex}", ContentFile(content))


def generated_bytes_discard(*, key: str) -> None:
    default_storage.delete(key)


def document_create_generated(
    *, review_request: ReviewRequest, kind: str, name: str, key: str, content: bytes, actor: User
) -> Document:
    """The row of bytes stored with ``generated_bytes_store``: with their checksum, ready to
    serve through the same logged door as any upload."""
    return Document.objects.create(
        request=review_request,
        kind=kind,
        original_name=name,
        storage_key=key,
        file_type=file_type_of(content[:132]),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor,
        state=ProcessingState.READY,
    )


def document_remove(*, document: Document, actor: User, ip_address: str) -> None:
    """Take a file back before the request is sent: the row goes now, the stored bytes once
    that is committed. Files sent with a request stay with it."""
    from records.frames import study_index_name  # frames reads documents through this module

    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=document.request_id)
        if request.status != Status.DRAFT:
            raise Rejected(gettext("Files cannot be removed once the request is sent."))
        keys = [
            document.storage_key,
            *document.previews.values_list("storage_key", flat=True),
            *document.held_files.values_list("storage_key", flat=True),
            study_index_name(document),  # kept beside an imaging study once it is read
        ]
        access_log_write(
            user=actor,
            review_request_id=request.pk,
            document_id=document.pk,
            action=AccessLog.Action.REMOVE,
            outcome=AccessLog.Outcome.ALLOWED,
            ip_address=ip_address,
        )
        document.delete()
        # The bytes and all drawn or read from them go once the removal is committed.
        transaction.on_commit(lambda: [default_storage.delete(key) for key in keys])


def read_verified(*, storage_key: str, sha256: str, label: str):
    """Stored bytes, copied to a temporary file while their SHA-256 is checked: nothing is
    served or processed unless it is exactly what was stored. Raises ``CorruptDocument``."""
    copy = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (handed to the caller)
    digest = hashlib.sha256()
    with default_storage.open(storage_key, "rb") as stored:
        for chunk in iter(lambda: stored.read(CHUNK), b""):
            digest.update(chunk)
            copy.write(chunk)
    if digest.hexdigest() != sha256:
        copy.close()
        logger.error("%s does not match its checksum.", label)
        raise CorruptDocument(label)
    copy.seek(0)
    return copy


def document_read_verified(*, document: Document):
    return read_verified(
        storage_key=document.storage_key, sha256=document.sha256, label=f"Document {document.pk}"
    )


def preview_read_verified(*, preview: Preview):
    return read_verified(
        storage_key=preview.storage_key, sha256=preview.sha256, label=f"Preview {preview.pk}"
    )


# --- Processing after upload -------------------------------------------------------------

STALE_PROCESSING = timedelta(minutes=30)
WAITING_TOO_LONG = timedelta(minutes=2)


def _enqueue_processing(document_id) -> None:
    from records.tasks import process_document_task

    try:
        process_document_task.delay(document_id=str(document_id))
    except Exception:
        # The broker is down: the periodic sweep picks the document up later.
        logger.warning("Processing of document %s not enqueued; the sweep will do it.", document_id)


def document_process(*, document_id) -> bool:
    """Read the study details and draw the previews of a received document, once: the row is
    claimed (received → processing) so two workers never both do it, and a rerun after a
    crash replaces earlier previews. A file that cannot be read ends ``failed`` with nothing
    half-stored; a moment's outage (a busy machine, the database, the store) leaves it
    received for the sweep to try again. Returns whether this call did the work."""
    claimed = Document.objects.filter(pk=document_id, state=ProcessingState.RECEIVED).update(
        state=ProcessingState.PROCESSING, processing_started_at=timezone.now()
    )
    if claimed != 1:
        return False
    document = Document.objects.get(pk=document_id)
    saved: list[str] = []
    folder = tempfile.mkdtemp(prefix="render-")
    try:
        content = document_read_verified(document=document)
        with content:
            drawn = run_limited(draw_into, folder, document.file_type, content, **render_limits())
        previews = [_store_preview(document, item, folder, saved) for item in drawn["previews"]]
        with transaction.atomic():
            replaced = list(document.previews.values_list("storage_key", flat=True))
            document.previews.all().delete()
            Preview.objects.bulk_create(previews)
            Document.objects.filter(pk=document.pk).update(
                state=ProcessingState.READY, dicom_metadata=drawn["metadata"]
            )
            transaction.on_commit(lambda: [default_storage.delete(key) for key in replaced])
    except (*OUTAGES, OperationalError, InterfaceError) as exc:
        # Not the file's fault: the machine was too busy, or the database, the store or the
        # broker failed for a moment. Received again, for the sweep.
        for key in saved:
            with contextlib.suppress(Exception):
                default_storage.delete(key)
        logger.warning("Document %s not drawn (%s): retried.", document_id, type(exc).__name__)
        with contextlib.suppress(OperationalError, InterfaceError):
            # Still down: the sweep takes back a claim older than its limit.
            Document.objects.filter(pk=document_id, state=ProcessingState.PROCESSING).update(
                state=ProcessingState.RECEIVED
            )
        return False
    except Exception as exc:
        for key in saved:
            default_storage.delete(key)
        # The class name only: a reader's message can quote the file's contents.
        logger.error("Document %s could not be processed (%s).", document_id, type(exc).__name__)
        Document.objects.filter(pk=document_id, state=ProcessingState.PROCESSING).update(
            state=ProcessingState.FAILED
        )
        return False
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return True


def _store_preview(document: Document, item: dict, folder: str, saved: list[str]) -> Preview:
    """Store one PNG the drawing child wrote (its manifest entry ``item``)."""
    with open(os.path.join(folder, os.path.basename(item["file"])), "rb") as drawn:
        png = drawn.read()
    key = default_storage.save(f"previews/{uuid.uuid4().hex}.png", ContentFile(png))
    saved.append(key)
    return Preview(
        document=document,
        series=int(item["series"]),
        position=int(item["position"]),
        label=str(item["label"])[:200],
        storage_key=key,
        width=int(item["width"]),
        height=int(item["height"]),
        sha256=hashlib.sha256(png).hexdigest(),
    )


def documents_process_waiting() -> int:
    """Enqueue documents a lost task left waiting (received over two minutes ago) and take
    back those a dead worker left half-done (processing for thirty minutes)."""
    now = timezone.now()
    Document.objects.filter(
        state=ProcessingState.PROCESSING, processing_started_at__lt=now - STALE_PROCESSING
    ).update(state=ProcessingState.RECEIVED)
    waiting = list(
        Document.objects.filter(
            state=ProcessingState.RECEIVED, uploaded_at__lt=now - WAITING_TOO_LONG
        )
        .order_by("uploaded_at")
        .values_list("pk", flat=True)[:100]
    )
    for document_id in waiting:
        _enqueue_processing(document_id)
    return len(waiting)


# --- Reports held aside from an imaging CD -----------------------------------------------

HELD_FOR = timedelta(days=14)


def held_file_add(*, held: HeldFile, actor: User, ip_address: str) -> Document:
    """Add a held report to the request as a medical record: the same stored bytes become a
    document (nothing is copied), and the upload is logged."""
    with transaction.atomic():
        request = _lock_uploadable(held.request, None)
        current = HeldFile.objects.select_for_update().filter(pk=held.pk).first()
        if current is None:
            raise Rejected(gettext("This report was already added or let go."))
        document = Document.objects.create(
            request=request,
            kind=DocumentKind.RECORD,
            original_name=current.original_name,
            storage_key=current.storage_key,
            file_type=FileType.PDF,
            size=current.size,
            sha256=current.sha256,
            uploaded_by=actor,
            state=ProcessingState.RECEIVED,
        )
        current.delete()
        _received(document, actor, ip_address)
    return document


def held_file_discard(*, held: HeldFile) -> None:
    """Let a held report go: the row now, the bytes once that is committed."""
    with transaction.atomic():
        deleted, _ = HeldFile.objects.filter(pk=held.pk).delete()
        if deleted:
            key = held.storage_key
            transaction.on_commit(lambda: default_storage.delete(key))


def held_files_discard_stale() -> int:
    """Let go of reports held for longer than ``HELD_FOR``, or whose request no longer
    takes files: nobody is going to add them."""
    stale = HeldFile.objects.filter(
        held_at__lt=timezone.now() - HELD_FOR
    ) | HeldFile.objects.exclude(request__status__in=UPLOADABLE)
    discarded = 0
    for held in stale.order_by("held_at")[:500]:
        held_file_discard(held=held)
        discarded += 1
    return discarded


# --- Objects no row points to ----------------------------------------------------------------

# Where rows keep their bytes: documents (uploads, letters, held reports) and previews.
OBJECT_FOLDERS = ("documents", "previews")


def orphaned_objects_remove(*, now=None, grace: timedelta | None = None) -> int:
    """Remove stored objects under ``OBJECT_FOLDERS`` that no row points to and that are
    older than ``grace`` (``RECORDS_ORPHAN_GRACE_HOURS``): what a web worker killed between
    storing an upload and committing its row leaves behind. Never an object with a row: the
    rows are read after the listing, and an upload in progress (stored, not yet committed) is
    younger than the grace period. Returns how many objects were removed."""
    now = now or timezone.now()
    grace = grace or timedelta(hours=settings.RECORDS_ORPHAN_GRACE_HOURS)
    old = [key for key, modified in _stored_objects() if modified < now - grace]
    if not old:
        return 0
    kept: set[str] = set()
    for start in range(0, len(old), 1000):
        chunk = old[start : start + 1000]
        for model in (Document, HeldFile, Preview):
            kept.update(
                model.objects.filter(storage_key__in=chunk).values_list("storage_key", flat=True)
            )
    removed = 0
    for key in old:
        if key not in kept:
            default_storage.delete(key)
            removed += 1
    if removed:
        logger.warning("Removed %s stored objects that no row pointed to.", removed)
    return removed


def _stored_objects():
    """(key, last modified) of every object under ``OBJECT_FOLDERS``: one listing call per
    thousand objects on S3, a walk of the folders on the local disk."""
    bucket = getattr(default_storage, "bucket", None)
    for folder in OBJECT_FOLDERS:
        if bucket is not None:
            for item in bucket.objects.filter(Prefix=f"{folder}/"):
                yield item.key, item.last_modified
            continue
        try:
            _, names = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            key = f"{folder}/{name}"
            yield key, default_storage.get_modified_time(key)
