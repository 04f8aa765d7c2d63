"""Imaging documents for the viewer's tests: DICOM files carrying patient fields (so a test
can check none reaches the browser), stored on a request as if the family had sent them."""

import io
import zipfile

import pydicom
from pydicom.data import get_testdata_file

from intake.models import DocumentKind
from records.services import document_create_generated, generated_bytes_store

# What the files say about the child: none of it may leave the server.
PATIENT = {
    "PatientName": "Rivera^Maya",
    "PatientID": "MRN-4471902",
    "PatientBirthDate": "20150304",
    "OtherPatientIDs": "GA-PEDS-88123",
    "InstitutionName": "Peachtree Imaging Center",
    "ReferringPhysicianName": "Ortiz^Lena",
    "AccessionNumber": "ACC-556677",
    "StudyDescription": "Spine for Maya Rivera",
}
SECRETS = [b"Rivera", b"Maya", b"4471902", b"20150304", b"88123", b"Peachtree", b"Ortiz", b"556677"]


def with_patient(name: str = "CT_small.dcm", **fields) -> bytes:
    """A pydicom sample with the child's details (and a private tag naming her) written in."""
    dataset = pydicom.dcmread(get_testdata_file(name))
    for keyword, value in {**PATIENT, **fields}.items():
        setattr(dataset, keyword, value)
    block = dataset.private_block(0x0009, "PORTAL TEST", create=True)
    block.add_new(0x01, "LO", "Maya Rivera")
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def pixels(content: bytes):
    return pydicom.dcmread(io.BytesIO(content)).pixel_array


def study_zip(*files: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, content in enumerate(files):
            archive.writestr(f"DICOM/IM{index:04d}", content)
    return buffer.getvalue()


def stored_imaging(review_request, content: bytes, *, name: str = "study.zip", actor=None):
    """Bytes stored on the request as an imaging document (as an accepted upload is)."""
    key = generated_bytes_store(content=content)
    return document_create_generated(
        review_request=review_request,
        kind=DocumentKind.IMAGING,
        name=name,
        key=key,
        content=content,
        actor=actor or review_request.family,
    )


def edited(content: bytes, *, remove=(), **fields) -> bytes:
    """The DICOM file with fields removed or set (e.g. no Pixel Spacing: not calibrated)."""
    dataset = pydicom.dcmread(io.BytesIO(content))
    for keyword in remove:
        delattr(dataset, keyword)
    for keyword, value in fields.items():
        setattr(dataset, keyword, value)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()
