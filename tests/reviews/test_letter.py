"""The opinion letter as a PDF, read back with PDFium as a reader would see it."""

import io
import os
import subprocess
import sys
from dataclasses import replace

import pypdfium2
from django.conf import settings

from reviews.letter import LetterContent, PanelMember, letter_render

LEAD = PanelMember(
    name="Dr. Ana Lopez",
    credentials="MD, Orthopaedic surgery",
    agrees_with_diagnosis="Yes",
    agrees_with_plan="Partly",
)
PANEL = (
    LEAD,
    PanelMember(
        name="Dr. Ben Kim", credentials="MD, PhD", agrees_with_diagnosis="No", agrees_with_plan="No"
    ),
    PanelMember(
        name="Dr. Cara Nwosu", credentials="DO", agrees_with_diagnosis="Yes", agrees_with_plan="Yes"
    ),
)


def _content(**changes) -> LetterContent:
    content = LetterContent(
        reference="SO-7KQ2-M9XD",
        service_name="Spine document review",
        child_name="Maya Rivera",
        child_date_of_birth="March 4, 2015",
        guardian_name="Elena Rivera",
        conclusion="Offers a different path",
        recommendations="Wear the brace 18 hours a day.\nRepeat the standing X-ray in six months.",
        answers="Surgery is not needed now.\nSports are fine with the brace off.",
        dissent="",
        family_summary="Maya's curve is moderate and has not grown since last year.",
        panel=(LEAD,),
        signed_name="Dr. Ana Lopez",
        signed_credentials="MD",
        signed_at="November 21, 2026, 3:05 PM EST",
    )
    return replace(content, **changes)


def _pages(data: bytes) -> list[str]:
    """Each page's text with line breaks and runs of spaces as single spaces."""
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    finally:
        document.close()


def _metadata(data: bytes) -> dict[str, str]:
    document = pypdfium2.PdfDocument(io.BytesIO(data))
    try:
        return document.get_metadata_dict()
    finally:
        document.close()


def test_letter_prints_the_details_and_every_section_in_order():
    content = _content()

    (text,) = _pages(letter_render(content=content))

    assert "Second opinion: Spine document review" in text
    assert "Reference SO-7KQ2-M9XD" in text
    assert "Patient Maya Rivera" in text
    assert "Date of birth March 4, 2015" in text
    assert "Parent or guardian Elena Rivera" in text
    assert "Date November 21, 2026" in text
    sections = [
        "Summary for the family Maya's curve is moderate and has not grown since last year.",
        "Conclusion Offers a different path",
        "Recommendations Wear the brace 18 hours a day. Repeat the standing X-ray in six months.",
        "Answers to your questions Surgery is not needed now. Sports are fine with the brace off.",
        "Signed electronically by Dr. Ana Lopez, MD, on November 21, 2026, 3:05 PM EST",
    ]
    positions = [text.index(section) for section in sections]
    assert positions == sorted(positions)


def test_letterhead_comes_from_the_hospital_settings(settings):
    settings.HOSPITAL_NAME = "Lakeside Children's"
    settings.HOSPITAL_ADDRESS = "200 Shore Drive, Savannah, GA 31401"
    settings.HOSPITAL_PHONE = "912-555-0199"
    settings.HOSPITAL_WEBSITE = "lakeside.example"

    (text,) = _pages(letter_render(content=_content()))

    assert text.startswith(
        "Lakeside Children's 200 Shore Drive, Savannah, GA 31401 912-555-0199 · lakeside.example"
    )


def test_panel_letter_lists_each_member_with_their_agreement_then_the_dissent():
    content = _content(panel=PANEL, dissent="Dr. Kim would operate before the next growth spurt.")

    (text,) = _pages(letter_render(content=content))

    assert (
        "Panel Reviewer Credentials Agrees with the diagnosis Agrees with the plan "
        "Dr. Ana Lopez MD, Orthopaedic surgery Yes Partly "
        "Dr. Ben Kim MD, PhD No No "
        "Dr. Cara Nwosu DO Yes Yes "
        "Dissent Dr. Kim would operate before the next growth spurt. "
        "Signed electronically by"
    ) in text


def test_single_reviewer_letter_has_no_panel_table():
    (text,) = _pages(letter_render(content=_content()))

    assert "Panel" not in text
    assert "Agrees with" not in text
    assert "Dissent" not in text


def test_panel_without_dissent_leaves_the_dissent_out():
    (text,) = _pages(letter_render(content=_content(panel=PANEL, dissent="  \n")))

    assert "Dr. Cara Nwosu DO Yes Yes" in text
    assert "Dissent" not in text


def test_long_answers_flow_over_pages_each_numbered_and_carrying_the_reference():
    paragraphs = [
        f"Question {number}: " + "the curve is stable and " * 40 for number in range(1, 16)
    ]
    content = _content(answers="\n\n".join(paragraphs), panel=PANEL, dissent="Dr. Kim disagrees.")

    pages = _pages(letter_render(content=content))

    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Second opinion SO-7KQ2-M9XD" in text
    assert "Question 1:" in pages[0]
    assert "Question 15:" not in pages[0]
    assert "Signed electronically by Dr. Ana Lopez" in pages[-1]
    every_page = " ".join(pages)
    for number in range(1, 16):
        assert f"Question {number}:" in every_page


def test_typographic_punctuation_and_accented_names_print_as_written():
    content = _content(
        child_name="Zoë Dvořák",
        guardian_name="Łucja Dvořák",
        family_summary="The “watch and wait” plan – as she’s growing – is safe; café is fine.",
    )

    (text,) = _pages(letter_render(content=content))

    assert "Patient Zoë Dvořák" in text
    assert "Parent or guardian Łucja Dvořák" in text
    assert "The “watch and wait” plan – as she’s growing – is safe; café is fine." in text


def test_windows_line_breaks_tabs_and_control_characters_print_as_plain_text():
    content = _content(recommendations="Brace at night.\r\nPhysio:\tweekly.\x07\rReview in May.")

    (text,) = _pages(letter_render(content=content))

    assert "Recommendations Brace at night. Physio: weekly. Review in May." in text


def test_metadata_names_the_reference_and_the_signing_time_never_the_child():
    data = letter_render(content=_content())

    metadata = _metadata(data)

    assert metadata["Title"] == "Second opinion SO-7KQ2-M9XD"
    assert metadata["CreationDate"] == "D:20261121150500-05'00'"
    assert not any("Maya" in value or "Rivera" in value for value in metadata.values())


def test_signing_time_in_an_unknown_zone_dates_the_file_at_noon_utc_that_day():
    data = letter_render(content=_content(signed_at="November 21, 2026, 9:05 PM CET"))

    assert _metadata(data)["CreationDate"] == "D:20261121120000Z"


def test_the_same_letter_gives_identical_bytes():
    content = _content(panel=PANEL, dissent="Dr. Kim disagrees.")

    first = letter_render(content=content)
    second = letter_render(content=content)

    assert first == second
    assert letter_render(content=replace(content, dissent="Dr. Kim disagrees!")) != first


def test_the_same_letter_gives_identical_bytes_in_another_process():
    # Another process has another hash seed: nothing may depend on the order of a set.
    script = (
        "import sys, django; django.setup();"
        "from reviews.letter import letter_render;"
        "from tests.reviews.test_letter import _content;"
        "sys.stdout.buffer.write(letter_render(content=_content()))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONHASHSEED": "12345",
    }

    other = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        check=True,
    ).stdout

    assert other == letter_render(content=_content())
