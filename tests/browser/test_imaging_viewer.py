"""The imaging viewer in headless Chromium: a spine panel reads the demo study, measures a
Cobb angle and marks a key image that the signed letter prints; nobody else gets an image."""

import io
import re

import pydicom
import pypdfium2
import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_started
from django.urls import reverse
from playwright.sync_api import expect

from demo.spine_study import spine_study_zip
from intake.lifecycle import Status
from intake.services import review_request_transition
from records.models import AccessLog
from records.services import document_process, document_upload
from reviews.measurements import cobb_angle
from reviews.models import KeyImage, Measurement
from reviews.services import panel_set
from tests import samples
from tests.browser.test_review_workspace import sign_in_with_code
from tests.factories import ReviewServiceFactory, review_request
from tests.records.imaging import stored_imaging, study_zip, with_patient
from tests.reviews.panel_setup import pool_reviewer, sign, submit_opinions

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Two endplate lines, drawn on screen around the middle of the image (offsets in CSS pixels).
LINES = (((-70, -60), (50, -40)), ((-60, 70), (60, 110)))


@pytest.fixture
def spine_case(family, coordinator):
    """The demo's spine study on a request in review, read by a panel of three."""
    service = ReviewServiceFactory(name="Spine document review", reviewers_required=3)
    request = review_request(
        family=family, status=Status.SUBMITTED, service=service, actor=coordinator
    )
    study = document_upload(
        review_request=request,
        kind="imaging",
        upload=samples.upload(spine_study_zip(), "Spine CT and standing X-ray.zip"),
        actor=family,
        ip_address="203.0.113.7",
    ).document
    assert document_process(document_id=study.pk)  # the worker's previews: placeholders
    request = review_request_transition(
        review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
    )
    panel = [pool_reviewer(service, name) for name in ("Dr. Avery Chen", "Dr. Blake Patel")]
    panel.append(pool_reviewer(service, "Dr. Drew Kim"))
    panel_set(review_request=request, reviewers=panel, lead=panel[0], actor=coordinator)
    outsider = pool_reviewer(service, "Dr. Emery Stone")
    return request, study, panel, outsider


def expected_cobb(lines) -> float:
    """The Cobb angle of the lines as drawn on screen: the image is shown at one scale in
    both directions and its pixels are square, so the angle on screen is the angle in mm."""
    return cobb_angle([point for line in lines for point in line])


def overlay_window(page) -> tuple[int, int]:
    text = page.locator("[data-overlay]").text_content()
    width, level = re.search(r"W (-?\d+) L (-?\d+)", text).groups()
    return int(width), int(level)


def draw_cobb(page, centre):
    page.get_by_role("button", name="Cobb angle").click()
    drawn = []
    for start, end in LINES:
        a = (centre[0] + start[0], centre[1] + start[1])
        b = (centre[0] + end[0], centre[1] + end[1])
        page.mouse.move(*a)
        page.mouse.down()
        page.mouse.move(*b, steps=6)
        page.mouse.up()
        drawn.append((a, b))
    return drawn


def open_viewer(page, base, reviewer, request, study):
    sign_in_with_code(page, base, reviewer)
    page.get_by_role("link", name=request.reference).click()
    page.get_by_role("link", name="Open in the viewer").click()
    expect(page.get_by_role("heading", name=study.original_name)).to_be_visible()
    expect(page.locator("[data-overlay]")).to_have_text(re.compile(r"^Image 1 · W 400 L 40"))
    # The tools arrive after the first image: the page says when they listen.
    expect(page.locator("[data-viewer][data-ready]")).to_be_attached()


