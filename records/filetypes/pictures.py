"""JPEG and PNG pictures, walked segment by segment (JPEG) and chunk by chunk (PNG).

What is stored is the picture and nothing else: it ends at the format's own end marker (a
program, archive or page appended after it is left out), and segments that only carry text
(comments, text chunks, XMP; where a PHP or script payload hides) are dropped. The size in
pixels is bounded before anything is decoded, and the whole image is decoded (a JPEG) or
inflated row by row (a PNG) so that a damaged picture is refused now.
"""

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from PIL import Image, ImageCms

from records.filetypes.common import Malformed, Rejected, Truncated, scratch

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks a PNG needs to be shown as it was meant; text, time stamps, colour profiles (a
# compressed profile can be a bomb) and the rest are dropped.
PNG_KEPT = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"gAMA",
    b"cHRM",
    b"sRGB",
    b"sBIT",
    b"pHYs",
    b"bKGD",
    b"cICP",
}
# The lengths the kept ancillary chunks may have (PNG 1.2, 4.2); one of another length goes.
PNG_LENGTHS = {
    b"tRNS": range(257),
    b"gAMA": (4,),
    b"cHRM": (32,),
    b"sRGB": (1,),
    b"sBIT": range(1, 5),
    b"pHYs": (9,),
    b"bKGD": (1, 2, 6),
    b"cICP": (4,),
}
MAX_CHUNKS = 20_000  # an encoder writes image data in chunks of 8 KB or more
# No scanner or camera makes a side longer; it also bounds the rows walked below.
MAX_SIDE = 65_535
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type: channels
PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
ADAM7 += ((0, 1, 1, 2),)
PROGRESSIVE_MARKERS = {0xC2, 0xC6, 0xCA, 0xCE}
PROGRESSIVE_MAX_PIXELS = 25_000_000
MAX_SEGMENTS = 2_000  # a camera writes about twenty; past this it is not a photo
MAX_SCANS = 100  # a progressive picture has about ten
FILL_BYTES = re.compile(rb"\xff+")
ORIENTATION = 0x0112
SOF_MARKERS = {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}
EXTRA_DATA = gettext_lazy(
    "Extra data stored after the picture was left out; the picture itself is unchanged."
)


def damaged(kind: str) -> Rejected:
    return Rejected(
        gettext("This %(kind)s picture is damaged or incomplete. Send it again, or a PDF.")
        % {"kind": kind}
    )


