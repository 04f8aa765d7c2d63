"""A corpus of uploads, generated at test time: what parents really send (phone photos,
scanner PDFs, imaging CDs) and what an attacker or a broken export sends instead.

Each ``Case`` says what must happen to it: accepted as a file type (``accept``), accepted
with the stored copy made safe (``clean``: what was removed is checked on the stored bytes
by the test), or refused with a message (``refuse``: a part of the sentence the family
reads). Nothing here is read from disk but pydicom's own test images.
"""

from tests.records.corpus.builders import (
    dicom_image,
    imaging_cd,
    interlaced_png,
    pdf_document,
    picture,
    zip_of,
)
from tests.records.corpus.cases import DICOM, EICAR, JPEG, PDF, PNG, STUDY, Case
from tests.records.corpus.cleaned import active_pdf, pdf_clean_cases, polyglot_cases
from tests.records.corpus.imaging import cd_cases, dicom_refused_cases, zip_refused_cases
from tests.records.corpus.refused import (
    jpeg_refused_cases,
    not_accepted_cases,
    pdf_refused_cases,
    png_refused_cases,
)
from tests.records.corpus.valid import name_cases, valid_cases

__all__ = [
    "DICOM",
    "EICAR",
    "JPEG",
    "PDF",
    "PNG",
    "STUDY",
    "Case",
    "active_pdf",
    "build",
    "dicom_image",
    "dicom_refused_cases",
    "imaging_cd",
    "interlaced_png",
    "pdf_document",
    "picture",
    "zip_of",
]


def build() -> list[Case]:
    return [
        *valid_cases(),
        *not_accepted_cases(),
        *pdf_refused_cases(),
        *jpeg_refused_cases(),
        *png_refused_cases(),
        *dicom_refused_cases(),
        *zip_refused_cases(),
        *pdf_clean_cases(),
        *polyglot_cases(),
        *cd_cases(),
        *name_cases(),
    ]
