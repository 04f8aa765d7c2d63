"""Whatever bytes and whatever name arrive, the family's upload answers 201 or a 4xx with a
sentence, and a refusal stores nothing. The files are the corpus's valid samples, mutated by
a seeded mutator (truncated, bytes flipped, data appended, headers spliced from another
format), so every run sends the same 240 files."""

import io
import json
import random

import pikepdf
import pytest
from django.urls import reverse
from pydicom.uid import DeflatedExplicitVRLittleEndian

from records.filetypes import inspect
from records.models import Document
from tests import samples
from tests.conftest import sign_in
from tests.records import corpus
from tests.records.test_corpus import multipart, stored_keys

pytestmark = pytest.mark.django_db

SAMPLES = {
    "pdf": corpus.pdf_document(2),
    "pdf-object-streams": corpus.pdf_document(
        2, object_stream_mode=pikepdf.ObjectStreamMode.generate
    ),
    "jpeg": corpus.picture("JPEG", size=(120, 90)),
    "jpeg-progressive": corpus.picture("JPEG", size=(120, 90), progressive=True),
    "png": corpus.picture("PNG", size=(120, 90)),
    "png-interlaced": corpus.interlaced_png(),
    "dicom": samples.dicom("CT_small.dcm"),
    "dicom-jpeg": samples.dicom("SC_rgb_jpeg_dcmtk.dcm"),
    "dicom-rle": samples.dicom("MR_small_RLE.dcm"),
    "dicom-deflated": corpus.dicom_image(syntax=DeflatedExplicitVRLittleEndian),
    "zip": samples.dicom_zip(),
    "cd": corpus.imaging_cd(),
}
HEADERS = [
    b"%PDF-1.7\n",
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"PK\x03\x04",
    bytes(128) + b"DICM",
]
NAMES = ["scan.pdf", "..", "~/x.dcm", "a" * 2000, "\u202eexe.pdf", "IM 1", "", "x.zip"]
MUTATIONS_PER_SAMPLE = 20


def mutate(content: bytes, rng: random.Random) -> bytes:
    data = bytearray(content)
    if len(data) < 2:
        return bytes(data) + rng.randbytes(8)
    kind = rng.choice(["truncate", "flip", "append", "splice", "zero", "repeat"])
    if kind == "truncate":
        return bytes(data[: rng.randrange(1, len(data))])
    if kind == "flip":
        for _ in range(rng.randrange(1, 16)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == "append":
        return bytes(data) + rng.randbytes(rng.randrange(1, 4000))
    if kind == "splice":
        return rng.choice(HEADERS) + bytes(data[rng.randrange(len(data)) :])
    if kind == "zero":
        start = rng.randrange(len(data))
        data[start : start + rng.randrange(1, 512)] = bytes(min(512, len(data) - start))
        return bytes(data)
    middle = rng.randrange(len(data))
    return (
        bytes(data[:middle])
        + bytes(data[middle : middle + 64]) * rng.randrange(2, 50)
        + bytes(data[middle:])
    )


def mutated_files():
    rng = random.Random(20261203)
    for label, content in SAMPLES.items():
        for number in range(MUTATIONS_PER_SAMPLE):
            yield f"{label}-{number}", mutate(content, rng), rng.choice(NAMES)


FILES = list(mutated_files())


@pytest.mark.parametrize(("label", "content", "name"), FILES, ids=[f[0] for f in FILES])
def test_a_mutated_file_is_accepted_cleanly_or_refused_with_a_sentence(
    client, family, family_draft, label, content, name
):
    sign_in(client, family)
    body, content_type = multipart({"kind": "imaging"}, name or "x", content)

    response = client.post(
        reverse("records:upload", args=[family_draft.reference]),
        body,
        content_type=content_type,
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code in (201, 400)
    answer = json.loads(response.content)
    if response.status_code == 400:
        assert len(answer["error"]) > 20
        assert stored_keys() == []
        assert not Document.objects.exists()
        return
    document = Document.objects.get()
    from django.core.files.storage import default_storage

    with default_storage.open(document.storage_key) as stored:
        again = inspect(io.BytesIO(stored.read()))
    assert (again.file_type, again.notes) == (document.file_type, [])
