"""What the corpus expects of a file: the types accepted, and the sentences of refusals
(a part of each, as the family reads it)."""

from dataclasses import dataclass, field

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
DICOM, STUDY = "application/dicom", "application/zip"
NOT_ACCEPTED = "is not accepted. Send PDF, JPEG or PNG files, DICOM images (.dcm), or a ZIP"
WEB_PAGE = "Web pages are not accepted"
PDF_DAMAGED = "This PDF is incomplete or damaged"
PDF_LOCKED = "This PDF needs a password to open"
PDF_TOO_LARGE = "This PDF holds a picture or page too large to open safely"
JPEG_DAMAGED = "This JPEG picture is damaged or incomplete"
PNG_DAMAGED = "This PNG picture is damaged or incomplete"
TOO_MANY_PIXELS = "picture is too large in pixels"
DICOM_DAMAGED = "This imaging file is incomplete or damaged. Export it again"
DICOM_PROGRAM = "This DICOM file hides a program in its header"
DICOM_NO_IMAGE = "This DICOM file holds no image"
DICOM_ENCODING = "This DICOM file uses an encoding we cannot read"
ZIP_DAMAGED = "This ZIP file is incomplete or damaged"
ZIP_OUTSIDE = "This ZIP contains files that point outside it"
ZIP_NO_STUDY = "This ZIP does not contain DICOM images"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@dataclass
class Case:
    id: str
    content: bytes
    outcome: str  # "accept", "clean" or "refuse"
    expect: str  # the file type accepted, or a part of the refusal
    name: str = "file.bin"
    kind: str = "imaging"
    shown_name: str = ""  # the name the family must see, where the case is about names
    notes: list[str] = field(default_factory=list)  # parts of notes the family must read
    held: int = 0  # reports held aside from a CD
