"""DICOM Part 10 files, walked element by element inside the file's real bytes.

The walk never trusts a length: an element that claims more bytes than the file holds
(a file cut short, or a "4 GiB" element) stops the check. It finds where the image really
ends, so that what is stored is the DICOM dataset and nothing else: the 128-byte preamble
is written as zeros (where a disguised program or web page would hide, CVE-2019-11687) and
anything after the Pixel Data element (an appended ZIP, a page) is left out. It checks that
the image's size agrees with its pixel data, and the caller decodes the first frame.
"""

import struct
import zlib
from dataclasses import dataclass, field

import pydicom
from django.conf import settings
from django.utils.translation import gettext_lazy
from pydicom.pixels import pixel_array

from records.filetypes.common import (
    CHUNK,
    Malformed,
    Reader,
    Rejected,
    Truncated,
    copy_range,
    scratch,
    size_of,
)

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
DAMAGED = gettext_lazy(
    "This imaging file is incomplete or damaged. Export it again from the imaging CD or "
    "software and send the new copy."
)
PROGRAM_INSIDE = gettext_lazy(
    "This DICOM file hides a program in its header, so it cannot be accepted. Export the "
    "images again from the imaging CD or software."
)
NO_IMAGE = gettext_lazy(
    "This DICOM file holds no image (it may be a report, a plan or a measurement). Send the "
    "images, and any report as a PDF."
)
EXTRA_DATA = gettext_lazy(
    "Extra data stored after the image was left out; the image itself is unchanged."
)
UNREADABLE_ENCODING = gettext_lazy(
    "This DICOM file uses an encoding we cannot read (a video or an unusual compression). "
    "Export it again as standard DICOM images."
)

IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
DEFLATED_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_BE = "1.2.840.10008.1.2.2"
NATIVE = {IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE}
# Compressed encodings by what each frame must start with.
JPEG_FAMILY = {f"1.2.840.10008.1.2.4.{n}" for n in (50, 51, 57, 70, 80, 81)}
JPEG_2000_FAMILY = {f"1.2.840.10008.1.2.4.{n}" for n in (90, 91, 201, 202, 203)}
RLE = "1.2.840.10008.1.2.5"
# Frame headers: JPEG's SOF0–SOF15 (but DHT, JPG and DAC) and JPEG-LS's SOF55.
JPEG_FRAME_MARKERS = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC} | {0xF7}
ENCAPSULATED = JPEG_FAMILY | JPEG_2000_FAMILY | {RLE}

