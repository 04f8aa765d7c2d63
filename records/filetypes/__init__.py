"""What an uploaded file is, decided from its bytes, never from its name or the browser's word,
and the clean copy of it that is stored.

``inspect`` accepts PDF, JPEG, PNG, DICOM Part 10 and a ZIP of a DICOM study, and refuses
everything else with a sentence a parent can act on. For what it accepts it writes a clean
copy holding only the real document (``Checked.content``): nothing appended after the
format's end, no scripts or attached files in a PDF, a zero DICOM preamble, only the images
of a CD. It reads the upload in place and bounds every structure by the file's real size,
so a file that lies about itself costs no more time or memory than its own bytes.
"""

import os
import shutil
import tempfile
import threading

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from records.filetypes import dicom, pdf, pictures, study
from records.filetypes.common import ACCEPTED, CHUNK, Checked, Held, Rejected, size_of
from records.filetypes.dicom import EXECUTABLE_HEADERS, check_dicom
from records.filetypes.names import display_name
from records.filetypes.pdf import check_pdf
from records.filetypes.pictures import PNG_SIGNATURE, check_jpeg, check_png
from records.filetypes.study import check_study
from records.models import FileType
from records.sandbox import ChildBusy, ChildFailed, run_limited

# Checks this web process runs at once; other uploads wait their turn (their check's clock
# starts when it runs), so that many uploads at once slow each other down in turn instead
# of all passing their deadlines together on a busy CPU.
_checking = threading.BoundedSemaphore(settings.RECORDS_CHECKS_AT_ONCE)

__all__ = [
    "ACCEPTED",
    "EXECUTABLE_HEADERS",
    "Checked",
    "Held",
    "Rejected",
    "display_name",
    "file_type_of",
    "inspect",
    "inspect_here",
]
# What the family reads when checking a file of each type passed the child's limits.
TOO_COMPLEX = {
    FileType.PDF: gettext_lazy(
        "This PDF would take too long or too much memory to check safely, so it was not "
        "accepted. Print it to a new PDF, or scan it, and send that copy."
    ),
    FileType.JPEG: gettext_lazy(
        "This JPEG picture would take too long or too much memory to check safely, so it was "
        "not accepted. Save it again at a normal size and send the new copy."
    ),
    FileType.PNG: gettext_lazy(
        "This PNG picture would take too long or too much memory to check safely, so it was "
        "not accepted. Save it again at a normal size and send the new copy."
    ),
    FileType.DICOM: gettext_lazy(
        "This imaging file would take too long or too much memory to check safely, so it was "
        "not accepted. Export it again from the imaging CD or software and send the new copy."
    ),
    FileType.DICOM_ZIP: gettext_lazy(
        "This ZIP would take too long or too much memory to check safely, so it was not "
        "accepted. Make the ZIP again from the imaging CD or folder and send it."
    ),
}


def _damaged(file_type: FileType) -> Rejected:
    """A parser's own failure on a file of this type: the same as a damaged file."""
    if file_type in (FileType.JPEG, FileType.PNG):
        return pictures.damaged("JPEG" if file_type == FileType.JPEG else "PNG")
    return Rejected(
        {FileType.PDF: pdf.DAMAGED, FileType.DICOM: dicom.DAMAGED}.get(file_type, study.DAMAGED)
    )


WEB_CODE = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<iframe", b"<?xml")


def file_type_of(head: bytes) -> FileType | None:
    """What the first bytes say the file is (nothing is checked yet). A PDF may follow a
    byte-order mark or blank lines, as some systems write them; viewers read those."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").startswith(b"%PDF-"):
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
    the family to add as records.

    What the first bytes refuse is refused here; the rest is judged in a child process held
    to limits that grow with the file's size (``records.sandbox``), so a file built to make
    a parser loop or allocate costs no more than those limits."""
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    file_type = _type_or_refuse(head)
    size = size_of(file)
    if not _checking.acquire(timeout=settings.RECORDS_CHECK_QUEUE_SECONDS):
        raise ChildBusy("too many uploads being checked: none finished in time")
    folder = tempfile.mkdtemp(prefix="upload-check-")
    try:
        try:
            outcome = run_limited(
                _inspect_into,
                folder,
                file,
                hold_reports,
                memory=settings.RECORDS_CHECK_MEMORY_BYTES,
                cpu_seconds=1 + size / settings.RECORDS_CHECK_BYTES_PER_SECOND,
            )
        except ChildBusy:
            raise  # the server's state, not the file's: answered 503 (config.outages)
        except ChildFailed:
            raise Rejected(TOO_COMPLEX[file_type]) from None
        if "refused" in outcome:
            raise Rejected(outcome["refused"])
        return _checked(outcome, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _checking.release()


def _type_or_refuse(head: bytes) -> FileType:
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
    return file_type


def _inspect_into(folder: str, file, hold_reports: bool) -> dict:
    """In the child: judge the file, write the clean copy (and any held report) into
    ``folder``, and say what was found, as JSON."""
    try:
        checked = inspect_here(file, hold_reports=hold_reports)
    except Rejected as rejected:
        return {"refused": str(rejected)}
    parts = [("content", checked.content)] + [
        (f"held-{number}", held.content) for number, held in enumerate(checked.held)
    ]
    for name, content in parts:
        with content, open(os.path.join(folder, name), "wb") as out:
            content.seek(0)
            shutil.copyfileobj(content, out, CHUNK)
    return {
        "file_type": str(checked.file_type),
        "size": checked.size,
        "notes": [str(note) for note in checked.notes],
        "dicom_files": checked.dicom_files,
        "held": [{"name": held.name, "size": held.size} for held in checked.held],
    }


def _checked(outcome: dict, folder: str) -> Checked:
    """The child's answer as a ``Checked``, its files open (and already unlinked: they
    vanish when closed)."""

    def opened(name: str):
        path = os.path.join(folder, name)
        file = open(path, "rb")  # noqa: SIM115 (handed to the caller, who closes it)
        os.unlink(path)
        return file

    held = [
        Held(item["name"], opened(f"held-{number}"), item["size"])
        for number, item in enumerate(outcome["held"])
    ]
    return Checked(
        FileType(outcome["file_type"]),
        opened("content"),
        outcome["size"],
        outcome["notes"],
        dicom_files=outcome["dicom_files"],
        held=held,
    )


def inspect_here(file, *, hold_reports: bool = False) -> Checked:
    """``inspect`` in this process, without the child's limits (the child runs this)."""
    file.seek(0)
    file_type = _type_or_refuse(file.read(1024))
    file.seek(0)
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
    try:
        content, size, notes = check(file)
    except Rejected:
        raise
    except Exception:
        # Every parser's own failure on a hostile file means the same as a damaged file.
        raise _damaged(file_type) from None
    content.seek(0)
    return Checked(file_type, content, size, notes, dicom_files=int(file_type == FileType.DICOM))