def _too_heavy(kind: str) -> Rejected:
    return Rejected(
        gettext("This %(kind)s picture is larger than %(size)s MB. Send a smaller copy.")
        % {"kind": kind, "size": settings.RECORDS_MAX_PICTURE_BYTES // 1048576}
    )


def _too_large(kind: str) -> Rejected:
    return Rejected(
        gettext(
            "This %(kind)s picture is too large in pixels to be accepted (more than "
            "%(millions)s million). Send a smaller copy."
        )
        % {"kind": kind, "millions": settings.RECORDS_MAX_IMAGE_PIXELS // 1_000_000}
    )


def _picture_bytes(file, kind: str) -> bytes:
    """The whole picture, read once: at most ``RECORDS_MAX_PICTURE_BYTES``."""
    file.seek(0)
    data = file.read(settings.RECORDS_MAX_PICTURE_BYTES + 1)
    if len(data) > settings.RECORDS_MAX_PICTURE_BYTES:
        raise _too_heavy(kind)
    return data


def check_jpeg(file):
    """Check a JPEG and write its clean copy: (copy, size, notes). Raises ``Rejected``."""
    data = _picture_bytes(file, "JPEG")
    try:
        frame, parts, end = _jpeg_parts(data)
    except (Truncated, Malformed, struct.error):
        raise damaged("JPEG") from None
    if not frame.width or not frame.height:
        raise damaged("JPEG")
    # A progressive picture is decoded with all its coefficients held: a lower limit.
    limit = settings.RECORDS_MAX_IMAGE_PIXELS
    if frame.progressive:
        limit = min(limit, PROGRESSIVE_MAX_PIXELS)
    if frame.width * frame.height > limit:
        raise _too_large("JPEG")
    clean = scratch()
    for part in parts:
        clean.write(part)
    _decode_jpeg(clean, frame)
    return clean, clean.seek(0, 2), [EXTRA_DATA] if end < len(data) else []


@dataclass
class Frame:
    """What a JPEG's frame header says: size, sample precision, progressive or not."""

    width: int = 0
    height: int = 0
    precision: int = 8
    progressive: bool = False


def _next_marker(data: bytes, pos: int) -> int:
    """Where the marker at ``pos`` is, past any fill bytes (FF FF … FF xx)."""
    if pos + 2 > len(data):
        raise Truncated
    if data[pos] != 0xFF:
        raise Malformed
    fill = FILL_BYTES.match(data, pos)
    pos = fill.end() - 1
    if pos + 2 > len(data):
        raise Truncated
    return pos


def _jpeg_parts(data: bytes) -> tuple[Frame, list[bytes], int]:
    """The frame header, the bytes to keep (segments as they are, or rebuilt), and where the
    image ends (after EOI). The number of segments and of scans is bounded."""
    if not data.startswith(b"\xff\xd8"):
        raise Malformed
    frame, parts, pos, segments, scans = Frame(), [b"\xff\xd8"], 2, 0, 0
    while True:
        pos = _next_marker(data, pos)
        marker = data[pos + 1]
        if marker == 0xD9:
            if not scans:
                raise Malformed
            parts.append(b"\xff\xd9")
            return frame, parts, pos + 2
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            raise Malformed
        segments += 1
        if segments > MAX_SEGMENTS or pos + 4 > len(data):
            raise Malformed if segments > MAX_SEGMENTS else Truncated
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise Truncated
        if marker in SOF_MARKERS:
            precision, height, width = struct.unpack(">BHH", data[pos + 4 : pos + 9])
            frame = Frame(width, height, precision, marker in PROGRESSIVE_MARKERS)
        kept = _kept_segment(marker, data[pos + 4 : end])
        if kept is not None:
            parts.append(b"\xff" + bytes([marker]) + struct.pack(">H", len(kept) + 2) + kept)
        pos = end
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next marker
            scans += 1
            if not frame.width or scans > MAX_SCANS:
                raise Malformed
            scan_end = _scan_end(data, pos)
            parts.append(data[pos:scan_end])
            pos = scan_end


def _kept_segment(marker: int, body: bytes) -> bytes | None:
    """The body to write for a segment, or None to drop it. Comments and application
    segments go, but for what draws the picture as meant: a JFIF header without its
    thumbnail, Exif reduced to the orientation (no description, maker notes or location),
    a colour profile that reads as one, Adobe's fixed-size colour transform."""
    if marker == 0xFE:
        return None
    if not 0xE0 <= marker <= 0xEF:
        return body
    if marker == 0xE0 and body.startswith(b"JFIF\0") and len(body) >= 14:
        return body[:12] + b"\0\0"
    if marker == 0xE1 and body.startswith(b"Exif\0\0"):
        return _orientation_only(body)
    if marker == 0xE2 and body.startswith(b"ICC_PROFILE\0") and body[12:14] == b"\x01\x01":
        return body if _is_colour_profile(body[14:]) else None
    if marker == 0xEE and body.startswith(b"Adobe") and len(body) == 12:
        return body
    return None


def _orientation_only(body: bytes) -> bytes | None:
    exif = Image.Exif()
    try:
        exif.load(body)
        orientation = int(exif.get(ORIENTATION, 0))
    except Exception:
        return None
    if not 2 <= orientation <= 8:
        return None  # upright (1), absent or nonsense: nothing worth keeping
    kept = Image.Exif()
    kept[ORIENTATION] = orientation
    return kept.tobytes()


def _is_colour_profile(profile: bytes) -> bool:
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except Exception:
        return False
    return True


def _scan_end(data: bytes, pos: int) -> int:
    """Where entropy-coded data starting at ``pos`` ends: the first 0xFF that is neither a
    stuffed byte (FF 00) nor a restart marker (FF D0–D7)."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise Truncated
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
            continue
        return pos


def _decode_jpeg(clean, frame: Frame) -> None:
    """Decode every block of the picture (at an eighth of its size: the Huffman data is all
    read, the memory stays small). A table or scan libjpeg cannot read refuses it. A 12-bit
    picture (scanners, DICOM exports), which Pillow does not read, is decoded by libjpeg."""
    clean.seek(0)
    try:
        if frame.precision != 8:
            from libjpeg import decode

            decode(clean.read())
            clean.seek(0)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(clean) as image:
                if image.format != "JPEG":
                    raise Malformed
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Exception:
        clean.close()
        raise damaged("JPEG") from None
    clean.seek(0)


def check_png(file):
    """Check a PNG and write its clean copy: (copy, size, notes). Raises ``Rejected``."""
    data = _picture_bytes(file, "PNG")
    try:
        chunks, end, header = _png_chunks(data)
    except (Truncated, Malformed, struct.error):
        raise damaged("PNG") from None
    width, height, depth, colour, interlaced = header
    if width * height > settings.RECORDS_MAX_IMAGE_PIXELS or max(width, height) > MAX_SIDE:
        raise _too_large("PNG")
    try:
        _inflate_rows(data, chunks, width, height, depth * PNG_CHANNELS[colour], interlaced)
    except (Truncated, Malformed, zlib.error):
        raise damaged("PNG") from None
    clean = scratch()
    clean.write(PNG_SIGNATURE)
    for kind, start, stop in chunks:
        if kind in PNG_KEPT and (kind not in PNG_LENGTHS or stop - start - 12 in PNG_LENGTHS[kind]):
            clean.write(data[start:stop])
    return clean, clean.seek(0, 2), [EXTRA_DATA] if end < len(data) else []


def _png_chunks(data: bytes):
    """Every chunk as (type, start, end), checked: IHDR first and valid, each checksum
    right, one run of IDAT, IEND last. Also where the picture ends, and its header."""
    if not data.startswith(PNG_SIGNATURE):
        raise Malformed
    chunks, pos, header, idat_done, palette = [], 8, None, False, False
    while True:
        if len(chunks) > MAX_CHUNKS:
            raise Malformed
        if pos + 12 > len(data):
            raise Truncated
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise Truncated
        if not kind.isalpha():
            raise Malformed
        body = data[pos + 8 : end - 4]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise Malformed
        if (kind == b"IHDR") != (pos == 8):
            raise Malformed  # the header must come first, and only once
        if kind == b"IHDR":
            header = _png_header(body)
        if kind == b"IDAT" and idat_done:
            raise Malformed
        if kind == b"PLTE":
            if length % 3 or not 3 <= length <= 768:
                raise Malformed
            palette = True
        if chunks and chunks[-1][0] == b"IDAT" and kind != b"IDAT":
            idat_done = True
        chunks.append((kind, pos, end))
        pos = end
        if kind == b"IEND":
            if not idat_done or (header[3] == 3 and not palette):
                raise Malformed
            return chunks, end, header


def _png_header(body: bytes):
    if len(body) != 13:
        raise Malformed
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", body
    )
    if not width or not height or colour not in PNG_DEPTHS or depth not in PNG_DEPTHS[colour]:
        raise Malformed
    if compression or filtering or interlace > 1:
        raise Malformed
    return width, height, depth, colour, interlace == 1


def _png_rows(width: int, height: int, bits: int, interlaced: bool) -> list[tuple[int, int]]:
    """(row count, bytes per row including its filter byte) for each pass of the image."""
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    rows = []
    for x0, y0, dx, dy in passes:
        columns, count = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and count > 0:
            rows.append((count, 1 + (columns * bits + 7) // 8))
    return rows


def _inflate_rows(data: bytes, chunks, width, height, bits, interlaced) -> None:
    """Inflate the image data a piece at a time, never holding it: it must be valid zlib,
    hold exactly every row (none missing, nothing extra), end where the image data ends (no
    bytes after the stream), and every row's filter byte must be one of the five PNG
    defines."""
    starts, offset = [], 0
    for count, stride in _png_rows(width, height, bits, interlaced):
        starts.append((offset, count, stride))
        offset += count * stride
    expected = offset
    row_starts = _row_start_iter(starts)
    next_row = next(row_starts, None)
    decompressor, produced = zlib.decompressobj(), 0
    for kind, start, stop in chunks:
        if kind != b"IDAT":
            continue
        pending = data[start + 8 : stop - 4]
        if decompressor.eof and pending:
            raise Malformed  # image data after the end of its stream
        while pending:
            piece = decompressor.decompress(pending, 1024 * 1024)
            pending = decompressor.unconsumed_tail
            while next_row is not None and next_row < produced + len(piece):
                if piece[next_row - produced] > 4:
                    raise Malformed
                next_row = next(row_starts, None)
            produced += len(piece)
            if produced > expected:
                raise Malformed
    if not decompressor.eof or produced != expected:
        raise Truncated
    if decompressor.unused_data:
        raise Malformed


def _row_start_iter(passes):
    for offset, count, stride in passes:
        for row in range(count):
            yield offset + row * stride
