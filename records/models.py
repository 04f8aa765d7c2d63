import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import DocumentKind, ReviewRequest


class FileType(models.TextChoices):
    """What a file is, decided from its bytes, never from its name."""

    PDF = "application/pdf", "PDF"
    JPEG = "image/jpeg", _("JPEG image")
    PNG = "image/png", _("PNG image")
    DICOM = "application/dicom", _("DICOM image")
    DICOM_ZIP = "application/zip", _("ZIP of a DICOM study")


SHORT_TYPES = {
    FileType.PDF: "PDF",
    FileType.JPEG: "JPG",
    FileType.PNG: "PNG",
    FileType.DICOM: "DCM",
    FileType.DICOM_ZIP: "ZIP",
}


class ProcessingState(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Being processed"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be processed"


class Document(models.Model):
    """A file sent with a request. Stored under a random key (never its uploaded name), with
    the SHA-256 of its bytes, checked again whenever it is served."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(ReviewRequest, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    original_name = models.CharField(max_length=255, help_text="Shown to people; never a path.")
    storage_key = models.CharField(max_length=255, unique=True, editable=False)
    file_type = models.CharField(max_length=30, choices=FileType.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Set when the referring pediatrician sent the file through their upload link (no account).
    upload_link = models.ForeignKey(
        "intake.Invitation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    state = models.CharField(
        max_length=10, choices=ProcessingState.choices, default=ProcessingState.RECEIVED
    )
    processing_started_at = models.DateTimeField(null=True, blank=True)
    dicom_metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="document_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(file_type__in=FileType.values), name="document_type_valid"
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]
        indexes = [models.Index(fields=["request", "uploaded_at"], name="document_request_idx")]

    def __str__(self):
        return self.original_name

    @property
    def from_pediatrician(self) -> bool:
        return self.upload_link_id is not None

    @property
    def short_type(self) -> str:
        """What the file is in three letters, as on a file's icon: PDF, JPG, PNG, DCM, ZIP."""
        return SHORT_TYPES.get(self.file_type, "")


class HeldFile(models.Model):
    """A PDF report found on a family's imaging CD and left out of the study: checked and
    cleaned like any PDF, and kept aside until the family adds it as a medical record or
    lets it go. It is never shown to reviewers while it is held."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="held_files")
    original_name = models.CharField(max_length=255)
    storage_key = models.CharField(max_length=255, unique=True, editable=False)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    held_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["held_at"], name="heldfile_held_idx")]

    def __str__(self):
        return self.original_name


class Preview(models.Model):
    """A PNG drawn on the server from a document: each image of a DICOM study (grouped by
    series), the first page of a PDF, a smaller copy of a photo. Served through the same
    authorised, logged door as the document itself."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="previews")
    series = models.PositiveSmallIntegerField(default=1)
    position = models.PositiveIntegerField(default=1)
    label = models.CharField(max_length=200)
    storage_key = models.CharField(max_length=255, unique=True, editable=False)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "series", "position"], name="preview_unique_place"
            ),
        ]

    def __str__(self):
        return self.label


class AccessLog(models.Model):
    """One line per attempt to read or change a document: who, in which role, what, when,
    from where, and whether it was allowed. Append-only: nothing updates or deletes rows."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        DOWNLOAD = "download", "Downloaded"
        PREVIEW = "preview", "Preview viewed"
        UPLOAD = "upload", "Uploaded"
        REMOVE = "remove", "Removed"
        SEND = "send", "Sent by e-mail"

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        DENIED = "denied", "Denied"
        CORRUPT = "corrupt", "Refused: the stored file does not match its checksum"

    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=20, blank=True)
    request = models.ForeignKey(
        ReviewRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The id is kept even for a document that was later removed, or that never existed.
    document_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["request", "at"], name="accesslog_request_idx"),
            models.Index(fields=["document_id", "at"], name="accesslog_document_idx"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.role} {self.action} {self.outcome}"
