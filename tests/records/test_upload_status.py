"""Upload status tells the truth (issue 17): right after a file is accepted, the answer
carries the panel as the server now sees it (the list with the new file, the step's "Still
needed here" without it), and the page asks again until the worker has read the file. A PDF
shows its first page, or the file's icon when there is nothing to see: never an empty
square. In the browser: tests/browser/test_family_path.py."""

import json

import pytest
from django.urls import reverse

from intake.lifecycle import Status
from records.models import Document
from records.services import document_process
from tests import samples
from tests.conftest import sign_in
from tests.factories import review_request

pytestmark = pytest.mark.django_db


def text_pdf() -> bytes:
    """A one-page report with words on it, as a clinic's system writes it."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=28)
    for line in ("Radiology report", "Spine, two views", "Cobb angle 32 degrees"):
        pdf.cell(0, 20, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def send(client, draft, content, name, kind, panel="documents"):
    page = reverse("records:wizard_documents", args=[draft.reference])
    response = client.post(
        reverse("records:upload", args=[draft.reference]),
        {"kind": kind, "file": samples.upload(content, name), "panel": panel, "next": page},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    return json.loads(response.content)


def status(client, draft, panel="documents"):
    page = reverse("records:wizard_documents", args=[draft.reference])
    response = client.get(
        reverse("records:upload_status", args=[draft.reference]), {"panel": panel, "next": page}
    )
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def parent(client, family):
    return sign_in(client, family)


def test_the_answer_to_an_upload_lists_the_file_and_no_longer_asks_for_it(parent, family_draft):
    before = parent.get(reverse("records:wizard_documents", args=[family_draft.reference]))

    answer = send(parent, family_draft, samples.dicom(), "spine-ct.dcm", "imaging")

    assert "imaging (X-ray, MRI, CT)" in before.content.decode()
    panel = answer["panel"]
    assert "spine-ct.dcm" in panel["files"]
    assert "received; preview being prepared" in panel["files"]
    assert "being checked" not in panel["files"]
    assert panel["still_needed"] == "Still needed here: at least one file: medical records."
    assert panel["checking"] is True
    # The list is drawn as the page draws it: a reload shows exactly the same.
    page = parent.get(reverse("records:wizard_documents", args=[family_draft.reference]))
    assert "received; preview being prepared" in page.content.decode()
    assert "data-still-needed>Still needed here: at least one file: medical records." in (
        page.content.decode()
    )


def test_once_every_file_is_there_nothing_is_still_needed_on_the_step(parent, family_draft):
    send(parent, family_draft, samples.dicom(), "spine-ct.dcm", "imaging")

    answer = send(parent, family_draft, samples.image("JPEG"), "notes.jpg", "record")

    assert answer["panel"]["still_needed"] == ""
    page = parent.get(reverse("records:wizard_documents", args=[family_draft.reference]))
    assert "data-still-needed hidden" in page.content.decode()


def step_line(steps: str, title: str) -> str:
    """The item of the wizard's step list that names ``title``."""
    return next(item for item in steps.split("<li") if title in item)


def test_the_list_of_steps_is_drawn_again_with_each_answer(parent, family_draft):
    before = status(parent, family_draft)
    send(parent, family_draft, samples.dicom(), "spine-ct.dcm", "imaging")

    answer = send(parent, family_draft, samples.image("JPEG"), "notes.jpg", "record")

    assert "✓" not in step_line(before["steps"], "Records and imaging")
    steps = answer["panel"]["steps"]
    assert "✓" in step_line(steps, "Records and imaging")
    assert "(complete)" in step_line(steps, "Records and imaging")
    assert 'aria-current="step"' in step_line(steps, "Records and imaging")
    assert 'form="step-form"' in steps
    # Drawn as the page draws it: a reload shows the same list.
    page = parent.get(reverse("records:wizard_documents", args=[family_draft.reference]))
    assert step_line(steps, "Records and imaging").split("</li>")[0] in page.content.decode()


def test_a_panel_off_the_wizard_draws_no_list_of_steps(parent, family_draft):
    assert status(parent, family_draft, panel="all")["steps"] == ""


def test_the_status_changes_again_when_the_worker_has_read_the_file(parent, family_draft):
    send(parent, family_draft, samples.dicom(), "spine-ct.dcm", "imaging")
    document = Document.objects.get()

    document_process(document_id=document.pk)
    panel = status(parent, family_draft)

    assert panel["checking"] is False
    assert "preview being prepared" not in panel["files"]
    assert "1 series, 1 image" in panel["files"]
    assert "data-thumbnail" in panel["files"]


def test_a_pdf_with_words_shows_its_first_page_whole(parent, family_draft):
    send(parent, family_draft, text_pdf(), "report.pdf", "record")
    document = Document.objects.get()

    document_process(document_id=document.pk)
    panel = status(parent, family_draft)

    document.refresh_from_db()
    assert document.dicom_metadata["blank_first_page"] is False
    assert 'class="thumbnail thumbnail-page"' in panel["files"]
    assert "data-file-icon" not in panel["files"]


def test_a_pdf_whose_first_page_is_blank_shows_the_file_icon_not_an_empty_square(
    parent, family_draft
):
    send(parent, family_draft, samples.pdf(), "scan.pdf", "record")
    document = Document.objects.get()

    document_process(document_id=document.pk)
    panel = status(parent, family_draft)

    document.refresh_from_db()
    assert document.dicom_metadata["blank_first_page"] is True
    assert "data-thumbnail" not in panel["files"]
    assert "data-file-icon" in panel["files"]
    assert ">PDF</span>" in panel["files"]


def test_a_file_waiting_for_the_worker_shows_its_icon(parent, family_draft):
    answer = send(parent, family_draft, text_pdf(), "report.pdf", "record")

    assert "data-file-icon" in answer["panel"]["files"]
    assert "data-thumbnail" not in answer["panel"]["files"]


def test_the_status_page_s_files_sent_list_updates_too(parent, family):
    sent = review_request(family=family, status=Status.SUBMITTED)

    answer = send(parent, sent, samples.image("PNG"), "photo.png", "record", "all")

    assert "photo.png" in answer["panel"]["sent"]
    assert answer["panel"]["still_needed"] == ""  # no wizard step on the status page


def test_an_unknown_panel_or_a_foreign_page_is_ignored(parent, family_draft):
    send(parent, family_draft, samples.pdf(), "scan.pdf", "record")

    response = parent.get(
        reverse("records:upload_status", args=[family_draft.reference]),
        {"panel": "<script>", "next": "https://elsewhere.example.org/"},
    )

    panel = json.loads(response.content)
    assert "scan.pdf" in panel["files"]
    assert "elsewhere.example.org" not in panel["files"]
    assert panel["still_needed"] == ""


def test_another_family_cannot_read_the_status(client, other_family, family_draft):
    sign_in(client, other_family)

    response = client.get(reverse("records:upload_status", args=[family_draft.reference]))

    assert response.status_code == 404
