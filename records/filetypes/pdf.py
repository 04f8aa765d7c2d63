"""PDFs, opened with qpdf (pikepdf) and written again as a clean copy.

Reviewers and coordinators open these files on hospital computers, so what is stored is a
PDF that can only show its pages: scripts, actions that run on opening or on a keystroke,
launching programs, submitting forms, links to other files, attached files and XFA forms are
removed wherever they sit (object streams, hex-escaped names and incremental updates are
read by qpdf as a viewer would read them), and the copy is written whole again, so nothing
appended after the end of the PDF survives. Bombs are refused before anything inflates them:
a page tree that loops or lies about its pages, a stream that inflates past a limit, an
image too large in pixels.
"""

import zlib

import pikepdf
import pypdfium2
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from records.filetypes.common import CHUNK, Rejected, scratch

DAMAGED = gettext_lazy("This PDF is incomplete or damaged (it may not have finished downloading).")
LOCKED = gettext_lazy(
    "This PDF needs a password to open. Save it again without the password (or print it to a "
    "new PDF) and send that copy."
)
CLEANED = gettext_lazy(
    "Scripts, automatic actions and attached files were removed from this PDF so it is safe "
    "to open; its pages are unchanged."
)
EXTRA_DATA = gettext_lazy("Extra data stored after the end of this PDF was left out.")
# Actions that run code, open programs or other files, or send data somewhere.
ACTIVE_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/Rendition",
    "/Sound",
    "/Movie",
    "/RichMediaExecute",
}
# Annotations that carry files, media or 3D content rather than marks on the page.
CONTAINERS = (pikepdf.Dictionary, pikepdf.Stream)
SAFE_ADDRESSES = ("http://", "https://", "mailto:")
TOO_COMPLEX = gettext_lazy(
    "This PDF is built of too many parts to be checked safely. Print it to a new PDF, or "
    "scan it, and send that copy."
)
ACTIVE_ANNOTATIONS = {"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D"}


def check_pdf(file):
    """Check a PDF and write its clean copy: (copy, size, notes). Raises ``Rejected``."""
    end_found, trailing = _end_of_file(file)
    if not end_found:
        raise Rejected(DAMAGED)
    file.seek(0)
    try:
        document = pikepdf.open(file, password="")  # an owner password alone opens with ""
    except pikepdf.PasswordError:
        raise Rejected(LOCKED) from None
    except Exception:
        raise Rejected(DAMAGED) from None
    with document:
        pages = _check_pages(document)
        _check_streams(document)
        removed = _remove_active_content(document)
        clean = scratch()
        try:
            document.save(
                clean,
                encryption=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                fix_metadata_version=False,
            )
        except Exception:
            clean.close()
            raise Rejected(DAMAGED) from None
    _check_opens(clean, pages)
    notes = [CLEANED] if removed else []
    if trailing:
        notes.append(EXTRA_DATA)
    return clean, clean.seek(0, 2), notes


def _end_of_file(file) -> tuple[bool, bool]:
    """Whether the file holds an end-of-file marker, and whether anything but white space
    follows the last one (a ZIP, a page or a test virus appended to the PDF)."""
    file.seek(0)
    last, offset, carry = -1, 0, b""
    for chunk in iter(lambda: file.read(CHUNK), b""):
        data = carry + chunk
        at = data.rfind(b"%%EOF")
        if at >= 0:
            last = offset - len(carry) + at
        carry = data[-4:]
        offset += len(chunk)
    if last < 0:
        return False, False
    file.seek(last + 5)
    after = file.read(64 * 1024 + 1)
    file.seek(0)
    return True, bool(after.strip())


def _check_pages(document) -> int:
    try:
        claimed = int(document.Root.Pages.get("/Count", 0))
        pages = len(document.pages)  # qpdf walks the tree; a loop in it raises
    except Exception:
        raise Rejected(DAMAGED) from None
    if not pages or claimed > pages:
        raise Rejected(DAMAGED)
    if pages > settings.RECORDS_MAX_PDF_PAGES:
        raise Rejected(
            gettext("This PDF has more than %(pages)s pages. Send it in parts.")
            % {"pages": f"{settings.RECORDS_MAX_PDF_PAGES:,}"}
        )
    return pages


def _check_streams(document) -> None:
    """No image past the pixel limit, no stream inflating past the stream limit: counted by
    inflating a piece at a time, so a bomb costs its compressed size in memory, not more."""
    too_large = Rejected(
        gettext(
            "This PDF holds a picture or page too large to open safely. Save or scan it again "
            "at a normal size and send that copy."
        )
    )
    budget = 2 * settings.RECORDS_MAX_PDF_STREAM_BYTES  # all streams together
    for item in document.objects:
        if not isinstance(item, pikepdf.Stream):
            continue
        if item.get("/Subtype") == "/Image":
            try:
                pixels = int(item.get("/Width", 0)) * int(item.get("/Height", 0))
            except (TypeError, ValueError):
                raise Rejected(DAMAGED) from None
            if pixels > settings.RECORDS_MAX_IMAGE_PIXELS:
                raise too_large
        filters = item.get("/Filter")
        first = filters[0] if isinstance(filters, pikepdf.Array) and len(filters) else filters
        if first == "/FlateDecode":
            limit = min(budget, settings.RECORDS_MAX_PDF_STREAM_BYTES)
            size = _inflated_size(item.read_raw_bytes(), limit)
            if size is None:
                raise too_large
            budget -= size