def test_a_spine_panel_measures_a_cobb_angle_and_prints_the_key_image(
    live_server, page, browser, spine_case, csp_violations
):
    request, study, (lead, member, third), outsider = spine_case
    images = []  # the image URLs the viewer fetched (its worker's requests included)

    def note(environ, **kwargs):
        if environ["PATH_INFO"].startswith("/imaging/"):
            images.append(environ["PATH_INFO"])

    request_started.connect(note, weak=False)

    open_viewer(page, live_server.url, lead, request, study)
    viewport = page.locator("[data-viewport]")
    expect(page.locator("[data-spacing]")).to_have_text("Pixel spacing 0.80 \u00d7 0.80 mm")

    # To image 10: the wheel, then the keys; the slider and the counter follow.
    box = viewport.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*centre)
    for _ in range(5):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(60)
    expect(page.locator("[data-counter]")).to_have_text("6 / 24")
    viewport.focus()
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    expect(page.locator("[data-counter]")).to_have_text("10 / 24")
    expect(page.locator("[data-slider]")).to_have_value("10")
    expect(page.locator("[data-overlay]")).to_have_text(re.compile(r"^Image 10 "))

    # The window: the bone preset, then a drag with the window/level tool.
    page.get_by_label("Window preset").select_option("bone")
    expect(page.locator("[data-overlay]")).to_contain_text("W 2000 L 500")
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] + 80, centre[1] + 40, steps=5)
    page.mouse.up()
    # The overlay follows the drawing a frame later: waited for, on a busy machine too.
    expect(page.locator("[data-overlay]")).not_to_contain_text("W 2000 L 500")

    # A Cobb angle: saved with the value the server works out from the points.
    drawn = draw_cobb(page, centre)
    expect(page.locator("[data-status]")).to_have_text(re.compile(r"^Saved: Cobb angle"))
    measurement = Measurement.objects.get()
    assert (measurement.tool, measurement.series, measurement.image) == ("cobb", 1, 10)
    assert measurement.reviewer == lead
    assert measurement.value == pytest.approx(expected_cobb(drawn), abs=0.05)
    on_image = f"{measurement.value:.2f} °"
    expect(viewport.locator("svg text", has_text=on_image)).to_be_visible()

    # The key image, in the window it is read in.
    page.get_by_role("button", name="Mark as key image").click()
    expect(page.get_by_role("button", name="Key image ✓")).to_be_visible()
    key = KeyImage.objects.get()
    assert (key.reviewer, key.series, key.image) == (lead, 1, 10)
    assert (round(key.window_width), round(key.window_center)) == overlay_window(page)
    assert csp_violations == []

    # Ten images and more fetched, one log line: the series was opened once.
    request_started.disconnect(note)
    assert len(set(images)) >= 10
    assert AccessLog.objects.filter(user=lead, document_id=study.pk, action="view").count() == 1

    # Reviewer 2 sees the measurement, and is taken to its image.
    second = browser.new_context().new_page()
    open_viewer(second, live_server.url, member, request, study)
    listed = second.locator("[data-measurements] li")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"Cobb angle {measurement.value:.1f}° · Series 1 · image 10")
    expect(listed).to_contain_text("Dr. Avery Chen")
    expect(listed.get_by_role("button", name="Remove")).to_have_count(0)
    listed.get_by_role("button", name="Show").click()
    expect(second.locator("[data-counter]")).to_have_text("10 / 24")
    expect(second.locator("[data-viewport] svg text", has_text=on_image)).to_be_visible()

    # A reviewer not on the panel: the viewer and every image are a 404.
    outside = browser.new_context()
    sign_in_with_code(outside.new_page(), live_server.url, outsider)
    viewer_path = reverse("reviews:viewer", args=[request.reference, study.pk])
    assert outside.request.get(live_server.url + viewer_path).status == 404
    refused = {outside.request.get(live_server.url + path).status for path in set(images)}
    assert refused == {404}

    # The letter the lead signs prints the key image with its Cobb angle.
    submit_opinions(request, [lead, member, third])
    sign(request, lead)
    request.refresh_from_db()
    with default_storage.open(request.final_opinion.letter.storage_key, "rb") as stored:
        letter = pypdfium2.PdfDocument(io.BytesIO(stored.read()))
    texts = [" ".join(p.get_textpage().get_text_range().split()) for p in letter]
    key_page = next(index for index, text in enumerate(texts) if text.startswith("Key image 1"))
    assert f"Cobb angle {measurement.value:.1f}°" in texts[key_page]
    assert "series 1 · image 10, marked by Dr. Avery Chen" in texts[key_page]
    pictures = [
        o for o in letter[key_page].get_objects() if o.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE
    ]
    assert len(pictures) == 1
    letter.close()


