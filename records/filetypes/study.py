"""A ZIP of a DICOM study, as parents copy an imaging CD into one.

A CD holds the images, a DICOMDIR, and things nobody here needs: a Windows viewer, an
autorun file, web pages, thumbnails, often a PDF report. The study is written again as a new
ZIP holding only the DICOM images (each checked and cleaned as a single DICOM file would be)
and the DICOMDIR; everything else is left out and named to the family, and a PDF report is
held so the family can send it as a record. An archive whose structure lies (entries it does
not have, a directory pointing past itself, duplicate or impossible names, paths that climb
out, links, encryption, archives inside it, a checksum that does not match, a damaged image)
is refused, naming the problem.
"""

import stat
import struct
import unicodedata
import zipfile
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, ngettext

from records.filetypes import dicom
from records.filetypes.common import (
    ACCEPTED,
    CHUNK,
    Held,
    Rejected,
    scratch,
    size_of,
)
from records.filetypes.names import HIDDEN_CHARACTERS

DAMAGED = gettext_lazy("This ZIP file is incomplete or damaged. Make the ZIP again and send it.")
NOT_A_STUDY = format_lazy(
    gettext_lazy("This ZIP does not contain DICOM images. Send {accepted}."), accepted=ACCEPTED
)
REMAKE = gettext_lazy("Make the ZIP again from the imaging CD or folder and send it.")
PACKING = gettext_lazy(
    "This ZIP is packed in a way we cannot open. Make it again with standard compression, "
    "or send the DICOM files themselves."
)
UNPACKS_TOO_LARGE = gettext_lazy(
    "This ZIP unpacks to more than the size accepted for imaging. Send the study in parts."
)
MAX_NAME = 255
EOCD = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
# Images decoded at upload (the first of each file), as a check that they are not damaged;
# the rest of a large study is checked by its structure, and drawn by the worker.
DECODED_AT_UPLOAD = 40
# PDF reports held aside from one CD for the family to add; any more are left out, named.
MOST_HELD = 5


def _entry_problem(name: str) -> str:
    return gettext("“%(name)s” in this ZIP") % {"name": name[:80]}


def check_study(file, *, hold_reports: bool = True):
    """Check a ZIP study and write the clean ZIP: (copy, size, notes, images, held files).
    Raises ``Rejected``."""
    claimed = _end_record(file)
    try:
        archive = zipfile.ZipFile(file)
        listing = archive.infolist()
    except Exception:
        raise Rejected(DAMAGED) from None
    with archive:
        if claimed is not None and claimed != len(listing):
            raise Rejected(DAMAGED)
        entries = [entry for entry in listing if not entry.is_dir()]
        _check_listing(entries)
        return _rewrite(archive, entries, hold_reports=hold_reports)


def _end_record(file) -> int | None:
    """The end-of-central-directory record must describe the directory the file holds: as
    many entries as it says, ending right where the record starts (a record claiming 65,535
    entries for three, or pointing away from the real directory, is refused before anything
    reads it). Returns the entries it claims, or None for a ZIP64 archive."""
    size = size_of(file)
    file.seek(max(0, size - 22 - 65_535))
    tail = file.read()
    file.seek(0)
    at = tail.rfind(EOCD)
    if at < 0 or len(tail) - at < 22:
        raise Rejected(DAMAGED)
    _, _, _, here, total, directory_size, directory_at, _ = struct.unpack(
        "<4s4H2LH", tail[at : at + 22]
    )
    record_at = size - len(tail) + at
    if tail[max(0, at - 20) : at - 16] == ZIP64_LOCATOR:
        return None  # ZIP64 (some writers repeat the real values here): zipfile checks it
    if 0xFFFF in (here, total) or 0xFFFFFFFF in (directory_size, directory_at):
        if tail[max(0, at - 20) : at - 16] != ZIP64_LOCATOR:
            raise Rejected(DAMAGED)
        return None  # ZIP64: zipfile reads and checks the 64-bit record itself
    if here != total or directory_at + directory_size != record_at:
        raise Rejected(DAMAGED)
    return total


