"""What an uploaded file is, decided from its bytes, never from its name or the browser's word.

``identify`` accepts PDF, JPEG, PNG, DICOM Part 10 and a ZIP of a DICOM study, and refuses
everything else with a sentence a parent can act on. It reads the file in place (seekable,
on disk for large uploads) and never loads a large file into memory.
"""

import stat
import unicodedata
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import pydicom
import pypdfium2
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from records.models import FileType

ACCEPTED = "PDF, JPEG or PNG files, DICOM images (.dcm), or a ZIP of a DICOM study"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Headers of programs that must never sit in a DICOM preamble (CVE-2019-11687).
EXECUTABLE_HEADERS = (
    b"MZ",
    b"\x7fELF",
    b"#!",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa",
    b"\xcf\xfa\xed\xfe",
    b"PK\x03\x04",
)
WEB_CODE = (b"<html", b"<!doctype html", b"<script", b"<svg", b"<iframe", b"<?xml")
PIXEL_DATA = 0x7FE00010
UNDEFINED_LENGTH = 0xFFFFFFFF
# Control characters, and the invisible marks that reverse text ("cod.exe" shown as "exe.doc").
BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F)}


class Rejected(Exception):
    """The file is refused; the message says why and what is accepted, in plain words."""


@dataclass(frozen=True)
class Identified:
    file_type: FileType
    dicom_files: int = 0  # DICOM images found in a ZIP


def clean_file_name(name: str) -> str:
    """The name to show for an upload. Names that try to be paths, hide characters or run on
    for hundreds of characters are refused rather than silently rewritten."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not name:
        raise Rejected("The file has no name. Rename it and try again.")
    if len(name) > 150:
        raise Rejected(
            "The file name is too long (more than 150 characters). Rename it and try again."
        )
    if any(ord(char) < 32 or ord(char) == 127 or char in BIDI_CONTROLS for char in name):
        raise Rejected("The file name contains hidden characters. Rename it and try again.")
    if "/" in name or "\\" in name or name in {".", ".."} or name.startswith("."):
        raise Rejected("The file name looks like a folder path. Rename it and try again.")
    return name


def identify(file) -> Identified:
    """Check the file's bytes and say what it is; raise ``Rejected`` for anything else."""
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    if not head:
        raise Rejected("This file is empty.")
    if head.startswith(b"%PDF-"):
        _check_pdf(file)
        return Identified(FileType.PDF)
    if head.startswith(b"\xff\xd8\xff"):
        _check_image(file, "JPEG")
        return Identified(FileType.JPEG)
    if head.startswith(PNG_SIGNATURE):
        _check_image(file, "PNG")
        return Identified(FileType.PNG)
    if head[128:132] == b"DICM":
        _check_dicom(file, head[:128])
        return Identified(FileType.DICOM)
    if head.startswith(b"PK\x03\x04"):
        return Identified(FileType.DICOM_ZIP, dicom_files=_check_dicom_zip(file))
    raise Rejected(f"This type of file is not accepted. Send {ACCEPTED}.")


def _tail(file, size: int = 4096) -> bytes:
    file.seek(0, 2)
    end = file.tell()
    file.seek(max(0, end - size))
    tail = file.read()
    file.seek(0)
    return tail


def _refuse_web_code(*chunks: bytes) -> None:
    if any(marker in chunk.lower() for chunk in chunks for marker in WEB_CODE):
        raise Rejected(f"This file contains web-page code and is not accepted. Send {ACCEPTED}.")


def _check_pdf(file) -> None:
    damaged = "This PDF is incomplete or damaged (it may not have finished downloading)."
    tail = _tail(file)
    if b"%%EOF" not in tail:
        raise Rejected(damaged)
    if b"/Encrypt" in tail:
        raise Rejected("This PDF is password-protected. Send it without the password.")
    # Opened by PDFium (Chrome's PDF engine): its cross-reference table and pages must read.
    try:
        document = pypdfium2.PdfDocument(file)
    except pypdfium2.PdfiumError as error:
        password = "password" in str(error).lower()
        raise Rejected(
            "This PDF is password-protected. Send it without the password." if password else damaged
        ) from None
    try:
        if len(document) == 0:
            raise Rejected(damaged)
    finally:
        document.close()
        file.seek(0)


