"""Measurements and key images on a case's imaging: the values worked out from the points,
who may change what, and what the panel sees."""

import math
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from records.frames import study_index
from reviews import measurements
from reviews.measurements import MeasurementRefused, MeasurementsClosed, cobb_angle, measured
from reviews.models import KeyImage, Measurement, ReviewAssignment
from tests.conftest import sign_in
from tests.records.imaging import edited, stored_imaging, study_zip, with_patient

pytestmark = pytest.mark.django_db

CT = with_patient("CT_small.dcm")  # 128 by 128, Pixel Spacing 0.661468 mm
SPACING = 0.661468
UNCALIBRATED = edited(CT, remove=["PixelSpacing"], SeriesNumber=2)
# A standing film: Imager Pixel Spacing only, and a magnification the file states.
FILM = edited(
    CT,
    remove=["PixelSpacing", "DistanceSourceToDetector", "DistanceSourceToPatient"],
    SOPClassUID="1.2.840.10008.5.1.4.1.1.1.1",
    ImagerPixelSpacing=[0.2, 0.2],
    SeriesNumber=3,
)
MAGNIFIED = edited(FILM, EstimatedRadiographicMagnificationFactor=1.25, SeriesNumber=4)
# Two endplate lines, as a surgeon draws them on a curve (image pixels).
COBB = [[10, 20], [60, 30], [12, 90], [62, 70]]


@pytest.fixture
def study(panel):
    request, reviewers = panel
    document = stored_imaging(request, study_zip(CT, UNCALIBRATED, FILM, MAGNIFIED))
    return document, reviewers


def save(document, reviewer, *, tool="length", points=((10, 10), (40, 50)), series=1, **extra):
    fields = {"measurement_id": uuid.uuid4(), "image": 1, "frame": 1, "label": "", **extra}
    return measurements.measurement_save(
        document=document,
        study=study_index(document=document),
        series=series,
        tool=tool,
        points=[list(point) for point in points],
        actor=reviewer,
        **fields,
    )


def test_a_length_is_in_mm_from_the_pixel_spacing_or_in_pixels_without_one(study):
    document, (lead, *_) = study

    calibrated = save(document, lead, points=[(10, 10), (40, 50)])
    uncalibrated = save(document, lead, points=[(10, 10), (40, 50)], series=2)

    assert (calibrated.value, calibrated.unit) == (pytest.approx(50 * SPACING), "mm")
    assert measurements.describe(calibrated) == f"Length {50 * SPACING:.1f} mm"
    assert (uncalibrated.value, uncalibrated.unit) == (pytest.approx(50), "px")
    assert measurements.describe(uncalibrated) == "Length 50 px (not calibrated)"


def test_a_film_is_measured_at_the_detector_or_corrected_for_the_stated_magnification(study):
    document, (lead, *_) = study

    film = save(document, lead, points=[(0, 0), (0, 100)], series=3)
    magnified = save(document, lead, points=[(0, 0), (0, 100)], series=4)

    assert (film.value, film.unit) == (pytest.approx(20.0), "mm")
    assert (magnified.value, magnified.unit) == (pytest.approx(16.0), "mm")


def test_an_angle_is_measured_at_its_middle_point(study):
    document, (lead, *_) = study

    angle = save(document, lead, tool="angle", points=[(50, 10), (10, 10), (10, 50)])

    assert (angle.value, angle.unit) == (pytest.approx(90.0), "°")
    assert measurements.describe(angle) == "Angle 90.0°"


def test_the_cobb_angle_is_the_angle_between_the_two_lines_however_they_are_drawn():
    expected = math.degrees(math.atan2(10, 50) + math.atan2(20, 50))

    assert cobb_angle(COBB) == pytest.approx(expected)
    # Either end first, either line first: the same angle.
    reversed_lines = [COBB[1], COBB[0], COBB[3], COBB[2]]
    assert cobb_angle(reversed_lines) == pytest.approx(expected)
    assert cobb_angle(COBB[2:] + COBB[:2]) == pytest.approx(expected)
    # Pixel spacing that differs by direction changes the angle: it is measured in mm.
    value, unit = measured("cobb", COBB, (2.0, 1.0))
    assert unit == "°"
    assert value == pytest.approx(math.degrees(math.atan2(20, 50) + math.atan2(40, 50)))