def _check_listing(entries: list[zipfile.ZipInfo]) -> None:
    """Check the listing before anything is unpacked: counts, sizes, names, links and
    encryption."""
    most = settings.RECORDS_ZIP_MAX_FILES
    if len(entries) > most:
        raise Rejected(
            gettext("This ZIP holds more than %(most)s files. Send the study in parts.")
            % {"most": f"{most:,}"}
        )
    seen, total = set(), 0
    for entry in entries:
        _check_name(entry, seen)
        if stat.S_ISLNK(entry.external_attr >> 16):
            raise Rejected(gettext("This ZIP contains links and is not accepted."))
        if entry.flag_bits & 0x1:
            raise Rejected(
                gettext("This ZIP is password-protected. Make it again without a password.")
            )
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Rejected(PACKING)  # bzip2, LZMA, Deflate64…: unpacked without a limit
        if entry.file_size > settings.RECORDS_ZIP_MAX_RATIO * max(entry.compress_size, 1):
            raise Rejected(gettext("This ZIP is packed suspiciously tightly and is not accepted."))
        total += entry.file_size
    if total > settings.RECORDS_MAX_IMAGING_BYTES:
        raise Rejected(UNPACKS_TOO_LARGE)


def _check_name(entry: zipfile.ZipInfo, seen: set[str]) -> None:
    raw = entry.orig_filename
    if len(raw) > MAX_NAME:
        raise Rejected(
            gettext("A file inside this ZIP has a name far too long to be real.") + " " + REMAKE
        )
    if any(ord(char) < 32 or char in HIDDEN_CHARACTERS for char in raw):
        raise Rejected(
            gettext("A file inside this ZIP has hidden characters in its name.") + " " + REMAKE
        )
    path = raw.replace("\\", "/")
    parts = PurePosixPath(path).parts
    if path.startswith(("/", "~")) or PureWindowsPath(raw).drive or ".." in parts:
        raise Rejected(
            gettext("This ZIP contains files that point outside it and is not accepted.")
        )
    key = unicodedata.normalize("NFC", kept_name(raw)).casefold()
    if key in seen or not key:
        raise Rejected(
            gettext("This ZIP holds two files named “%(name)s”.") % {"name": raw[:80]}
            + " "
            + REMAKE
        )
    seen.add(key)


def kept_name(raw: str) -> str:
    """The path an entry unpacks to, as every system would write it: forward slashes, no
    empty or "." parts, no dots or spaces ending a part (Windows drops them)."""
    parts = (part.rstrip(". ") for part in raw.replace("\\", "/").split("/"))
    return "/".join(part for part in parts if part not in ("", "."))


