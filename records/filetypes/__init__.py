"""What an uploaded file is, decided from its bytes, never from its name or the browser's word,
and the clean copy of it that is stored.

``inspect`` accepts PDF, JPEG, PNG, DICOM Part 10 and a ZIP of a DICOM study, and refuses
everything else with a sentence a parent can act on. For what it accepts it writes a clean
copy holding only the real document (``Checked.content``): nothing appended after the
format's end, no scripts or attached files in a PDF, a zero DICOM preamble, only the images
of a CD. It reads the upload in place and bounds every structure by the file's real size,
so a file that lies about itself costs no more time or memory than its own bytes.
"""

from django.utils.translation import gettext

from records.filetypes.common import ACCEPTED, Checked, Held, Rejected
from records.filetypes.dicom import EXECUTABLE_HEADERS, check_dicom
from records.filetypes.names import display_name
from records.filetypes.pdf import check_pdf
from records.filetypes.pictures import PNG_SIGNATURE, check_jpeg, check_png
from records.filetypes.study import check_study
from records.models import FileType

__all__ = [
    "ACCEPTED",
    "EXECUTABLE_HEADERS",
    "Checked",
    "Held",
    "Rejected",
    "display_name",
    "file_type_of",
    "inspect",
]
WEB_CODE = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<iframe", b"<?xml")


def file_type_of(head: bytes) -> FileType | None:
    """What the first 132 bytes say the file is (nothing is checked yet)."""
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith(PNG_SIGNATURE):
        return FileType.PNG
    if head[128:132] == b"DICM":
        return FileType.DICOM
    if head.startswith(b"PK\x03\x04"):
        return FileType.DICOM_ZIP
    return None


def inspect(file, *, hold_reports: bool = False) -> Checked:
    """Check the file's bytes and write the clean copy to store; raise ``Rejected`` for
    anything else. ``hold_reports`` keeps a CD's PDF reports aside (``Checked.held``) for
    the family to add as records."""
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    if not head:
        raise Rejected(gettext("This file is empty."))
    file_type = file_type_of(head)
    if file_type is None:
        if any(marker in head.lower() for marker in WEB_CODE):
            raise Rejected(
                gettext(
                    "Web pages are not accepted. Print the page to a PDF and send that, or send "
                    "%(accepted)s."
                )
                % {"accepted": ACCEPTED}
            )
        raise Rejected(
            gettext("This type of file is not accepted. Send %(accepted)s.")
            % {"accepted": ACCEPTED}
        )
    if file_type == FileType.DICOM_ZIP:
        content, size, notes, images, held = check_study(file, hold_reports=hold_reports)
        content.seek(0)
        return Checked(file_type, content, size, notes, dicom_files=images, held=held)
    check = {
        FileType.PDF: check_pdf,
        FileType.JPEG: check_jpeg,
        FileType.PNG: check_png,
        FileType.DICOM: check_dicom,
    }[file_type]
    content, size, notes = check(file)
    content.seek(0)
    return Checked(file_type, content, size, notes, dicom_files=int(file_type == FileType.DICOM))
