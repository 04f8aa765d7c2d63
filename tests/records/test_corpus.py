"""Every file of the generated corpus (``tests/records/corpus.py``) sent through the family's
real upload path, as the page's script sends it: each is accepted, accepted with only the
real document stored, or refused with its sentence and nothing stored. Never a 500."""

import contextlib
import hashlib
import io
import json
import zipfile

import pikepdf
import pydicom
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from records.filetypes import inspect
from records.models import Document, HeldFile
from tests.conftest import sign_in
from tests.records import corpus

pytestmark = pytest.mark.django_db
CORPUS = corpus.build()
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}
ACTIVE_ACTIONS |= {"/Rendition", "/Sound", "/Movie", "/RichMediaExecute"}


def stored_keys() -> list[str]:
    keys = []
    for folder in ("documents", "previews"):
        with contextlib.suppress(FileNotFoundError):
            keys += default_storage.listdir(folder)[1]
    return keys


def send(client, review_request, case):
    """Post the file as a browser does, its name written into the body byte for byte (the
    test client's own encoder refuses names such as "..")."""
    body, content_type = multipart({"kind": case.kind}, case.name, case.content)
    return client.post(
        reverse("records:upload", args=[review_request.reference]),
        body,
        content_type=content_type,
        HTTP_ACCEPT="application/json",
    )


def multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----corpus" + hashlib.sha256(content).hexdigest()[:24]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    quoted = file_name.replace('"', "%22").encode("utf-8", "surrogatepass")
    parts.append(
        f"--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + quoted
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def active_content(content: bytes) -> list[str]:
    """What in a PDF could run, open, send or carry a file, found by reading every object
    (written independently of the portal's own cleaning)."""
    found = []
    with pikepdf.open(io.BytesIO(content)) as document:
        root = document.Root
        if isinstance(root.get("/OpenAction"), pikepdf.Dictionary):
            found.append("OpenAction")
        names = root.get("/Names")
        if isinstance(names, pikepdf.Dictionary):
            found += [key for key in ("/JavaScript", "/EmbeddedFiles") if key in names]
        form = root.get("/AcroForm")
        if isinstance(form, pikepdf.Dictionary) and "/XFA" in form:
            found.append("XFA")
        for item in document.objects:
            if isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
                found += _active_in(item)
    return found


def _active_in(item) -> list[str]:
    found, pending = [], [item]
    while pending:
        current = pending.pop()
        if isinstance(current, pikepdf.Array):
            pending += [v for v in current if isinstance(v, (pikepdf.Dictionary, pikepdf.Array))]
            continue
        if "/AA" in current or "/JS" in current:
            found.append("trigger or script")
        if current.get("/S") in ACTIVE_ACTIONS:
            found.append(str(current.get("/S")))
        if current.get("/Subtype") in ("/FileAttachment", "/RichMedia", "/Screen"):
            found.append(str(current.get("/Subtype")))
        pending += [
            value
            for _, value in current.items()
            if isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect
        ]
    return found


def check_stored(case, stored: bytes) -> None:
    """What must be true of the bytes kept, whatever the upload carried."""
    again = inspect(io.BytesIO(stored))
    assert again.file_type == case.expect
    assert again.notes == []  # the clean copy has nothing left to remove
    if case.expect == corpus.PDF:
        assert active_content(stored) == []
        assert stored.rstrip().endswith(b"%%EOF")
        assert corpus.EICAR not in stored
    elif case.expect == corpus.JPEG:
        assert stored.endswith(b"\xff\xd9")
        for marker in (b"<?php", b"<script", b"<html", b"PK\x03\x04", corpus.EICAR):
            assert marker not in stored
    elif case.expect == corpus.PNG:
        assert stored.endswith(b"IEND\xaeB`\x82")
        for marker in (b"tEXt", b"zTXt", b"<script", b"<html", b"PK\x03\x04"):
            assert marker not in stored
    elif case.expect == corpus.DICOM:
        assert stored[:128] == bytes(128)
        pydicom.dcmread(io.BytesIO(stored))
        for marker in (b"PK\x03\x04", b"<html", corpus.EICAR):
            assert marker not in stored[-4096:]
    else:
        with zipfile.ZipFile(io.BytesIO(stored)) as study:
            for entry in study.infolist():
                content = study.read(entry)
                assert content[128:132] == b"DICM"
                assert content[:128] == bytes(128)


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_every_file_of_the_corpus(case, client, family, family_draft):
    sign_in(client, family)

    response = send(client, family_draft, case)

    assert response.status_code in (201, 400), response.content[:300]
    answer = json.loads(response.content)
    if case.outcome == "refuse":
        assert response.status_code == 400
        assert case.expect in answer["error"]
        assert not Document.objects.exists()
        assert not HeldFile.objects.exists()
        assert stored_keys() == []
        return
    assert response.status_code == 201, answer
    document = Document.objects.get()
    assert document.file_type == case.expect
    with default_storage.open(document.storage_key) as file:
        stored = file.read()
    assert (len(stored), hashlib.sha256(stored).hexdigest()) == (document.size, document.sha256)
    check_stored(case, stored)
    if case.outcome == "accept":
        assert answer["notes"] == []
    for part in case.notes:
        assert any(part.lower() in note.lower() for note in answer["notes"]), answer["notes"]
    assert len(answer["held"]) == HeldFile.objects.count() == case.held
    if case.shown_name:
        assert answer["document"]["name"] == document.original_name == case.shown_name


def test_the_corpus_is_large_and_covers_every_outcome():
    outcomes = {
        outcome: sum(case.outcome == outcome for case in CORPUS)
        for outcome in ("accept", "clean", "refuse")
    }

    assert len(CORPUS) >= 300
    assert min(outcomes.values()) >= 50