def unreadable_code_stream(content: bytes) -> bytes:
    """A JPEG 2000 image whose code stream lost its start marker: the file's structure is
    sound (the server serves it), the decoder in the browser fails on it."""
    from pydicom.encaps import encapsulate, generate_frames

    dataset = pydicom.dcmread(io.BytesIO(content))
    frame = next(generate_frames(dataset.PixelData, number_of_frames=1))
    dataset.PixelData = encapsulate([b"\0\0" + frame[2:]])
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_each_encoding_is_drawn_and_an_image_that_cannot_be_decoded_says_so_alone(
    live_server, page, family_request, assigned_reviewer, csp_violations
):
    """One series in every encoding a CD brings (decoded in the browser: the codecs run in
    the viewer's worker), with an image cut short (refused by the server) and one whose
    code stream breaks the decoder: those two alone say what to do instead."""
    names = [
        "CT_small.dcm",  # uncompressed
        "MR_small_jp2klossless.dcm",  # JPEG 2000
        "JPEGLSNearLossless_16.dcm",  # JPEG-LS
        "SC_jpeg_no_color_transform.dcm",  # JPEG baseline
        "MR_small_RLE.dcm",  # RLE
    ]
    series = {"SeriesInstanceUID": "2.25.1", "SeriesNumber": 1}
    files = [with_patient(name, InstanceNumber=n, **series) for n, name in enumerate(names, 1)]
    files.append(with_patient("CT_small.dcm", InstanceNumber=6, **series)[:-3000])
    files.append(
        unreadable_code_stream(
            with_patient("MR_small_jp2klossless.dcm", InstanceNumber=7, **series)
        )
    )
    study = stored_imaging(family_request, study_zip(*files), name="cd.zip")

    sign_in_with_code(page, live_server.url, assigned_reviewer)
    page.goto(
        live_server.url + reverse("reviews:viewer", args=[family_request.reference, study.pk])
    )
    viewport, failure = page.locator("[data-viewport]"), page.locator("[data-failure]")
    for number in range(1, 8):
        if number > 1:
            page.get_by_role("button", name="Next image").click()
        expect(page.locator("[data-counter]")).to_have_text(f"{number} / 7")
        if number <= len(names):
            expect(viewport).to_have_attribute("data-shown", str(number))
            expect(failure).to_be_hidden()
        else:
            expect(failure).to_be_visible()
            expect(failure).to_have_text("This image cannot be displayed; download the original.")

    link = failure.get_by_role("link", name="download the original")
    assert (
        link.get_attribute("href")
        == reverse("records:document_file", args=[study.pk]) + "?download"
    )
    page.get_by_role("button", name="Previous image").click()
    page.get_by_role("button", name="Previous image").click()
    expect(viewport).to_have_attribute("data-shown", "5")
    expect(failure).to_be_hidden()
    assert csp_violations == []


def test_on_a_tablet_one_finger_measures_and_two_fingers_zoom(
    live_server, browser, family_request, assigned_reviewer
):
    context = browser.new_context(has_touch=True, viewport={"width": 1024, "height": 768})
    page = context.new_page()
    study = stored_imaging(family_request, study_zip(with_patient("CT_small.dcm")), name="cd.zip")
    sign_in_with_code(page, live_server.url, assigned_reviewer)
    page.goto(live_server.url + reverse("reviews:viewer", args=[study.request.reference, study.pk]))
    viewport = page.locator("[data-viewport]")
    expect(viewport).to_have_attribute("data-shown", "1")
    expect(page.locator("[data-viewer][data-ready]")).to_be_attached()
    box = viewport.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    fingers = page.context.new_cdp_session(page)

    def touch(kind, *points):
        touches = [{"x": px, "y": py, "id": n} for n, (px, py) in enumerate(points)]
        fingers.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})
        page.wait_for_timeout(30)

    page.get_by_role("button", name="Length").tap()
    touch("touchStart", (x - 60, y))
    for step in range(1, 9):
        touch("touchMove", (x - 60 + 15 * step, y + 5 * step))
    touch("touchEnd")
    expect(page.locator("[data-status]")).to_have_text(re.compile(r"^Saved: Length [\d.]+ mm\.$"))
    assert Measurement.objects.get().tool == "length"

    touch("touchStart", (x - 40, y), (x + 40, y))
    for step in range(1, 9):
        touch("touchMove", (x - 40 - 10 * step, y), (x + 40 + 10 * step, y))
    touch("touchEnd")
    zoom = re.search(r"zoom ([\d.]+)\u00d7", page.locator("[data-overlay]").text_content())[1]
    assert float(zoom) > 1.5
    context.close()
