"""Reads of records, always through the request selectors: a document of a request someone
may not see is as missing for them as one that does not exist."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from accounts.models import User
from intake.models import ReviewRequest
from intake.selectors import review_requests_for_user
from records.models import Document, Preview


def documents_for_request(*, review_request: ReviewRequest) -> QuerySet[Document]:
    """The request's files, oldest first, each with its first preview (``thumbnails``)."""
    first = Preview.objects.filter(series=1, position=1)
    return (
        review_request.documents.select_related("uploaded_by")
        .prefetch_related(Prefetch("previews", queryset=first, to_attr="thumbnails"))
        .order_by("uploaded_at")
    )


def document_get_for_user(*, user: User, document_id) -> Document:
    try:
        return Document.objects.select_related("request").get(
            pk=document_id, request__in=review_requests_for_user(user=user)
        )
    except (Document.DoesNotExist, ValueError):
        raise Http404 from None