def _inflated_size(raw: bytes, limit: int) -> int | None:
    """How many bytes ``raw`` inflates to, or None past ``limit``. Broken data counts as
    what inflated before it broke (viewers show what they can)."""
    decompressor, total, pending = zlib.decompressobj(), 0, raw
    try:
        while pending and not decompressor.eof:
            total += len(decompressor.decompress(pending, CHUNK))
            pending = decompressor.unconsumed_tail
            if total > limit:
                return None
    except zlib.error:
        pass
    return total


def _remove_active_content(document) -> bool:
    """Remove every script, automatic action, attached file and XFA form. Returns whether
    anything was removed."""
    removed = False
    root = document.Root
    for key in ("/AA", "/Collection", "/NeedsRendering"):
        removed |= _drop(root, key)
    opening = root.get("/OpenAction")
    if isinstance(opening, pikepdf.Dictionary):  # an action; a destination is an array
        removed |= _drop(root, "/OpenAction")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        removed |= _drop(names, "/JavaScript") | _drop(names, "/EmbeddedFiles")
    form = root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary):
        removed |= _drop(form, "/XFA")
    for page in document.pages:
        removed |= _drop(page.obj, "/AA") | _remove_active_annotations(page.obj)
    budget = [settings.RECORDS_MAX_PDF_OBJECTS]
    for item in document.objects:
        if isinstance(item, CONTAINERS):
            removed |= _clean_dictionary(item, budget)
    return removed


def _drop(dictionary, key: str) -> bool:
    if key in dictionary:
        del dictionary[key]
        return True
    return False


def _remove_active_annotations(page) -> bool:
    annotations = page.get("/Annots")
    if not isinstance(annotations, pikepdf.Array):
        return False
    kept = [
        annotation
        for annotation in annotations
        if not (
            isinstance(annotation, pikepdf.Dictionary)
            and annotation.get("/Subtype") in ACTIVE_ANNOTATIONS
        )
    ]
    if len(kept) == len(annotations):
        return False
    page.Annots = pikepdf.Array(kept)
    return True


def _is_active(action) -> bool:
    """An action that runs code, opens a program or another file, or sends data; a link to
    anything but a web page or an e-mail address ("javascript:", "file:") counts too."""
    if not isinstance(action, CONTAINERS):
        return False
    kind = action.get("/S")
    if kind == "/URI":
        address = str(action.get("/URI", "")).strip().lower()
        return not address.startswith(SAFE_ADDRESSES)
    return kind in ACTIVE_ACTIONS


def _clean_dictionary(item, budget: list[int]) -> bool:
    """Remove triggers, active actions and attached files from one object and the
    dictionaries written inside it (an annotation's action is often not an object of its
    own). ``budget`` counts the dictionaries and arrays visited in the whole file: a PDF
    built of millions of them is refused rather than walked for minutes."""
    removed, pending = False, [item]
    while pending:
        current = pending.pop()
        budget[0] -= 1
        if budget[0] < 0:
            raise Rejected(TOO_COMPLEX)
        if isinstance(current, pikepdf.Array):
            pending.extend(value for value in current if _direct_container(value))
            continue
        for key in ("/AA", "/JS", "/AF", "/EF"):  # triggers, scripts, associated files
            removed |= _drop(current, key)
        for key in ("/A", "/Next"):
            value = current.get(key)
            if _is_active(value) or (
                isinstance(value, pikepdf.Array) and any(_is_active(v) for v in value)
            ):
                removed |= _drop(current, key)
        if _is_active(current):
            current.S = pikepdf.Name("/GoTo")  # what is left goes nowhere and runs nothing
            removed = True
        pending.extend(value for _, value in current.items() if _direct_container(value))
    return removed


def _direct_container(value) -> bool:
    return isinstance(value, (pikepdf.Dictionary, pikepdf.Array)) and not value.is_indirect


def _check_opens(clean, pages: int) -> None:
    """The clean copy must open in PDFium (Chrome's PDF engine) with every page."""
    clean.seek(0)
    try:
        opened = pypdfium2.PdfDocument(clean)
    except Exception:
        clean.close()
        raise Rejected(DAMAGED) from None
    try:
        if len(opened) != pages:
            clean.close()
            raise Rejected(DAMAGED)
    finally:
        opened.close()
    clean.seek(0)
