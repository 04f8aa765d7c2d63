import io

import pydicom
import pytest
from django.core.files.storage import default_storage

from records.models import Document, Preview, ProcessingState
from records.services import document_process, document_upload, documents_process_waiting
from tests import samples

pytestmark = pytest.mark.django_db


def uploaded(review_request, family, content, name, kind="imaging"):
    return document_upload(
        review_request=review_request,
        kind=kind,
        upload=samples.upload(content, name),
        actor=family,
        ip_address="",
    ).document


def stored_unchecked(review_request, family, content, name):
    """A file stored as it came, as files were before the upload decoded their first image:
    the worker must cope with whatever is in storage."""
    import hashlib

    key = default_storage.save(f"documents/{name}", io.BytesIO(content))
    return Document.objects.create(
        request=review_request,
        kind="imaging",
        original_name=name,
        storage_key=key,
        file_type="application/dicom",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=family,
    )


def previews_of(document):
    return list(Preview.objects.filter(document=document).order_by("series", "position"))


def png_size(preview):
    from PIL import Image

    with default_storage.open(preview.storage_key) as stored:
        return Image.open(io.BytesIO(stored.read())).size


def test_a_ct_image_gets_a_preview_and_its_study_details(family, family_draft):
    document = uploaded(family_draft, family, samples.dicom("CT_small.dcm"), "IM0001.dcm")

    assert document_process(document_id=document.pk) is True

    document.refresh_from_db()
    assert document.state == ProcessingState.READY
    assert document.dicom_metadata["study"]["Modality"] == "CT"
    assert document.dicom_metadata["images"] == 1
    [preview] = previews_of(document)
    assert png_size(preview) == (128, 128)
    assert preview.label.startswith("CT")


def test_no_patient_identifiers_are_kept_from_the_dicom_header(family, family_draft):
    content = samples.dicom("CT_small.dcm")
    header = pydicom.dcmread(io.BytesIO(content), stop_before_pixels=True)
    document = uploaded(family_draft, family, content, "IM0001.dcm")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    kept = repr(document.dicom_metadata)
    for identifier in (
        str(header.PatientName),
        str(header.PatientID),
        str(header.get("PatientBirthDate", "")),
        str(header.StudyInstanceUID),
    ):
        if identifier:
            assert identifier not in kept


def test_a_study_from_a_cd_is_shown_series_by_series(family, family_draft):
    content = samples.dicom_zip(
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small.dcm",
        extra={"VIEWER/setup.exe": b"MZ\x90\x00", "DICOMDIR": b"\0" * 200},
    )
    document = uploaded(family_draft, family, content, "study.zip")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert document.dicom_metadata["images"] == 3
    # Both samples say "series 1"; their UIDs tell them apart (CT's UID sorts first).
    series = [(item["Modality"], item["images"]) for item in document.dicom_metadata["series"]]
    assert series == [("CT", 1), ("MR", 2)]
    assert [(p.series, p.position) for p in previews_of(document)] == [(1, 1), (2, 1), (2, 2)]


def test_compressed_dicom_is_drawn_too(family, family_draft):
    document = uploaded(family_draft, family, samples.dicom("JPEG2000.dcm"), "IM0002.dcm")

    document_process(document_id=document.pk)

    assert len(previews_of(document)) == 1


def test_an_encoding_no_decoder_reads_keeps_the_file_and_its_details_without_a_preview(
    family, family_draft
):
    document = stored_unchecked(family_draft, family, samples.dicom("JPEG-lossy.dcm"), "IM0003.dcm")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert document.state == ProcessingState.READY
    assert document.dicom_metadata["previews_missing"] is True
    assert previews_of(document) == []


@pytest.mark.parametrize(
    ("content", "name", "kind", "size"),
    [
        (samples.image("JPEG", size=(3000, 2000)), "photo.jpg", "record", (1024, 683)),
        (samples.image("PNG", size=(64, 48)), "scan.png", "record", (64, 48)),
        (samples.pdf(), "report.pdf", "record", (792, 1024)),
    ],
)
def test_photos_and_pdfs_get_a_preview_no_larger_than_1024_pixels(
    family, family_draft, content, name, kind, size
):
    document = uploaded(family_draft, family, content, name, kind=kind)

    document_process(document_id=document.pk)

    [preview] = previews_of(document)
    assert png_size(preview) == size


