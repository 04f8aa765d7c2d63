"""Every write to records: uploads, removals and the access log."""

import hashlib
import logging
import tempfile
import uuid

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.models import User
from intake.lifecycle import Status
from intake.models import DocumentKind, ReviewRequest
from records.filetypes import Rejected, clean_file_name, identify
from records.models import AccessLog, Document, FileType, ProcessingState

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


def access_log_write(
    *, user, review_request_id, document_id, action, outcome, ip_address
) -> AccessLog:
    """Append one line to the access log (written before any bytes are returned)."""
    authenticated = user is not None and user.is_authenticated
    return AccessLog.objects.create(
        user=user if authenticated else None,
        role=user.role if authenticated else "anonymous",
        request_id=review_request_id,
        document_id=document_id,
        action=action,
        outcome=outcome,
        ip_address=ip_address or None,
    )


def _check_upload(kind: str, upload) -> tuple[str, FileType]:
    name = clean_file_name(upload.name)
    limit = size_limit(kind)
    if upload.size > limit:
        raise Rejected(
            f"This file is {upload.size / 1048576:,.0f} MB; {DocumentKind(kind).label.lower()} "
            f"files can be up to {limit // 1048576:,} MB."
        )
    file_type = identify(upload).file_type
    if file_type not in ACCEPTED_BY_KIND[kind]:
        if kind != DocumentKind.IMAGING and file_type in ACCEPTED_BY_KIND[DocumentKind.IMAGING]:
            raise Rejected(
                f"A {FileType(file_type).label} belongs with imaging: choose “Imaging” for it."
            )
        raise Rejected(f"{DocumentKind(kind).label} must be a PDF, JPEG or PNG file.")
    return name, file_type


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def document_upload(
    *, review_request: ReviewRequest, kind: str, upload, actor: User, ip_address: str
) -> Document:
    """Accept a file for a request if its bytes are an accepted type within the kind's size
    limit. It is stored under a random key, with its SHA-256, and logged. Either the stored
    object and its row both exist afterwards, or neither does. Raises ``Rejected``."""
    if review_request.status not in UPLOADABLE:
        raise Rejected("This request no longer accepts files.")
    name, file_type = _check_upload(kind, upload)
    sha256 = _sha256(upload)
    # Stored before the transaction (no row lock held during a long upload to S3).
    key = default_storage.save(f"documents/{uuid.uuid4().hex}", upload)
    try:
        with transaction.atomic():
            request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
            if request.status not in UPLOADABLE:
                raise Rejected("This request no longer accepts files.")
            document = Document.objects.create(
                request=request,
                kind=kind,
                original_name=name,
                storage_key=key,
                file_type=file_type,
                size=upload.size,
                sha256=sha256,
                uploaded_by=actor,
                state=ProcessingState.RECEIVED
                if file_type in {FileType.DICOM, FileType.DICOM_ZIP}
                else ProcessingState.READY,
            )
            access_log_write(
                user=actor,
                review_request_id=request.pk,
                document_id=document.pk,
                action=AccessLog.Action.UPLOAD,
                outcome=AccessLog.Outcome.ALLOWED,
                ip_address=ip_address,
            )
    except BaseException:
        default_storage.delete(key)
        raise
    return document


def document_remove(*, document: Document, actor: User, ip_address: str) -> None:
    """Take a file back before the request is sent: the row goes now, the stored bytes once
    that is committed. Files sent with a request stay with it."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=document.request_id)
        if request.status != Status.DRAFT:
            raise Rejected("Files cannot be removed once the request is sent.")
        key = document.storage_key
        access_log_write(
            user=actor,
            review_request_id=request.pk,
            document_id=document.pk,
            action=AccessLog.Action.REMOVE,
            outcome=AccessLog.Outcome.ALLOWED,
            ip_address=ip_address,
        )
        document.delete()
        transaction.on_commit(lambda: default_storage.delete(key))


def document_read_verified(*, document: Document):
    """The stored bytes, copied to a temporary file while their SHA-256 is checked: nothing
    is served unless it is exactly what was uploaded. Raises ``CorruptDocument``."""
    copy = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (handed to the response)
    digest = hashlib.sha256()
    with default_storage.open(document.storage_key, "rb") as stored:
        for chunk in iter(lambda: stored.read(CHUNK), b""):
            digest.update(chunk)
            copy.write(chunk)
    if digest.hexdigest() != document.sha256:
        copy.close()
        logger.error("Document %s does not match its checksum.", document.pk)
        raise CorruptDocument(str(document.pk))
    copy.seek(0)
    return copy