def _check_image(file, kind: str) -> None:
    damaged = f"This {kind} image is incomplete or damaged. Send it again, or a PDF instead."
    try:
        with warnings.catch_warnings():
            # Past ~89 million pixels Pillow only warns; such an image is refused here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                image.verify()  # PNG: every chunk's checksum; JPEG: the structure
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Rejected(f"This {kind} image is too large in pixels to be accepted.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Rejected(damaged) from None
    finally:
        file.seek(0)
    tail = _tail(file)
    if kind == "PNG" and not tail.endswith(b"IEND\xaeB`\x82"):
        # Bytes after the image's end are where PNG/HTML hybrids hide their page.
        raise Rejected(
            damaged
            if b"IEND" not in tail
            else "This PNG image carries extra data and is not accepted."
        )
    if kind == "JPEG" and b"\xff\xd9" not in tail:
        raise Rejected(damaged)
    _refuse_web_code(file.read(1024), tail)
    file.seek(0)


def _check_dicom(file, preamble: bytes) -> None:
    if preamble.startswith(EXECUTABLE_HEADERS):
        raise Rejected(
            "This DICOM file hides a program in its header, so it cannot be accepted. Export the "
            "images again from the imaging CD or software."
        )
    damaged = (
        "This DICOM file is incomplete or damaged. Export it again from the imaging CD or software."
    )
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    try:
        with warnings.catch_warnings():
            # pydicom warns (instead of failing) when compressed image data ends too early.
            warnings.simplefilter("error")
            dataset = pydicom.dcmread(file, defer_size=1024)
    except Exception:
        raise Rejected(damaged) from None
    finally:
        file.seek(0)
    if PIXEL_DATA in dataset:
        pixels = dataset.get_item(PIXEL_DATA, keep_deferred=True)
        value_tell = getattr(pixels, "value_tell", None)
        length = getattr(pixels, "length", UNDEFINED_LENGTH)
        if length != UNDEFINED_LENGTH and value_tell is not None and value_tell + length > size:
            raise Rejected(damaged)


def _check_dicom_zip(file) -> int:
    """Check a ZIP as burned on an imaging CD, without extracting it: its listing must be
    within the limits, free of paths that climb out, links and encryption, and hold at least
    one DICOM image. The extraction repeats the size limits on the real bytes."""
    not_study = f"This ZIP does not contain DICOM images. Send {ACCEPTED}."
    try:
        archive = zipfile.ZipFile(file)
        entries = [entry for entry in archive.infolist() if not entry.is_dir()]
        _check_zip_listing(entries)
        dicom_files = sum(_is_dicom_entry(archive, entry) for entry in entries)
    except NotImplementedError:
        # e.g. Deflate64, which Windows uses for large "compressed folders".
        raise Rejected(
            "This ZIP is packed in a way we cannot open. Make it again with "
            "standard compression, or send the DICOM files themselves."
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError):
        raise Rejected("This ZIP file is incomplete or damaged.") from None
    finally:
        file.seek(0)
    if not dicom_files:
        raise Rejected(not_study)
    return dicom_files


def _check_zip_listing(entries: list[zipfile.ZipInfo]) -> None:
    most = settings.RECORDS_ZIP_MAX_FILES
    if len(entries) > most:
        raise Rejected(f"This ZIP holds more than {most} files. Send the study in parts.")
    total = 0
    for entry in entries:
        parts = PurePosixPath(entry.filename.replace("\\", "/")).parts
        if (
            entry.filename.startswith(("/", "\\"))
            or PureWindowsPath(entry.filename).drive
            or ".." in parts
        ):
            raise Rejected("This ZIP contains files that point outside it and is not accepted.")
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise Rejected("This ZIP contains links and is not accepted.")
        if entry.flag_bits & 0x1:
            raise Rejected("This ZIP is password-protected. Send it without the password.")
        if entry.file_size > settings.RECORDS_ZIP_MAX_RATIO * max(entry.compress_size, 1):
            raise Rejected("This ZIP is packed suspiciously tightly and is not accepted.")
        total += entry.file_size
    if total > settings.RECORDS_MAX_IMAGING_BYTES:
        raise Rejected(
            "This ZIP unpacks to more than the size accepted for imaging. Send the study in parts."
        )


def _is_dicom_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    if PurePosixPath(entry.filename.replace("\\", "/")).name.upper() == "DICOMDIR":
        return False
    with archive.open(entry) as member:
        head = member.read(132)
    if head[128:132] != b"DICM":
        return False
    if head[:128].startswith(EXECUTABLE_HEADERS):
        # One disguised program refuses the whole study (CVE-2019-11687).
        raise Rejected(
            "This ZIP holds a DICOM file that hides a program in its header, so it cannot be "
            "accepted. Export the images again from the imaging CD or software."
        )
    return True