# Value representations (PS3.5 6.2), and those with a 4-byte length (PS3.5 7.1.2).
LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN"})
LONG_VRS |= {b"UR", b"UT", b"UV"}
VALID_VRS = LONG_VRS | {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS"}
VALID_VRS |= {b"LO", b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
UNDEFINED = 0xFFFFFFFF
ITEM, ITEM_END, SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}  # float, double float and integer pixels
PIXEL_DATA = 0x7FE00010
TRANSFER_SYNTAX = 0x00020010
STORAGE_CLASS = 0x00020002  # Media Storage SOP Class UID
DIRECTORY_CLASS = "1.2.840.10008.1.3.10"  # a DICOMDIR
# Elements a file may hold in all (an enhanced multi-frame image holds some tens of
# thousands); past this it is not an image but a way to make the walk take minutes.
MAX_ELEMENTS = 100_000
# Elements whose values the checks need: small, read as they pass.
WANTED = {
    0x00280002: "samples",
    0x00280004: "photometric",
    0x00280008: "frames",
    0x00280010: "rows",
    0x00280011: "columns",
    0x00280100: "bits",
}
MAX_DEPTH = 16


@dataclass
class Layout:
    """Where things are in a DICOM file, as found by the walk."""

    transfer_syntax: str = ""
    storage_class: str = ""
    end: int = 0  # where the real file ends
    values: dict = field(default_factory=dict)
    pixel_tag: int = 0
    pixel_length: int = 0  # UNDEFINED when encapsulated
    fragments: list = field(default_factory=list)  # (offset, length) of encapsulated fragments
    inflated: object = None  # the deflated dataset, inflated (deflated files only)


def _header(reader: Reader, *, explicit: bool, little: bool) -> tuple[int, bytes | None, int]:
    reader.count += 1
    if reader.count > MAX_ELEMENTS:
        raise Malformed
    order = "<" if little else ">"
    group, element = struct.unpack(order + "HH", reader.read(4))
    tag = group << 16 | element
    if group == 0xFFFE or not explicit:
        return tag, None, struct.unpack(order + "I", reader.read(4))[0]
    vr = reader.read(2)
    if vr not in VALID_VRS:
        raise Malformed
    if vr in LONG_VRS:
        reader.skip(2)
        return tag, vr, struct.unpack(order + "I", reader.read(4))[0]
    return tag, vr, struct.unpack(order + "H", reader.read(2))[0]


def _skip_sequence(reader: Reader, *, explicit: bool, little: bool, depth: int) -> None:
    """Skip a sequence of undefined length: its items, up to its delimiter."""
    if depth > MAX_DEPTH:
        raise Malformed
    while True:
        tag, _, length = _header(reader, explicit=explicit, little=little)
        if tag == SEQUENCE_END:
            return
        if tag != ITEM:
            raise Malformed
        if length != UNDEFINED:
            reader.skip(length)
            continue
        while True:  # an item of undefined length: its elements, up to the item's end
            tag, vr, length = _header(reader, explicit=explicit, little=little)
            if tag == ITEM_END:
                break
            if tag >> 16 == 0xFFFE:
                raise Malformed
            if length == UNDEFINED:
                # Inside an undefined-length UN, elements are implicit VR (PS3.5 6.2.2).
                inner = explicit and vr != b"UN"
                _skip_sequence(reader, explicit=inner, little=little, depth=depth + 1)
            else:
                reader.skip(length)


def _fragments(reader: Reader, *, little: bool) -> list[tuple[int, int]]:
    """The items of encapsulated pixel data, the Basic Offset Table first."""
    items = []
    while True:
        tag, _, length = _header(reader, explicit=False, little=little)
        if tag == SEQUENCE_END:
            return items
        if tag != ITEM or length == UNDEFINED:
            raise Malformed
        items.append((reader.pos, length))
        reader.skip(length)


def _walk_meta(reader: Reader, layout: Layout) -> None:
    """The File Meta group (always explicit VR little endian): its transfer syntax and the
    class of object the file holds."""
    while reader.left >= 8:
        reader.file.seek(reader.pos)
        if struct.unpack("<H", reader.file.read(2))[0] != 0x0002:
            break
        tag, _, length = _header(reader, explicit=True, little=True)
        if length == UNDEFINED or length > 1024:
            raise Malformed
        value = reader.read(length).rstrip(b"\0 ").decode("ascii", "replace")
        if tag == TRANSFER_SYNTAX:
            layout.transfer_syntax = value
        elif tag == STORAGE_CLASS:
            layout.storage_class = value


def _walk_dataset(reader: Reader, layout: Layout, *, explicit: bool, little: bool) -> None:
    """Walk the top-level elements, in ascending tag order, to the end of the pixel data
    (the image: what comes after it, padding or an appended archive or page, is not kept),
    or to the end of the file where there is none (a DICOMDIR)."""
    last = -1
    if not reader.left:
        raise Truncated  # File Meta and nothing after it
    while reader.left and not layout.pixel_tag:
        last = _walk_element(reader, layout, last, explicit=explicit, little=little)
    layout.end = reader.pos


def _walk_element(reader: Reader, layout: Layout, last: int, *, explicit: bool, little: bool):
    tag, vr, length = _header(reader, explicit=explicit, little=little)
    if tag <= last or tag >> 16 == 0xFFFE:
        raise Malformed
    if tag in PIXEL_TAGS and not layout.pixel_tag:
        if length == UNDEFINED:
            layout.fragments = _fragments(reader, little=little)
        else:
            reader.skip(length)
        layout.pixel_tag, layout.pixel_length = tag, length
    elif length == UNDEFINED:
        inner = explicit and vr != b"UN"
        _skip_sequence(reader, explicit=inner, little=little, depth=1)
    elif tag in WANTED and length <= 64:
        layout.values[WANTED[tag]] = (vr, reader.read(length), little)
    else:
        reader.skip(length)
    return tag


def _inflate(file, start: int, size: int):
    """The deflated dataset inflated into a scratch file, and where the compressed stream
    really ends in ``file``. It may inflate to the imaging limit, and to no more than
    ``RECORDS_ZIP_MAX_RATIO`` times its compressed size (as a ZIP's entries)."""
    ratio = settings.RECORDS_ZIP_MAX_RATIO * max(size - start, 1)
    budget = min(settings.RECORDS_MAX_IMAGING_BYTES, max(ratio, 1024 * 1024))
    inflated = scratch()
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    file.seek(start)
    consumed = 0
    while not decompressor.eof:
        chunk = file.read(CHUNK)
        if not chunk:
            inflated.close()
            raise Truncated
        consumed += len(chunk)
        try:
            data = decompressor.decompress(chunk, budget + 1 - inflated.tell())
        except zlib.error:
            inflated.close()
            raise Malformed from None
        if decompressor.unconsumed_tail or inflated.tell() + len(data) > budget:
            inflated.close()
            raise Truncated
        inflated.write(data)
    end = start + consumed - len(decompressor.unused_data)
    if size - end == 1:
        end = size  # the byte that pads the compressed stream to an even length
    return inflated, min(end, size)


def read_layout(file) -> Layout:
    """Walk a DICOM Part 10 file. Raises ``Rejected`` for a file that is not an image this
    portal can read, ``Truncated``/``Malformed`` for a damaged one."""
    size = size_of(file)
    reader = Reader(file, 132, size)
    layout = Layout()
    _walk_meta(reader, layout)
    syntax = layout.transfer_syntax
    if not syntax:
        raise Malformed  # no File Meta, or no transfer syntax in it
    if syntax not in NATIVE | ENCAPSULATED:
        if pydicom.uid.UID(syntax).is_transfer_syntax:
            raise Rejected(UNREADABLE_ENCODING)
        raise Malformed
    if syntax == DEFLATED_LE:
        inflated, end = _inflate(file, reader.pos, size)
        layout.inflated = inflated
        inner = Reader(inflated, 0, size_of(inflated))
        _walk_dataset(inner, layout, explicit=True, little=True)
        if not _padding_only(inflated, inner.pos, inner.end):
            raise Malformed  # data after the image, inside the compressed stream
        layout.end = end
        return layout
    explicit, little = syntax != IMPLICIT_LE, syntax != EXPLICIT_BE
    start = reader.pos
    try:
        _walk_dataset(reader, layout, explicit=explicit, little=little)
    except Malformed:
        if not explicit or not little:
            raise
        # Some devices write implicit VR under an explicit transfer syntax; viewers (and
        # pydicom) read such files, so they are read that way too.
        layout.values, layout.fragments, layout.pixel_tag = {}, [], 0
        _walk_dataset(Reader(file, start, size), layout, explicit=False, little=True)
    return layout


def _number(layout: Layout, name: str, default: int = 0) -> int:
    vr, raw, little = layout.values.get(name, (None, b"", True))
    if not raw:
        return default
    if name == "frames" or vr in (b"IS", b"DS"):
        try:
            return int(raw.rstrip(b"\0 ").strip() or default)
        except ValueError:
            raise Malformed from None
    if len(raw) < 2:
        raise Malformed
    return struct.unpack(("<" if little else ">") + "H", raw[:2])[0]


def _text(layout: Layout, name: str) -> str:
    raw = layout.values.get(name, (None, b"", True))[1]
    return raw.rstrip(b"\0 ").decode("ascii", "replace").strip()


def check_pixels(layout: Layout, file) -> None:
    """The image's declared size must be possible and agree with its pixel data and its
    transfer syntax; frames are bounded in pixels before anything decodes them."""
    if not layout.pixel_tag:
        raise Rejected(NO_IMAGE)
    rows, columns = _number(layout, "rows"), _number(layout, "columns")
    samples, bits = _number(layout, "samples", 1), _number(layout, "bits", 0)
    frames = _number(layout, "frames", 1)
    if not rows or not columns or samples not in (1, 3, 4) or frames < 1:
        raise Malformed
    if rows * columns > settings.RECORDS_MAX_IMAGE_PIXELS:
        raise Malformed
    encapsulated = layout.pixel_length == UNDEFINED
    if encapsulated != (layout.transfer_syntax in ENCAPSULATED):
        raise Malformed  # the transfer syntax contradicts the pixel data
    if not encapsulated:
        if layout.pixel_tag == PIXEL_DATA and bits not in (1, 8, 16, 32):
            raise Malformed
        values = samples
        if _text(layout, "photometric") == "YBR_FULL_422":
            values = 2  # two chroma values shared by each pair of pixels (PS3.3 C.7.6.3.1.2)
        expected = rows * columns * values * frames * (bits // 8)
        if bits == 1:
            expected = (rows * columns * samples * frames + 7) // 8
        if layout.pixel_length < expected:
            raise Malformed  # rows x columns larger than the pixel data
        return
    fragments = layout.fragments[1:]  # after the Basic Offset Table
    if not fragments or frames > len(fragments):
        raise Malformed
    _check_first_fragment(layout, file, fragments[0], (columns, rows))


def _check_first_fragment(layout: Layout, file, fragment: tuple[int, int], size) -> None:
    """The first frame must start as its encoding says, and its own header must give the
    image's size (columns, rows): a frame claiming 20,000 x 20,000 in a 16 x 16 image would
    make a decoder allocate gigabytes."""
    offset, length = fragment
    file.seek(offset)
    head = file.read(min(length, 64 * 1024))
    syntax = layout.transfer_syntax
    if syntax in JPEG_FAMILY and _jpeg_frame_size(head) != size:
        raise Malformed
    if syntax in JPEG_2000_FAMILY:
        if head.startswith(b"\xff\x4f\xff\x51") and len(head) >= 24:
            width, height, left, top = struct.unpack(">IIII", head[8:24])
            if (width - left, height - top) != size:
                raise Malformed
        elif not head.startswith(b"\0\0\0\x0cjP"):
            raise Malformed
    if syntax == RLE:
        if len(head) < 64:
            raise Malformed
        count, *offsets = struct.unpack("<16I", head[:64])
        used = offsets[:count]
        if not 1 <= count <= 15 or used[0] != 64 or used != sorted(used) or used[-1] >= length:
            raise Malformed


def _jpeg_frame_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG or JPEG-LS frame header near the start of ``head``."""
    if not head.startswith(b"\xff\xd8"):
        return None
    pos = 2
    while pos + 9 <= len(head) and head[pos] == 0xFF:
        marker = head[pos + 1]
        if marker in JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
            return width, height
        pos += 2 + struct.unpack(">H", head[pos + 2 : pos + 4])[0]
    return None


def write_clean(file, layout: Layout, target) -> None:
    """The stored copy: a zero preamble, then the file's own bytes up to its real end."""
    target.write(b"\0" * 128)
    copy_range(file, target, 128, layout.end)


def decode_first_frame(content, layout: Layout) -> None:
    """Decode the first frame (bounded in pixels by ``check_pixels``): an image that does not
    decode is damaged, and the family hears it now rather than a reviewer days later."""
    content.seek(0)
    try:
        if layout.transfer_syntax == DEFLATED_LE:
            # pydicom decodes pixel data straight from a file only when it is not deflated.
            dataset = pydicom.dcmread(content)
            dataset.pixel_array_options(index=0)
            dataset.pixel_array  # noqa: B018 (decoding is the check)
        else:
            pixel_array(content, index=0)
    except Exception:  # every decoder's own error, and pydicom's when none could decode it
        raise Malformed from None
    except BaseException as error:
        # A decoder written in Rust (pylibjpeg-rle) panics on some damaged frames, and its
        # panic is a BaseException: it means the same as any other decoding error.
        if type(error).__name__ != "PanicException":
            raise
        raise Malformed from None
    finally:
        content.seek(0)


def check_dicom(file, *, image: bool = True, decode: bool = True):
    """Check a DICOM file and write its clean copy: (the copy, its size, notes for the
    family). ``image`` off accepts a CD's directory (DICOMDIR: its class, and no pixel
    data) instead of an image; ``decode`` off skips decoding the first frame. Raises
    ``Rejected``."""
    file.seek(0)
    if file.read(128).startswith(EXECUTABLE_HEADERS):
        raise Rejected(PROGRAM_INSIDE)
    clean, layout = scratch(), None
    try:
        layout = read_layout(file)
        if image:
            check_pixels(layout, file)
        elif layout.storage_class != DIRECTORY_CLASS:
            raise Rejected(NO_IMAGE)  # named DICOMDIR, but some other object
        write_clean(file, layout, clean)
        if image and decode:
            decode_first_frame(clean, layout)
    except (Truncated, Malformed):
        clean.close()
        raise Rejected(DAMAGED) from None
    except BaseException:
        clean.close()
        raise
    finally:
        if layout is not None and layout.inflated is not None:
            layout.inflated.close()
    size = clean.seek(0, 2)
    clean.seek(0)
    notes = [] if _padding_only(file, layout.end, size_of(file)) else [EXTRA_DATA]
    return clean, size, notes


def _padding_only(file, start: int, end: int) -> bool:
    """Whether ``file`` holds nothing between ``start`` and ``end`` but zeros, or one trailing
    padding element (FFFC,FFFC) reaching the end: what scanners write, left out without a
    word to the family."""
    if end - start > 64 * 1024:
        return False
    file.seek(start)
    data = file.read(end - start)
    file.seek(0)
    for tag, order in ((b"\xfc\xff\xfc\xff", "<"), (b"\xff\xfc\xff\xfc", ">")):
        if data.startswith(tag) and len(data) >= 12:
            explicit = 12 + struct.unpack(order + "I", data[8:12])[0] == len(data)
            implicit = 8 + struct.unpack(order + "I", data[4:8])[0] == len(data)
            return explicit or implicit
    return not data.strip(b"\0")
