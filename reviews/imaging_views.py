"""The imaging viewer in the reviewer workspace: the page for one DICOM file or study, and
the panel's measurements and key images on it (JSON, for the page's script). The images
themselves come through records' door (``records:series_open``), logged per series."""

import json
import uuid

from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.request_info import client_ip
from config.http import reads_raw_body
from intake.lifecycle import Status
from records.frames import study_index
from records.models import AccessLog
from records.selectors import series_placeholders
from records.services import CorruptDocument, access_log_write
from reviews import measurements, selectors
from reviews.models import FinalOpinion
from reviews.views import _reviewer

NOT_READABLE = "The data sent was not readable."
CORRUPT = "The stored study does not match the file that was sent; the team is told."


def _case_imaging(request, reference, document_id):
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    document = selectors.imaging_of_case(review_request=review_request, document_id=document_id)
    return review_request, document


def _can_edit(review_request) -> bool:
    signed = FinalOpinion.objects.filter(request=review_request, signed_at__isnull=False)
    return review_request.status == Status.IN_REVIEW and not signed.exists()


@_reviewer
def viewer(request, reference, document_id):
    """The viewer page: the study's series to choose from, the tools, the panel's
    measurements and key images. A study whose stored bytes changed is refused (logged)."""
    try:
        review_request, document = _case_imaging(request, reference, document_id)
    except Http404:
        access_log_write(
            user=request.user,
            review_request_id=selectors.request_id_for_log(reference=reference),
            document_id=document_id,
            action=AccessLog.Action.VIEW,
            outcome=AccessLog.Outcome.DENIED,
            ip_address=client_ip(request),
        )
        raise
    context = {"review_request": review_request, "document": document}
    try:
        study = study_index(document=document)
    except CorruptDocument:
        access_log_write(
            user=request.user,
            review_request_id=review_request.pk,
            document_id=document.pk,
            action=AccessLog.Action.VIEW,
            outcome=AccessLog.Outcome.CORRUPT,
            ip_address=client_ip(request),
        )
        return render(request, "reviews/viewer.html", {**context, "corrupt": True}, status=500)
    context.update(_page(request, review_request, document, study))
    return render(request, "reviews/viewer.html", context)


def _page(request, review_request, document, study) -> dict:
    base = (review_request.reference, document.pk)
    series = [
        {"number": s.number, "label": s.label, "images": len(s.images), "frames": s.frames}
        for s in study.series
    ]
    config = {
        "assets": static("viewer/"),
        "series": series,
        "seriesUrls": {
            s.number: reverse("records:series_open", args=[document.pk, s.number])
            for s in study.series
        },
        "measurementsUrl": reverse("reviews:measurements", args=base),
        "keyImagesUrl": reverse("reviews:key_images", args=base),
        "csrf": get_token(request),
        "canEdit": _can_edit(review_request),
    }
    first = study.series[0]
    return {
        "series": series,
        # The first image's preview is in the page: on screen before the viewer has loaded.
        "placeholder": series_placeholders(document=document, series=first).get(1),
        "viewer_config": json.dumps(config),
        "viewer_can_edit": config["canEdit"],
    }


def _measurement_json(measurement, user, reference) -> dict:
    return {
        "id": str(measurement.pk),
        "series": measurement.series,
        "image": measurement.image,
        "frame": measurement.frame,
        "tool": measurement.tool,
        "points": measurement.points,
        "label": measurement.label,
        "value": measurement.value,
        "unit": measurement.unit,
        "text": measurements.describe(measurement),
        "where": measurements.place_of(measurement),
        "author": measurement.reviewer.full_name,
        "mine": measurement.reviewer_id == user.pk,
        "delete_url": reverse(
            "reviews:measurement_delete",
            args=[reference, measurement.document_id, measurement.pk],
        ),
    }


def _key_images_json(document, user) -> list[dict]:
    return [
        {
            "id": str(key.pk),
            "series": key.series,
            "image": key.image,
            "frame": key.frame,
            "where": measurements.place_of(key),
            "author": key.reviewer.full_name,
            "mine": key.reviewer_id == user.pk,
        }
        for key in selectors.panel_key_images(document=document)
    ]


def _body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def _place(body: dict) -> dict:
    return {name: int(body[name]) for name in ("series", "image", "frame")}


# What a measurement or a key image sent by the viewer can be refused for.
WRITE_REFUSALS = (KeyError, TypeError, ValueError, measurements.MeasurementsClosed, CorruptDocument)


def _refusal(error: Exception) -> JsonResponse:
    """The viewer's answer to a write refused: a sentence, with its status."""
    if isinstance(error, measurements.MeasurementsClosed):
        return JsonResponse({"error": str(error)}, status=409)
    if isinstance(error, CorruptDocument):
        return JsonResponse({"error": CORRUPT}, status=500)
    message = str(error) if isinstance(error, measurements.MeasurementRefused) else NOT_READABLE
    return JsonResponse({"error": message}, status=400)


@reads_raw_body
@_reviewer
def measurements_view(request, reference, document_id):
    """GET: the panel's measurements and key images on the document. POST (JSON): save one
    of the reviewer's own (created or moved); the answer is the measurement as saved."""
    _, document = _case_imaging(request, reference, document_id)
    if request.method != "POST":
        return JsonResponse(
            {
                "measurements": [
                    _measurement_json(m, request.user, reference)
                    for m in selectors.panel_measurements(document=document)
                ],
                "key_images": _key_images_json(document, request.user),
            }
        )
    body = _body(request)
    try:
        saved = measurements.measurement_save(
            document=document,
            study=study_index(document=document),
            measurement_id=uuid.UUID(str(body.get("id"))),
            tool=str(body.get("tool", "")),
            points=body.get("points") or [],
            label=str(body.get("label") or ""),
            actor=request.user,
            **_place(body),
        )
    except WRITE_REFUSALS as error:
        return _refusal(error)
    return JsonResponse(_measurement_json(saved, request.user, reference))


@require_POST
@_reviewer
def measurement_delete(request, reference, document_id, measurement_id):
    _, document = _case_imaging(request, reference, document_id)
    measurement = selectors.measurement_get(document=document, measurement_id=measurement_id)
    try:
        measurements.measurement_delete(measurement=measurement, actor=request.user)
    except measurements.MeasurementRefused as refused:
        return JsonResponse({"error": str(refused)}, status=403)
    except measurements.MeasurementsClosed as closed:
        return JsonResponse({"error": str(closed)}, status=409)
    return JsonResponse({"deleted": str(measurement_id)})


def _window(body: dict) -> tuple[float, float] | None:
    if body.get("window_width") is None or body.get("window_center") is None:
        return None
    return float(body["window_center"]), float(body["window_width"])


@reads_raw_body
@require_POST
@_reviewer
def key_images(request, reference, document_id):
    """Mark or unmark the image as one of the reviewer's key images (JSON); the answer is
    the panel's key images on the document."""
    _, document = _case_imaging(request, reference, document_id)
    body = _body(request)
    try:
        measurements.key_image_set(
            document=document,
            study=study_index(document=document),
            key=bool(body.get("key")),
            window=_window(body),
            actor=request.user,
            **_place(body),
        )
    except WRITE_REFUSALS as error:
        return _refusal(error)
    return JsonResponse({"key_images": _key_images_json(document, request.user)})
