"""Key images in the signed letter: listed with their measurements, and printed on pages of
their own with the measurements drawn on from the saved points (server-side, Pillow)."""

import io
import uuid
from pathlib import Path

import pypdfium2
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from records.frames import study_index
from reviews import measurements
from reviews.key_images import LINE, KeyImageNote, Mark, draw_key_image
from reviews.models import ReviewAssignment
from tests.conftest import sign_in
from tests.records.imaging import stored_imaging, study_zip, with_patient
from tests.reviews.panel_setup import pool_reviewer, sign, submit_opinions

pytestmark = pytest.mark.django_db

CT = with_patient("CT_small.dcm")  # 128 by 128
MR = with_patient("MR_small.dcm", SeriesNumber=2)
COBB = [[10, 20], [60, 30], [12, 90], [62, 70]]
PICTURE = pypdfium2.raw.FPDF_PAGEOBJ_IMAGE


def pages(data: bytes) -> list[tuple[str, int]]:
    """Each page's text and how many pictures it holds."""
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return [
            (
                " ".join(page.get_textpage().get_text_range().split()),
                sum(1 for item in page.get_objects() if item.type == PICTURE),
            )
            for page in document
        ]
    finally:
        document.close()


def mark(document, reviewer, *, series=1, tool="cobb", points=COBB, label=""):
    common = {"document": document, "study": study_index(document=document), "actor": reviewer}
    measurements.measurement_save(
        measurement_id=uuid.uuid4(),
        series=series,
        image=1,
        frame=1,
        tool=tool,
        points=points,
        label=label,
        **common,
    )
    measurements.key_image_set(
        series=series, image=1, frame=1, key=True, window=(40.0, 400.0), **common
    )


@pytest.fixture
def study(panel):
    request, reviewers = panel
    return stored_imaging(request, study_zip(CT, MR), name="spine-cd.zip"), request, reviewers


def letter_of(request) -> bytes:
    request.refresh_from_db()
    with default_storage.open(request.final_opinion.letter.storage_key, "rb") as stored:
        return stored.read()


def test_the_signed_letter_lists_and_prints_the_panels_key_images(study):
    document, request, (lead, member, third) = study
    mark(document, lead)
    mark(document, member, series=2, tool="arrow", points=[[30, 30], [50, 60]], label="Syrinx?")
    submit_opinions(request, [lead, member, third])

    sign(request, lead)

    text = pages(letter_of(request))
    listing = next(page for page, _ in text if "Key images" in page)
    cobb = f"Cobb angle {measurements.cobb_angle(COBB):.1f}°"
    assert f"1. spine-cd.zip, CT, series 1 · image 1, marked by {lead.full_name}: {cobb}" in listing
    assert "2. spine-cd.zip, MR, series 1 · image 1" not in listing
    assert f"2. spine-cd.zip, MR, series 2 · image 1, marked by {member.full_name}" in listing
    assert "Arrow: “Syrinx?”" in listing
    printed = [(page, pictures) for page, pictures in text if page.startswith("Key image ")]
    assert [(page.split(" spine-cd")[0], pictures) for page, pictures in printed] == [
        ("Key image 1", 1),
        ("Key image 2", 1),
    ]
    assert cobb in printed[0][0]


def test_a_member_who_left_the_panel_has_no_key_image_in_the_letter(study):
    document, request, (lead, member, third) = study
    mark(document, member)
    ReviewAssignment.objects.filter(reviewer=member).update(removed_at=timezone.now())
    substitute = pool_reviewer(request.service, "Dana Ruiz")
    ReviewAssignment.objects.create(request=request, reviewer=substitute)
    submit_opinions(request, [lead, third, substitute])

    sign(request, lead)

    assert not [page for page, _ in pages(letter_of(request)) if "Key image" in page]


def test_a_key_image_that_cannot_be_drawn_is_listed_and_the_letter_is_still_signed(study):
    document, request, reviewers = study
    mark(document, reviewers[0])
    study_index(document=document)  # the study was read (and verified) when it was measured
    default_storage.delete(document.storage_key)
    default_storage.save(document.storage_key, io.BytesIO(study_zip(MR, CT)))
    submit_opinions(request, reviewers)

    sign(request, reviewers[0])

    printed = [page for page, _ in pages(letter_of(request)) if page.startswith("Key image 1")]
    assert "This image could not be printed" in printed[0]


def test_the_measurements_are_drawn_where_the_points_were_saved():
    note = KeyImageNote(
        document_id="",
        series=1,
        image=1,
        frame=1,
        window=(40.0, 400.0),
        caption="",
        marks=(Mark("length", ((16.0, 64.0), (112.0, 64.0)), "Length 63.5 mm"),),
    )
    font = str(Path(settings.BASE_DIR) / "static" / "fonts" / "DejaVuSans-Bold.ttf")

    drawn = Image.open(io.BytesIO(draw_key_image(io.BytesIO(CT), note, font))).convert("RGB")

    scale = drawn.width / 128  # printed at 1000 pixels a side
    assert drawn.size == (1000, 1000)
    on_the_line = drawn.getpixel((round(64 * scale), round(64 * scale)))
    off_the_line = drawn.getpixel((round(64 * scale), round(20 * scale)))
    assert on_the_line == LINE
    assert off_the_line != LINE


def test_the_final_opinion_page_shows_the_key_images_the_letter_will_print(client, study):
    document, request, reviewers = study
    mark(document, reviewers[1])
    submit_opinions(request, reviewers)
    sign_in(client, reviewers[0])

    page = client.get(reverse("reviews:final", args=[request.reference])).content.decode()

    assert "Key images the letter prints" in page
    assert f"spine-cd.zip, CT, series 1 · image 1, marked by {reviewers[1].full_name}" in page


def test_a_measurement_moved_while_the_lead_signs_stops_the_signing(study, monkeypatch):
    from reviews import services
    from reviews.models import FinalOpinion, Measurement

    document, request, (lead, member, third) = study
    mark(document, member)
    submit_opinions(request, [lead, member, third])
    draw = services.key_image_figures

    def draw_then_move(*, notes):
        figures = draw(notes=notes)
        moved = Measurement.objects.get()  # meanwhile, the member moves a line
        measurements.measurement_save(
            document=document,
            study=study_index(document=document),
            measurement_id=moved.pk,
            series=1,
            image=1,
            frame=1,
            tool="cobb",
            points=[[10, 20], [60, 40], [12, 90], [62, 70]],
            label="",
            actor=member,
        )
        return figures

    monkeypatch.setattr(services, "key_image_figures", draw_then_move)

    with pytest.raises(services.ReviewClosed, match="changed while you signed"):
        sign(request, lead)

    assert FinalOpinion.objects.get().signed_at is None
