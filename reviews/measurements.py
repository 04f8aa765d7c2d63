"""Measurements and key images on a case's imaging: every write, and the values worked out
from the points a reviewer drew.

Values follow the viewer's library (Cornerstone3D) so the number saved is the number the
reviewer saw: lengths in mm from the image's pixel spacing (in pixels, "not calibrated",
where the file has none); angles in degrees in mm space; the Cobb angle between the two
lines as drawn, each turned to point at the other's nearest end.
"""

import math
import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from intake.lifecycle import Status
from intake.models import ReviewRequest
from records.frames import Study, StudyImage
from records.models import Document
from reviews.models import FinalOpinion, KeyImage, Measurement, MeasurementTool, ReviewAssignment

POINTS = {
    MeasurementTool.LENGTH: 2,
    MeasurementTool.ANGLE: 3,
    MeasurementTool.COBB: 4,
    MeasurementTool.ARROW: 2,
}
LABELS = {
    MeasurementTool.LENGTH: "Length",
    MeasurementTool.ANGLE: "Angle",
    MeasurementTool.COBB: "Cobb angle",
}


class MeasurementRefused(ValueError):
    """The measurement cannot be kept as sent; the message says why, for the reviewer."""


class MeasurementsClosed(Exception):
    """The case no longer takes measurements (not in review, or the letter is signed)."""


# --- Values -------------------------------------------------------------------------------


def _scaled(points, spacing) -> list[tuple[float, float]]:
    row, column = spacing or (1.0, 1.0)
    return [(x * column, y * row) for x, y in points]


def _angle(v1, v2) -> float:
    length = math.hypot(*v1) * math.hypot(*v2)
    if length == 0:
        raise MeasurementRefused("The lines of this angle have no length: draw it again.")
    cosine = max(-1.0, min(1.0, (v1[0] * v2[0] + v1[1] * v2[1]) / length))
    return math.degrees(math.acos(cosine))


def _minus(a, b) -> tuple[float, float]:
    return (a[0] - b[0], a[1] - b[1])


def cobb_angle(points) -> float:
    """The angle between two lines (four points, already in mm), each pointing towards the
    nearest end of the other (Cornerstone's CobbAngleTool)."""
    best = None
    for i in (0, 1):
        for j in (2, 3):
            distance = math.dist(points[i], points[j])
            if best is None or distance < best[0]:
                first = _minus(points[i], points[1 - i])
                second = _minus(points[j], points[5 - j])
                best = (distance, first, second)
    return _angle(best[1], best[2])


def measured(tool: str, points, spacing) -> tuple[float | None, str]:
    """The value of a measurement and its unit."""
    mm = _scaled(points, spacing)
    if tool == MeasurementTool.LENGTH:
        return math.dist(mm[0], mm[1]), "mm" if spacing else "px"
    if tool == MeasurementTool.ANGLE:
        return _angle(_minus(mm[0], mm[1]), _minus(mm[2], mm[1])), "°"
    if tool == MeasurementTool.COBB:
        return cobb_angle(mm), "°"
    return None, ""


def describe(measurement: Measurement) -> str:
    """What a measurement says, as the panel reads it and the opinion cites it."""
    if measurement.tool == MeasurementTool.ARROW:
        return f"Arrow: “{measurement.label}”"
    label = LABELS[measurement.tool]
    if measurement.unit == "px":
        return f"{label} {measurement.value:.0f} px (not calibrated)"
    if measurement.unit == "mm":
        return f"{label} {measurement.value:.1f} mm"
    return f"{label} {measurement.value:.1f}°"


def place_of(item) -> str:
    """Where a measurement or key image is: "Series 1 · image 10" (and the frame)."""
    frame = f" · frame {item.frame}" if item.frame > 1 else ""
    return f"Series {item.series} · image {item.image}{frame}"


# --- Writes -------------------------------------------------------------------------------


def _lock_open_case(document: Document, actor: User) -> ReviewRequest:
    """The document's request, locked, if it still takes measurements from ``actor``."""
    request = ReviewRequest.objects.select_for_update().get(pk=document.request_id)
    on_panel = ReviewAssignment.objects.filter(
        request=request, reviewer=actor, removed_at__isnull=True
    ).exists()
    if not on_panel:
        raise MeasurementsClosed("You are no longer on this case's panel.")
    signed = FinalOpinion.objects.filter(request=request, signed_at__isnull=False).exists()
    if request.status != Status.IN_REVIEW or signed:
        raise MeasurementsClosed(
            "The opinion on this case is signed or closed: measurements can no longer change."
        )
    return request


