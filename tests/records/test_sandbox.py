"""Previews are drawn in a child process held to hard limits: a file that slips past the
checks at upload can fail its own processing, never the worker."""

import os
import time

import pytest

from records import previews
from records.models import Preview, ProcessingState
from records.sandbox import RenderFailed, run_limited
from records.services import document_process
from tests import samples
from tests.records.test_processing import uploaded


def allocate(megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def spin() -> None:
    while True:
        pass


def crash() -> None:
    os.abort()


def test_the_result_comes_back_from_the_child():
    assert run_limited(sum, [1, 2, 3]) == 6


def test_memory_past_the_limit_fails_the_child_not_the_caller(settings):
    settings.RECORDS_RENDER_MEMORY_BYTES = 64 * 1024 * 1024

    with pytest.raises(RenderFailed):
        run_limited(allocate, 256)
    assert allocate(256) == 256 * 1024 * 1024  # this process itself is not limited


def test_cpu_time_past_the_limit_stops_the_child(settings):
    settings.RECORDS_RENDER_CPU_SECONDS = 1
    started = time.monotonic()

    with pytest.raises(RenderFailed):
        run_limited(spin)
    assert time.monotonic() - started < 10


def test_a_crash_in_a_decoder_fails_the_child_only():
    with pytest.raises(RenderFailed):
        run_limited(crash)


@pytest.mark.django_db
def test_a_document_whose_drawing_blows_the_limits_ends_failed_with_nothing_stored(
    family, family_draft, settings, monkeypatch
):
    settings.RECORDS_RENDER_MEMORY_BYTES = 64 * 1024 * 1024
    document = uploaded(family_draft, family, samples.image("PNG"), "scan.png", kind="record")
    monkeypatch.setitem(previews.RENDERERS, document.file_type, lambda _: allocate(512))

    assert document_process(document_id=document.pk) is False

    document.refresh_from_db()
    assert document.state == ProcessingState.FAILED
    assert not Preview.objects.exists()


@pytest.mark.django_db
def test_a_deflated_dicom_file_gets_its_preview(family, family_draft):
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    from tests.records.corpus import dicom_image

    content = dicom_image(rows=32, columns=32, frames=2, syntax=DeflatedExplicitVRLittleEndian)
    document = uploaded(family_draft, family, content, "IM0001.dcm")

    assert document_process(document_id=document.pk) is True

    assert Preview.objects.filter(document=document).count() == 2