def test_a_cobb_angle_is_saved_with_its_value(study):
    document, (lead, *_) = study

    cobb = save(document, lead, tool="cobb", points=COBB)

    assert cobb.value == pytest.approx(cobb_angle(COBB))
    assert measurements.describe(cobb) == f"Cobb angle {cobb_angle(COBB):.1f}°"
    assert measurements.place_of(cobb) == "Series 1 · image 1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tool": "ruler"}, "Choose a length"),
        ({"tool": "cobb"}, "A cobb needs 4 points."),
        ({"points": [(1, 1), (1e9, 1)]}, "far outside the image"),
        ({"points": [(1, 1), ("a", 1)]}, "not readable"),
        ({"series": 5}, "not in the study"),
        ({"image": 2}, "not in the study"),
        ({"frame": 2}, "not in the image"),
        ({"tool": "arrow", "label": "  "}, "Write the arrow's text."),
        ({"tool": "angle", "points": [(1, 1), (1, 1), (5, 5)]}, "no length"),
    ],
)
def test_a_measurement_that_cannot_be_kept_is_refused_with_the_reason(study, change, message):
    document, (lead, *_) = study

    with pytest.raises(MeasurementRefused, match=message):
        save(document, lead, **change)

    assert not Measurement.objects.exists()


def test_saving_again_with_the_same_id_moves_the_measurement(study):
    document, (lead, *_) = study
    first = save(document, lead)

    moved = save(document, lead, measurement_id=first.pk, points=[(10, 10), (10, 30)])

    assert Measurement.objects.get().pk == first.pk
    assert moved.value == pytest.approx(20 * SPACING)


def test_a_reviewer_cannot_change_or_remove_another_members_measurement(study):
    document, (lead, member, _) = study
    theirs = save(document, lead)

    with pytest.raises(MeasurementRefused):
        save(document, member, measurement_id=theirs.pk)
    with pytest.raises(MeasurementRefused):
        measurements.measurement_delete(measurement=theirs, actor=member)

    assert Measurement.objects.get().points == [[10, 10], [40, 50]]


def test_measurements_stop_once_the_letter_is_signed(signed, family):
    request, (lead, *_) = signed
    document = stored_imaging(request, CT, name="IM0001.dcm")

    with pytest.raises(MeasurementsClosed, match="signed"):
        save(document, lead)
    with pytest.raises(MeasurementsClosed):
        measurements.key_image_set(
            document=document,
            study=study_index(document=document),
            series=1,
            image=1,
            frame=1,
            key=True,
            window=None,
            actor=lead,
        )


def test_a_reviewer_taken_off_the_panel_cannot_measure(study):
    document, (_, member, _) = study
    ReviewAssignment.objects.filter(reviewer=member).update(removed_at=timezone.now())

    with pytest.raises(MeasurementsClosed, match="no longer on this case's panel"):
        save(document, member)


def key(document, reviewer, *, marked=True, window=(40.0, 400.0), image=1):
    return measurements.key_image_set(
        document=document,
        study=study_index(document=document),
        series=1,
        image=image,
        frame=1,
        key=marked,
        window=window,
        actor=reviewer,
    )


def test_a_key_image_is_marked_once_with_the_latest_window_and_can_be_unmarked(study):
    document, (lead, member, _) = study

    key(document, lead, window=(40.0, 400.0))
    key(document, lead, window=(500.0, 2000.0))
    key(document, member)

    mine = KeyImage.objects.get(reviewer=lead)
    assert (mine.window_center, mine.window_width) == (500.0, 2000.0)
    assert KeyImage.objects.count() == 2

    key(document, lead, marked=False)

    assert list(KeyImage.objects.values_list("reviewer", flat=True)) == [member.pk]