def _classify(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> str:
    name = PurePosixPath(entry.filename).name.casefold()
    with archive.open(entry) as member:
        head = member.read(132)
    if name == "dicomdir" and head[128:132] == b"DICM":
        return "dicomdir"
    if head[128:132] == b"DICM":
        return "dicom"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or name.endswith(".zip"):
        return "archive" if not name.endswith(".jar") else "other"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return "other"


def _unpacked(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int):
    """One entry unpacked to a scratch file, counting real bytes against ``budget``; its
    CRC is checked by zipfile as the last byte is read."""
    copy, written = scratch(), 0
    try:
        with archive.open(entry) as member:
            for chunk in iter(lambda: member.read(CHUNK), b""):
                written += len(chunk)
                if written > budget:
                    raise Rejected(UNPACKS_TOO_LARGE)
                copy.write(chunk)
    except BaseException:
        copy.close()
        raise
    copy.seek(0)
    return copy, written


def _rewrite(archive: zipfile.ZipFile, entries, *, hold_reports: bool):
    clean, budget = scratch(), settings.RECORDS_MAX_IMAGING_BYTES
    images, left_out, held = 0, [], []
    try:
        with zipfile.ZipFile(clean, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as study:
            for entry in entries:
                kind = _read_kind(archive, entry)
                if kind == "archive":
                    raise Rejected(
                        gettext(
                            "%(entry)s is another ZIP. Unpack it and send its DICOM images, "
                            "or send it on its own."
                        )
                        % {"entry": _entry_problem(entry.filename)}
                    )
                size = None
                if kind in ("dicom", "dicomdir"):
                    decode = images < DECODED_AT_UPLOAD
                    size = _add_dicom(archive, entry, study, kind, decode=decode, budget=budget)
                elif kind == "pdf" and hold_reports and len(held) < MOST_HELD:
                    report = _held_report(archive, entry)
                    if report is not None:
                        held.append(report)
                        continue
                if size is None:
                    left_out.append(PurePosixPath(kept_name(entry.filename)).name)
                    continue
                budget -= size
                images += kind == "dicom"
    except BaseException:
        clean.close()
        for item in held:
            item.content.close()
        raise
    if not images:
        clean.close()
        raise Rejected(NOT_A_STUDY)
    notes = _notes(images, left_out, held)
    return clean, clean.seek(0, 2), notes, images, held


def _read_kind(archive, entry) -> str:
    try:
        return _classify(archive, entry)
    except NotImplementedError:
        raise Rejected(PACKING) from None
    except Exception:
        raise Rejected(_damaged_entry(entry)) from None


def _damaged_entry(entry) -> str:
    return (
        gettext("%(entry)s is damaged (it does not match its checksum).")
        % {"entry": _entry_problem(entry.filename)}
        + " "
        + REMAKE
    )


def _add_dicom(archive, entry, study, kind: str, *, decode: bool, budget: int) -> int | None:
    """Check one DICOM entry as a file of its own and write its clean copy into the study.
    Returns the bytes it unpacked to, or None for a DICOM object that is not an image (a
    report, a presentation state): it is left out with the other files."""
    try:
        member, size = _unpacked(archive, entry, budget)
    except Rejected:
        raise
    except NotImplementedError:
        raise Rejected(PACKING) from None
    except Exception:
        raise Rejected(_damaged_entry(entry)) from None
    with member:
        try:
            content, _, _ = dicom.check_dicom(member, image=kind == "dicom", decode=decode)
        except Rejected as rejected:
            if str(rejected) == dicom.NO_IMAGE:
                return None
            if str(rejected) == dicom.DAMAGED:
                raise Rejected(
                    gettext(
                        "%(entry)s is incomplete or damaged. Export the study again from the "
                        "imaging CD or software and send the new copy."
                    )
                    % {"entry": _entry_problem(entry.filename)}
                ) from None
            raise
    # An entry near 2 GiB needs ZIP64 sizes, decided before its first byte is written.
    with content, study.open(kept_name(entry.filename), "w", force_zip64=size > 2**30) as target:
        for chunk in iter(lambda: content.read(CHUNK), b""):
            target.write(chunk)
    return size


def _held_report(archive, entry) -> Held | None:
    """A PDF report on the CD, checked and cleaned as any PDF; left out if it is not fit."""
    from records.filetypes.pdf import check_pdf

    try:
        member, _ = _unpacked(archive, entry, settings.RECORDS_MAX_DOCUMENT_BYTES)
    except Exception:
        return None
    with member:
        try:
            content, size, _ = check_pdf(member)
        except Rejected:
            return None
    content.seek(0)
    return Held(PurePosixPath(entry.filename).name, content, size)


def _notes(images: int, left_out: list[str], held: list[Held]) -> list[str]:
    notes = []
    if left_out:
        shown = ", ".join(left_out[:5])
        if len(left_out) > 5:
            shown = gettext("%(names)s and %(count)s more") % {
                "names": shown,
                "count": len(left_out) - 5,
            }
        kept = ngettext(
            "We kept the %(images)s DICOM image", "We kept the %(images)s DICOM images", images
        ) % {"images": images}
        others = ngettext(
            "left out %(count)s other file that is not needed to read them",
            "left out %(count)s other files that are not needed to read them",
            len(left_out),
        ) % {"count": len(left_out)}
        notes.append(f"{kept} {gettext('and')} {others} ({shown}).")
    for report in held:
        notes.append(
            gettext(
                "%(name)s is a PDF report. It was not added with the images: add it as a "
                "medical record if the reviewers should read it."
            )
            % {"name": report.name}
        )
    return notes