def _image_at(study: Study, series: int, image: int, frame: int) -> StudyImage:
    chosen = study.series_at(series)
    if chosen is None or not 0 < image <= len(chosen.images):
        raise MeasurementRefused("This image is not in the study.")
    found = chosen.images[image - 1]
    if not 0 < frame <= found.frames:
        raise MeasurementRefused("This frame is not in the image.")
    return found


def _checked_points(tool: str, points, image: StudyImage) -> list[list[float]]:
    if tool not in POINTS:
        raise MeasurementRefused("Choose a length, an angle, a Cobb angle or an arrow.")
    try:
        pairs = [[float(x), float(y)] for x, y in points]
    except (TypeError, ValueError):
        raise MeasurementRefused("The points of this measurement are not readable.") from None
    if len(pairs) != POINTS[tool]:
        raise MeasurementRefused(f"A {tool} needs {POINTS[tool]} points.")
    size = max(image.rows, image.columns, 1)
    if not all(math.isfinite(v) and -size <= v <= 2 * size for pair in pairs for v in pair):
        raise MeasurementRefused("A point of this measurement is far outside the image.")
    return pairs


def measurement_save(
    *,
    document: Document,
    study: Study,
    measurement_id: uuid.UUID,
    series: int,
    image: int,
    frame: int,
    tool: str,
    points,
    label: str,
    actor: User,
) -> Measurement:
    """Create or change ``actor``'s measurement with this id: its points are checked against
    the image, its value worked out from them. Only a panel member's own, only while the
    case is in review and the letter unsigned. Raises ``MeasurementRefused`` or
    ``MeasurementsClosed``."""
    found = _image_at(study, series, image, frame)
    pairs = _checked_points(tool, points, found)
    label = (label or "").strip()
    if tool == MeasurementTool.ARROW and not label:
        raise MeasurementRefused("Write the arrow's text.")
    value, unit = measured(tool, pairs, found.spacing)
    with transaction.atomic():
        _lock_open_case(document, actor)
        existing = Measurement.objects.select_for_update().filter(pk=measurement_id).first()
        if existing and (existing.reviewer_id != actor.pk or existing.document_id != document.pk):
            raise MeasurementRefused("This measurement is not yours to change.")
        fields = {
            "series": series,
            "image": image,
            "frame": frame,
            "tool": tool,
            "points": pairs,
            "label": label[:200] if tool == MeasurementTool.ARROW else "",
            "value": value,
            "unit": unit,
            "updated_at": timezone.now(),
        }
        if existing is None:
            return Measurement.objects.create(
                id=measurement_id, document=document, reviewer=actor, **fields
            )
        for name, field_value in fields.items():
            setattr(existing, name, field_value)
        existing.save(update_fields=list(fields))
        return existing


def measurement_delete(*, measurement: Measurement, actor: User) -> None:
    """Remove ``actor``'s own measurement, under the same rules as saving one."""
    with transaction.atomic():
        _lock_open_case(measurement.document, actor)
        if measurement.reviewer_id != actor.pk:
            raise MeasurementRefused("This measurement is not yours to remove.")
        Measurement.objects.filter(pk=measurement.pk).delete()


def key_image_set(
    *,
    document: Document,
    study: Study,
    series: int,
    image: int,
    frame: int,
    key: bool,
    window: tuple[float, float] | None,
    actor: User,
) -> KeyImage | None:
    """Mark (with the window it is read in) or unmark an image as one of ``actor``'s key
    images. Marking twice keeps one, with the newer window."""
    _image_at(study, series, image, frame)
    center, width = window if window and window[1] > 0 else (None, None)
    place = {"document": document, "series": series, "image": image, "frame": frame}
    with transaction.atomic():
        _lock_open_case(document, actor)
        if not key:
            KeyImage.objects.filter(reviewer=actor, **place).delete()
            return None
        marked, _ = KeyImage.objects.update_or_create(
            reviewer=actor,
            **place,
            defaults={"window_center": center, "window_width": width, "marked_at": timezone.now()},
        )
        return marked