def test_processing_happens_once_even_if_asked_twice(family, family_draft):
    document = uploaded(family_draft, family, samples.dicom(), "IM0001.dcm")

    first = document_process(document_id=document.pk)
    second = document_process(document_id=document.pk)

    assert (first, second) == (True, False)
    assert len(previews_of(document)) == 1


def test_a_file_that_cannot_be_read_fails_and_leaves_no_preview_behind(family, family_draft):
    document = uploaded(family_draft, family, samples.dicom(), "IM0001.dcm")
    default_storage.delete(document.storage_key)
    default_storage.save(document.storage_key, io.BytesIO(b"tampered"))

    assert document_process(document_id=document.pk) is False

    document.refresh_from_db()
    assert document.state == ProcessingState.FAILED
    assert previews_of(document) == []
    assert _stored("previews") == []


def test_the_sweep_picks_up_waiting_and_abandoned_documents(
    family, family_draft, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    waiting = uploaded(family_draft, family, samples.pdf(), "a.pdf", kind="record")
    abandoned = uploaded(family_draft, family, samples.pdf(), "b.pdf", kind="record")
    fresh = uploaded(family_draft, family, samples.pdf(), "c.pdf", kind="record")
    long_ago = timezone.now() - timedelta(hours=1)
    Document.objects.filter(pk=waiting.pk).update(uploaded_at=long_ago)
    Document.objects.filter(pk=abandoned.pk).update(
        uploaded_at=long_ago, state=ProcessingState.PROCESSING, processing_started_at=long_ago
    )

    assert documents_process_waiting() == 2

    assert Document.objects.get(pk=abandoned.pk).state == ProcessingState.RECEIVED
    assert Document.objects.get(pk=fresh.pk).state == ProcessingState.RECEIVED


def test_an_upload_is_processed_by_a_real_worker_after_commit(
    family, published_service, transactional_db
):
    import time

    from celery.contrib.testing.worker import start_worker

    from config.celery import app
    from tests.factories import review_request

    draft = review_request(family=family, service=published_service)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        document = uploaded(draft, family, samples.dicom(), "IM0001.dcm")
        deadline = time.monotonic() + 20
        # Wait on the stored previews folder, not the database (SQLite and two threads).
        while time.monotonic() < deadline and not _stored("previews"):
            time.sleep(0.2)

    document.refresh_from_db()
    assert document.state == ProcessingState.READY
    assert len(previews_of(document)) == 1


def _stored(folder):
    try:
        return default_storage.listdir(folder)[1]
    except FileNotFoundError:
        return []


def test_a_photo_taken_sideways_is_shown_upright(family, family_draft):
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view", as phones write it
    Image.new("RGB", (400, 200), (10, 10, 10)).save(buffer, "JPEG", exif=exif)
    document = uploaded(family_draft, family, buffer.getvalue(), "letter.jpg", kind="referral")

    document_process(document_id=document.pk)

    [preview] = previews_of(document)
    assert png_size(preview) == (200, 400)


def test_a_giant_pdf_page_is_drawn_no_larger_than_the_preview(family, family_draft):
    huge = samples.pdf().replace(b"/MediaBox[0 0 612 792]", b"/MediaBox[0 0 14400 14400]")
    document = uploaded(family_draft, family, huge, "poster.pdf", kind="record")

    document_process(document_id=document.pk)

    [preview] = previews_of(document)
    assert max(png_size(preview)) <= 1024


def test_the_image_count_comes_from_the_header_even_without_a_decoder(family, family_draft):
    document = stored_unchecked(family_draft, family, samples.dicom("JPEG-lossy.dcm"), "IM0003.dcm")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert document.dicom_metadata["images"] == 1
    assert document.dicom_metadata["previews_missing"] is True


def test_a_cds_directory_is_not_counted_as_a_series_of_the_study(family, family_draft):
    from tests.records.corpus import imaging_cd

    document = uploaded(family_draft, family, imaging_cd(report=False), "CD.zip")

    document_process(document_id=document.pk)

    document.refresh_from_db()
    assert document.dicom_metadata["images"] == 3
    assert [series["images"] for series in document.dicom_metadata["series"]] == [2, 1]