# --- Through the pages ---------------------------------------------------------------------


def url(name, document, *args):
    return reverse(f"reviews:{name}", args=[document.request.reference, document.pk, *args])


def post(client, address, body):
    return client.post(address, body, content_type="application/json")


def test_the_panel_sees_every_members_measurements_and_changes_only_its_own(client, study):
    document, (lead, member, third) = study
    theirs = save(document, lead, tool="cobb", points=COBB)
    save(document, third)  # saved before they left the panel: no longer shown
    ReviewAssignment.objects.filter(reviewer=third).update(removed_at=timezone.now())
    sign_in(client, member)

    listed = client.get(url("measurements", document)).json()["measurements"]

    assert [(m["id"], m["author"], m["mine"], m["text"]) for m in listed] == [
        (str(theirs.pk), lead.full_name, False, f"Cobb angle {cobb_angle(COBB):.1f}°")
    ]
    refused = post(client, url("measurement_delete", document, theirs.pk), {})
    assert refused.status_code == 403
    assert Measurement.objects.filter(pk=theirs.pk).exists()


def test_a_measurement_is_saved_and_removed_through_the_page(client, study):
    document, (lead, *_) = study
    sign_in(client, lead)
    measurement_id = str(uuid.uuid4())
    body = {"id": measurement_id, "series": 1, "image": 1, "frame": 1, "tool": "cobb"}

    saved = post(client, url("measurements", document), {**body, "points": COBB})

    assert saved.status_code == 200
    assert saved.json()["value"] == pytest.approx(cobb_angle(COBB))
    assert saved.json()["mine"] is True
    removed = post(client, saved.json()["delete_url"], {})
    assert removed.status_code == 200
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"id": "x", "series": 1, "image": 1, "frame": 1}',
        b'{"id": "4b7c6f4e-3c1e-4f7e-9a49-5f4c1a2b3c4d", "series": "one"}',
    ],
)
def test_unreadable_data_is_a_clear_400(client, study, body):
    document, (lead, *_) = study
    sign_in(client, lead)

    response = client.post(url("measurements", document), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "The data sent was not readable."


def test_a_closed_case_answers_409_with_the_reason(client, signed):
    request, (lead, *_) = signed
    document = stored_imaging(request, CT, name="IM0001.dcm")
    sign_in(client, lead)
    body = {"id": str(uuid.uuid4()), "series": 1, "image": 1, "frame": 1, "tool": "cobb"}

    response = post(client, url("measurements", document), {**body, "points": COBB})

    assert response.status_code == 409
    assert "signed" in response.json()["error"]


def test_key_images_are_toggled_through_the_page(client, study):
    document, (lead, member, _) = study
    key(document, member)
    sign_in(client, lead)
    place = {"series": 1, "image": 1, "frame": 1, "window_center": 300, "window_width": 1500}

    marked = post(client, url("key_images", document), {**place, "key": True}).json()
    unmarked = post(client, url("key_images", document), {**place, "key": False}).json()

    assert [(k["author"], k["mine"]) for k in marked["key_images"]] == [
        (member.full_name, False),
        (lead.full_name, True),
    ]
    assert [k["author"] for k in unmarked["key_images"]] == [member.full_name]


def test_the_opinion_page_offers_the_panels_measurements_to_cite(client, study):
    document, (lead, member, _) = study
    save(document, lead, tool="cobb", points=COBB)
    sign_in(client, member)

    page = client.get(reverse("reviews:opinion", args=[document.request.reference]))

    citation = (
        f"Cobb angle {cobb_angle(COBB):.1f}° (study.zip, series 1 · image 1; "
        f"measured by {lead.full_name})"
    )
    assert f'data-cite="{citation}"' in page.content.decode()
