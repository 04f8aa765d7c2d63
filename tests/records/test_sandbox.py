"""Untrusted files are judged (at upload) and drawn (previews) in a child process held to
hard limits: a file built to exhaust them fails itself, never the web process or the
worker, and the child hands back only JSON and the files it wrote."""

import os
import time

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError

from records import previews, sandbox
from records.models import Preview, ProcessingState
from records.sandbox import ChildBusy, ChildFailed, run_limited
from records.services import document_process
from tests import samples
from tests.records.test_processing import uploaded

LIMITS = {"memory": 64 * 1024 * 1024, "cpu_seconds": 1}


def allocate(folder: str, megabytes: int) -> int:
    return len(bytearray(megabytes * 1024 * 1024))


def spin(folder: str) -> None:
    while True:
        pass


def wait(folder: str) -> None:
    """Uses no CPU, as a child does while others have the machine's CPUs."""
    time.sleep(60)


def crash(folder: str) -> None:
    os.abort()


def write(folder: str, text: str) -> dict:
    with open(os.path.join(folder, "out.txt"), "w") as out:
        out.write(text)
    return {"written": "out.txt", "length": len(text)}


def test_the_result_and_the_files_come_back_from_the_child(tmp_path):
    result = run_limited(write, str(tmp_path), "hello", **LIMITS)

    assert result == {"written": "out.txt", "length": 5}
    assert (tmp_path / "out.txt").read_text() == "hello"


def test_memory_past_the_limit_fails_the_child_not_the_caller(tmp_path):
    with pytest.raises(ChildFailed):
        run_limited(allocate, str(tmp_path), 256, **LIMITS)
    assert allocate(str(tmp_path), 256) == 256 * 1024 * 1024  # this process is not limited


def test_cpu_time_past_the_limit_stops_the_child(tmp_path):
    started = time.monotonic()

    with pytest.raises(ChildFailed) as failed:
        run_limited(spin, str(tmp_path), **LIMITS)
    assert time.monotonic() - started < 10
    assert not isinstance(failed.value, ChildBusy)  # the file's fault: it is refused


def test_a_child_kept_from_the_cpu_past_its_deadline_is_busy_not_failed(
    tmp_path, settings, monkeypatch
):
    monkeypatch.setattr(sandbox, "GRACE_SECONDS", 0)
    settings.RECORDS_CHECK_BUSY_WAIT_SECONDS = 1
    started = time.monotonic()

    with pytest.raises(ChildBusy):
        run_limited(wait, str(tmp_path), **LIMITS)
    assert 4 <= time.monotonic() - started < 10  # the deadline (3 s), then the wait (1 s)


def test_a_crash_in_a_decoder_fails_the_child_only(tmp_path):
    with pytest.raises(ChildFailed):
        run_limited(crash, str(tmp_path), **LIMITS)


def test_a_child_answers_only_json(tmp_path):
    with pytest.raises(ChildFailed):
        run_limited(lambda folder: object(), str(tmp_path), **LIMITS)


@pytest.mark.django_db
def test_a_document_whose_drawing_blows_the_limits_ends_failed_with_nothing_stored(
    family, family_draft, settings, monkeypatch
):
    settings.RECORDS_RENDER_MEMORY_BYTES = 64 * 1024 * 1024
    document = uploaded(family_draft, family, samples.image("PNG"), "scan.png", kind="record")
    monkeypatch.setitem(previews.RENDERERS, document.file_type, lambda _: allocate("", 512))

    assert document_process(document_id=document.pk) is False

    document.refresh_from_db()
    assert document.state == ProcessingState.FAILED
    assert not Preview.objects.exists()


@pytest.mark.django_db
def test_a_document_drawn_on_a_busy_worker_is_received_again_for_the_sweep(
    family, family_draft, monkeypatch, settings
):
    settings.RECORDS_CHECK_BUSY_WAIT_SECONDS = 0
    document = uploaded(family_draft, family, samples.image("PNG"), "scan.png", kind="record")
    monkeypatch.setattr(sandbox, "GRACE_SECONDS", 0)
    monkeypatch.setattr(
        "records.services.render_limits", lambda: {"memory": 64 * 1024 * 1024, "cpu_seconds": 1}
    )
    monkeypatch.setitem(previews.RENDERERS, document.file_type, lambda _: wait(""))

    assert document_process(document_id=document.pk) is False

    document.refresh_from_db()
    assert document.state == ProcessingState.RECEIVED
    assert not Preview.objects.exists()


@pytest.mark.django_db
def test_a_deflated_dicom_file_gets_its_preview(family, family_draft):
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    from tests.records.corpus import dicom_image

    content = dicom_image(rows=32, columns=32, frames=2, syntax=DeflatedExplicitVRLittleEndian)
    document = uploaded(family_draft, family, content, "IM0001.dcm")

    assert document_process(document_id=document.pk) is True

    assert Preview.objects.filter(document=document).count() == 2


def previews_stored() -> set[str]:
    try:
        return set(default_storage.listdir("previews")[1])
    except FileNotFoundError:
        return set()


@pytest.mark.django_db
def test_a_database_error_while_drawing_leaves_the_document_for_the_sweep_not_failed(
    family, family_draft, monkeypatch
):
    """A good file is never marked failed for a moment's trouble of the database (SQLite's
    "database is locked" under several writers, a PostgreSQL restart): the sweep draws it."""
    document = uploaded(family_draft, family, samples.image("PNG"), "scan.png", kind="record")
    stored_before = previews_stored()

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    with monkeypatch.context() as patched:
        patched.setattr(Preview.objects, "bulk_create", locked)
        assert document_process(document_id=document.pk) is False

    document.refresh_from_db()
    assert document.state == ProcessingState.RECEIVED
    assert not Preview.objects.exists()
    assert previews_stored() == stored_before  # the previews drawn meanwhile were removed

    assert document_process(document_id=document.pk) is True
    document.refresh_from_db()
    assert document.state == ProcessingState.READY
    assert Preview.objects.filter(document=document).count() == 1
