"""Small, real files for the demo (and the tests): a PDF letter, a photo, a CT image."""

import io

from PIL import Image, ImageDraw
from pydicom.data import get_testdata_file


def pdf() -> bytes:
    """A one-page PDF, as a scanner or a phone's "save as PDF" makes it."""
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


def photo(kind: str = "JPEG", size=(800, 600), text: str = "") -> bytes:
    image = Image.new("RGB", size, (245, 242, 235))
    if text:
        ImageDraw.Draw(image).text((40, 40), text, fill=(30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


def dicom(name: str = "CT_small.dcm") -> bytes:
    """One of the anonymised test images that ship with pydicom."""
    with open(get_testdata_file(name), "rb") as file:
        return file.read()
