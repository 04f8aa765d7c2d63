"""The imaging viewer's door to the pixels. Opening a series is checked and written to the
access log once; the answer lists the series' images under a key made for that person and
series, so every image fetched afterwards belongs to an opening that was logged. Each image
fetch checks again who asks (a reviewer taken off the panel is refused at once).

Images are sent as DICOM files holding only the fields a viewer needs (``records.frames``),
never stored by the browser or a proxy (``Cache-Control: private, no-store``)."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse

from accounts.request_info import client_ip
from records import frames
from records.frame_headers import ImageUnreadable
from records.models import AccessLog
from records.selectors import imaging_get_for_viewer, request_of, series_placeholders
from records.services import CorruptDocument, access_log_write

KEY_SALT = "records.frames.series"
NO_STORE = "private, no-store, max-age=0"
UNREADABLE = "This image cannot be displayed; download the original."
CORRUPT = "The stored study does not match the file that was sent; the team is told."


def _log(request, document_id, outcome, review_request_id=None) -> None:
    access_log_write(
        user=request.user,
        review_request_id=review_request_id or request_of(document_id),
        document_id=document_id,
        action=AccessLog.Action.VIEW,
        outcome=outcome,
        ip_address=client_ip(request),
    )


def _imaging(request, document_id):
    """The document if this person may open it in the viewer; a refusal is logged."""
    try:
        return imaging_get_for_viewer(user=request.user, document_id=document_id)
    except Http404:
        _log(request, document_id, AccessLog.Outcome.DENIED)
        raise


def _study(request, document):
    """The study's structure, or None when the stored bytes no longer match (logged)."""
    try:
        return frames.study_index(document=document)
    except CorruptDocument:
        _log(request, document.pk, AccessLog.Outcome.CORRUPT, document.request_id)
        return None


def series_open(request, document_id, series):
    """The images of one series (JSON), each with its URL and frames, its pixel spacing and
    the stored preview to show while it loads. One access-log line per opening."""
    if not request.user.is_authenticated:
        _log(request, document_id, AccessLog.Outcome.DENIED)
        return redirect_to_login(request.get_full_path())
    document = _imaging(request, document_id)
    study = _study(request, document)
    if study is None:
        return JsonResponse({"error": CORRUPT}, status=500)
    chosen = study.series_at(series)
    if chosen is None:
        raise Http404
    _log(request, document.pk, AccessLog.Outcome.ALLOWED, document.request_id)
    key = signing.dumps([str(document.pk), series, request.user.pk], salt=KEY_SALT, compress=True)
    placeholders = series_placeholders(document=document, series=chosen)
    response = JsonResponse(
        {
            "series": chosen.number,
            "label": chosen.label,
            "images": [
                {
                    "url": reverse("records:series_image", args=[key, place]),
                    "frames": image.frames,
                    "rows": image.rows,
                    "columns": image.columns,
                    "spacing": image.spacing,
                    "spacing_source": image.spacing_source,
                    "placeholder": placeholders.get(place),
                }
                for place, image in enumerate(chosen.images, start=1)
            ],
        }
    )
    response["Cache-Control"] = NO_STORE
    return response


def series_image(request, key, image):
    """One image of an opened series, as a DICOM file without patient fields, streamed
    from storage after its bytes are checked. Only for the person who opened the series,
    while they may still see the request."""
    try:
        document_id, series, user_id = signing.loads(
            key, salt=KEY_SALT, max_age=settings.STAFF_SESSION_MAX_SECONDS
        )
    except (signing.BadSignature, ValueError, TypeError):
        _log(request, None, AccessLog.Outcome.DENIED)
        raise Http404 from None
    if not request.user.is_authenticated or request.user.pk != user_id:
        _log(request, document_id, AccessLog.Outcome.DENIED)
        raise Http404
    document = _imaging(request, document_id)
    study = _study(request, document)
    if study is None:
        return HttpResponse(CORRUPT, status=500, content_type="text/plain")
    chosen = study.series_at(series)
    if chosen is None or not 0 < image <= len(chosen.images):
        raise Http404
    return _image_response(request, document, chosen.images[image - 1])


def _image_response(request, document, image: frames.StudyImage):
    try:
        chunks, length = frames.image_stream(document=document, image=image)
    except CorruptDocument:
        _log(request, document.pk, AccessLog.Outcome.CORRUPT, document.request_id)
        return HttpResponse(CORRUPT, status=500, content_type="text/plain")
    except ImageUnreadable:
        return HttpResponse(UNREADABLE, status=422, content_type="text/plain")
    response = StreamingHttpResponse(chunks, content_type="application/dicom")
    response["Content-Length"] = str(length)
    response["Cache-Control"] = NO_STORE
    return response
