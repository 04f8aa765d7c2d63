"""Real files for tests, built in memory: each is what a parent's phone or an imaging CD
would produce, or a deliberately broken variant of it."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from demo import files


def pdf() -> bytes:
    return files.pdf()


def image(kind: str = "PNG", size=(64, 48)) -> bytes:
    return files.photo(kind, size)


def dicom(name: str = "CT_small.dcm") -> bytes:
    return files.dicom(name)


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
