"""The checks' limits, the clean copies they write, and the names shown. Every kind of file
and its outcome is in the corpus (test_corpus.py); these are the details around it."""

import io
import zipfile

import pikepdf
import pypdfium2
import pytest

from records.filetypes import Rejected, display_name, inspect
from records.models import FileType
from tests import samples
from tests.records import corpus


def check(content: bytes, **options):
    return inspect(io.BytesIO(content), **options)


def refused(content: bytes) -> str:
    with pytest.raises(Rejected) as rejection:
        check(content)
    return str(rejection.value)


def stored(content: bytes) -> bytes:
    checked = check(content)
    with checked.content:
        return checked.content.read()


@pytest.mark.parametrize(
    ("name", "file_type", "shown"),
    [
        ("  Dr. Lee – referral (2).PDF ", FileType.PDF, "Dr. Lee – referral (2).PDF"),
        ("IM000001", FileType.DICOM, "IM000001.dcm"),
        ("IMG_0042.JPG", FileType.JPEG, "IMG_0042.JPG"),
        ("photo.jpeg", FileType.PNG, "photo.jpeg.png"),
        ("x" * 300 + ".zip", FileType.DICOM_ZIP, "x" * 116 + ".zip"),
        ("...", FileType.PDF, "Document 7.pdf"),
        ("   ", FileType.PDF, "Document 7.pdf"),
        (".bashrc", FileType.PDF, "bashrc.pdf"),
        ("~/x/y/scan.pdf", FileType.PDF, "scan.pdf"),
        ("C:\\Users\\me\\", FileType.PDF, "me.pdf"),
        ("report\x00\x1b.pdf", FileType.PDF, "report.pdf"),
        ("invoice\u202efdp.exe", FileType.PDF, "invoicefdp.exe.pdf"),
        ("a" * 130 + ". . .pdf", FileType.PDF, "a" * 116 + ".pdf"),
    ],
)
def test_the_name_shown_is_short_safe_and_ends_as_the_file_really_is(name, file_type, shown):
    assert display_name(name, file_type=file_type, number=7) == shown


def test_a_photo_without_extra_parts_is_stored_exactly_as_sent():
    photo, scan = samples.image("JPEG"), samples.image("PNG")

    assert (stored(photo), stored(scan)) == (photo, scan)


def test_a_dicom_file_is_stored_with_a_zero_preamble_and_ending_with_its_image():
    content = samples.dicom("MR_small.dcm")
    padding = content.rfind(b"\xfc\xff\xfc\xff")  # the scanner's trailing padding

    assert stored(content) == bytes(128) + content[128:padding]


def test_a_cleaned_pdf_keeps_every_page_and_its_text():
    content = corpus.active_pdf("open_action_script", "incremental")

    document = pypdfium2.PdfDocument(stored(content))

    assert len(document) == 2
    assert "Clinic letter, page 2" in document[1].get_textpage().get_text_range()


def test_an_owner_password_is_dropped_from_the_stored_copy():
    content = corpus.pdf_document(1, encryption=pikepdf.Encryption(owner="hospital", user=""))

    with pikepdf.open(io.BytesIO(stored(content))) as document:
        assert not document.is_encrypted


def test_a_cd_keeps_its_images_and_dicomdir_where_they_were_and_nothing_else():
    checked = check(corpus.imaging_cd(), hold_reports=True)

    with checked.content, zipfile.ZipFile(checked.content) as study:
        kept = study.namelist()
    assert kept == [
        "DICOMDIR",
        "DICOM/ST000000/SE000000/IM000000",
        "DICOM/ST000000/SE000000/IM000001",
        "DICOM/ST000000/SE000001/IM000000",
    ]
    assert checked.dicom_files == 3
    assert checked.notes[0] == (
        "We kept the 3 DICOM images and left out 6 other files that are not needed to read "
        "them (viewer.exe, dcmtk.dll, autorun.inf, index.htm, Thumbs.db and 1 more)."
    )
    assert [held.name for held in checked.held] == ["REPORT.PDF"]
    checked.close()


def test_a_cd_sent_without_holding_reports_leaves_the_report_out_with_the_rest():
    checked = check(corpus.imaging_cd())

    assert checked.held == []
    assert "left out 7 other files" in checked.notes[0]
    checked.close()


def test_a_zip_with_too_many_files_is_refused(settings):
    settings.RECORDS_ZIP_MAX_FILES = 3

    content = samples.dicom_zip("CT_small.dcm", "MR_small.dcm", "CT_small.dcm", "MR_small.dcm")

    assert refused(content) == "This ZIP holds more than 3 files. Send the study in parts."


def test_a_zip_that_unpacks_past_the_imaging_limit_is_refused(settings):
    settings.RECORDS_MAX_IMAGING_BYTES = 20_000

    assert "unpacks to more than the size accepted" in refused(samples.dicom_zip())


def test_a_pdf_with_more_pages_than_the_limit_is_refused(settings):
    settings.RECORDS_MAX_PDF_PAGES = 5

    assert refused(corpus.pdf_document(6)) == "This PDF has more than 5 pages. Send it in parts."


def test_a_picture_larger_in_bytes_than_the_limit_is_refused(settings):
    settings.RECORDS_MAX_PICTURE_BYTES = 1_048_576

    assert refused(corpus.picture("PNG", size=(1000, 1000), compress_level=0)) == (
        "This PNG picture is larger than 1 MB. Send a smaller copy."
    )


def test_pixels_are_counted_before_anything_is_decoded(settings):
    settings.RECORDS_MAX_IMAGE_PIXELS = 2_000_000

    assert "too large in pixels" in refused(samples.image("JPEG", size=(1500, 1500)))
    assert check(samples.image("JPEG", size=(1000, 1000))).file_type == FileType.JPEG


def test_the_first_images_of_a_study_are_decoded_at_upload(monkeypatch):
    from records.filetypes import study

    monkeypatch.setattr(study, "DECODED_AT_UPLOAD", 1)
    broken = corpus.dicom_refused_cases()
    undecodable = next(case.content for case in broken if case.id == "dicom-undecodable-jpeg")

    first = corpus.zip_of([("IM1", undecodable), ("IM2", samples.dicom())])
    later = corpus.zip_of([("IM1", samples.dicom()), ("IM2", undecodable)])

    assert "“IM1” in this ZIP is incomplete or damaged" in refused(first)
    assert check(later).dicom_files == 2  # checked by its structure; the worker draws it
