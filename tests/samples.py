"""Real files for tests, built in memory: each is what a parent's phone or an imaging CD
would produce, or a deliberately broken variant of it."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pydicom.data import get_testdata_file


def pdf() -> bytes:
    body = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\n"
    )
    xref = len(body)
    return body + (
        b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \n"
        b"0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\nstartxref\n"
        + str(xref).encode()
        + b"\n%%EOF\n"
    )


def image(kind: str = "PNG", size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


def dicom(name: str = "CT_small.dcm") -> bytes:
    with open(get_testdata_file(name), "rb") as file:
        return file.read()


def dicom_zip(*names: str, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, name in enumerate(names or ("CT_small.dcm", "MR_small.dcm")):
            archive.writestr(f"DICOM/IM{index:04d}", dicom(name))
        for path, content in (extra or {}).items():
            archive.writestr(path, content)
    return buffer.getvalue()


def upload(
    content: bytes, name: str = "report.pdf", content_type: str = "application/octet-stream"
):
    return SimpleUploadedFile(name, content, content_type=content_type)
