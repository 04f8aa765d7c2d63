"""Reads of records, always through the request selectors: a document of a request someone
may not see is as missing for them as one that does not exist."""

from django.db.models import Prefetch, QuerySet
from django.forms.models import model_to_dict
from django.http import Http404

from accounts.models import User
from intake.models import DocumentKind, ReferringPediatrician, ReviewRequest
from intake.selectors import review_request_get_for_family, review_requests_for_user
from records.models import Document, FileType, HeldFile, Preview


def documents_for_request(*, review_request: ReviewRequest) -> QuerySet[Document]:
    """The request's files, oldest first, each with its first preview (``thumbnails``)."""
    first = Preview.objects.filter(series=1, position=1)
    return (
        review_request.documents.exclude(kind=DocumentKind.OPINION)
        .select_related("uploaded_by")
        .prefetch_related(Prefetch("previews", queryset=first, to_attr="thumbnails"))
        .order_by("uploaded_at")
    )


def documents_from_link(*, upload_link) -> QuerySet[Document]:
    """The files sent through one pediatrician's upload link: all its holder may see."""
    return upload_link.documents.order_by("uploaded_at")


def document_get_for_user(*, user: User, document_id) -> Document:
    """A document of a request ``user`` may see. The family sees the opinion letter only
    once it has been delivered to them (the coordinator reads it first)."""
    documents = Document.objects.filter(request__in=review_requests_for_user(user=user))
    if user.is_family:
        documents = documents.exclude(kind=DocumentKind.OPINION, request__delivered_at=None)
    try:
        return documents.select_related("request").get(pk=document_id)
    except (Document.DoesNotExist, ValueError):
        raise Http404 from None


def document_get_for_family(*, user: User, reference: str, document_id) -> Document:
    """A file of the family's own request (to remove it); 404 for anyone else."""
    review_request = review_request_get_for_family(user=user, reference=reference)
    try:
        return review_request.documents.select_related("request").get(pk=document_id)
    except Document.DoesNotExist:
        raise Http404 from None


def held_file_get_for_family(*, user: User, reference: str, held_id) -> HeldFile:
    """A report held aside from the family's own request; 404 for anyone else."""
    review_request = review_request_get_for_family(user=user, reference=reference)
    try:
        return HeldFile.objects.select_related("request").get(request=review_request, pk=held_id)
    except HeldFile.DoesNotExist:
        raise Http404 from None


def held_files_for_request(*, review_request: ReviewRequest) -> QuerySet[HeldFile]:
    """Reports held aside from the request's imaging, waiting for the family's answer."""
    return HeldFile.objects.filter(request=review_request).order_by("held_at")


def preview_get(*, preview_id) -> Preview | None:
    """A preview by id, unchecked: its document decides who may see it."""
    return Preview.objects.filter(pk=preview_id).first()


def request_of(document_id) -> int | None:
    """Which request a document belongs to, for logging a refused attempt (never shown)."""
    if document_id is None:
        return None
    return Document.objects.filter(pk=document_id).values_list("request_id", flat=True).first()


def pediatrician_details(*, review_request: ReviewRequest) -> dict:
    """The referral step's saved values, to fill the form again."""
    details = ReferringPediatrician.objects.filter(request=review_request).first()
    return model_to_dict(details, exclude=["id", "request", "updated_at"]) if details else {}


def imaging_get_for_viewer(*, user: User, document_id) -> Document:
    """A DICOM file or ZIP study for the imaging viewer: for the reviewers on its request's
    panel now, and coordinators and admins. Families read their own files as they sent them
    (``document_file``); the viewer's images are not for them. 404 for anyone else."""
    if not user.is_authenticated or user.is_family:
        raise Http404
    documents = Document.objects.filter(
        request__in=review_requests_for_user(user=user),
        file_type__in=[FileType.DICOM, FileType.DICOM_ZIP],
    )
    try:
        return documents.select_related("request").get(pk=document_id)
    except (Document.DoesNotExist, ValueError):
        raise Http404 from None


def series_placeholders(*, document: Document, series) -> dict[int, str]:
    """The worker's preview of each image's first frame in a series (``records.frames``),
    where one matches it (same place in the series, same shape), by its place: the viewer
    shows it while the image loads."""
    from django.urls import reverse

    previews = Preview.objects.filter(document=document, series=series.preview_series)
    found = {}
    for preview in previews.only("pk", "position", "width", "height"):
        if preview.position > len(series.images):
            continue
        image = series.images[preview.position - 1]
        if image.rows and abs(preview.width / preview.height - image.columns / image.rows) < 0.02:
            found[preview.position] = reverse("records:preview", args=[preview.pk])
    return found
