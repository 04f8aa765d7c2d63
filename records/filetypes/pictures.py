"""JPEG and PNG pictures, walked segment by segment (JPEG) and chunk by chunk (PNG).

What is stored is the picture and nothing else: it ends at the format's own end marker (a
program, archive or page appended after it is left out), and segments that only carry text
(comments, text chunks, XMP; where a PHP or script payload hides) are dropped. The size in
pixels is bounded before anything is decoded, and the whole image is decoded (a JPEG) or
inflated row by row (a PNG) so that a damaged picture is refused now.
"""

import struct
import warnings
import zlib

from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from PIL import Image

from records.filetypes.common import Malformed, Rejected, Truncated, scratch

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks a PNG needs to be shown as it was meant; text, time stamps and the rest are dropped.
PNG_KEPT = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"gAMA",
    b"cHRM",
    b"sRGB",
    b"iCCP",
    b"sBIT",
    b"pHYs",
    b"bKGD",
    b"cICP",
}
# No scanner or camera makes a side longer; it also bounds the rows walked below.
MAX_SIDE = 65_535
PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type: channels
PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2))
ADAM7 += ((0, 1, 1, 2),)
# JPEG application segments kept (by marker and signature): JFIF, Exif, ICC profile, Adobe.
JPEG_KEPT_APPS = {0xE0: (b"JFIF\0", b"JFXX\0"), 0xE1: (b"Exif\0",), 0xE2: (b"ICC_PROFILE\0",)}
JPEG_KEPT_APPS[0xEE] = (b"Adobe",)
SOF_MARKERS = {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)}
EXTRA_DATA = gettext_lazy(
    "Extra data stored after the picture was left out; the picture itself is unchanged."
)


def _damaged(kind: str) -> Rejected:
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


def check_jpeg(file):
    """Check a JPEG and write its clean copy: (copy, size, notes). Raises ``Rejected``."""
    file.seek(0)
    data = file.read(settings.RECORDS_MAX_PICTURE_BYTES + 1)
    if len(data) > settings.RECORDS_MAX_PICTURE_BYTES:
        raise _too_heavy("JPEG")
    try:
        parts, end, size = _jpeg_parts(data)
    except (Truncated, Malformed, struct.error):
        raise _damaged("JPEG") from None
    width, height = size
    if not width or not height:
        raise _damaged("JPEG")
    if width * height > settings.RECORDS_MAX_IMAGE_PIXELS:
        raise _too_large("JPEG")
    clean = scratch()
    for start, stop in parts:
        clean.write(data[start:stop])
    _decode_jpeg(clean)
    return clean, clean.seek(0, 2), [EXTRA_DATA] if end < len(data) else []


def _jpeg_parts(data: bytes) -> tuple[list[tuple[int, int]], int, tuple[int, int]]:
    """The byte ranges of ``data`` to keep, where the image ends (after EOI), and its size."""
    if not data.startswith(b"\xff\xd8"):
        raise Malformed
    parts, pos, size, scanned = [(0, 2)], 2, (0, 0), False
    while True:
        if pos + 2 > len(data):
            raise Truncated
        if data[pos] != 0xFF:
            raise Malformed
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:
            if not scanned:
                raise Malformed
            parts.append((pos, pos + 2))
            return parts, pos + 2, size
        if marker in (0x00, 0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            raise Malformed
        if pos + 4 > len(data):
            raise Truncated
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise Truncated
        if marker in SOF_MARKERS:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            size = (width, height)
        if _keep_segment(marker, data[pos + 4 : end]):
            parts.append((pos, end))
        pos = end
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next marker
            if not size[0]:
                raise Malformed
            scanned = True
            scan_end = _scan_end(data, pos)
            parts.append((pos, scan_end))
            pos = scan_end


def _keep_segment(marker: int, body: bytes) -> bool:
    if marker == 0xFE:  # comment
        return False
    if 0xE0 <= marker <= 0xEF:
        return body.startswith(JPEG_KEPT_APPS.get(marker, ()))
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


def _decode_jpeg(clean) -> None:
    """Decode every block of the picture (at an eighth of its size: the Huffman data is all
    read, the memory stays small). A table or scan libjpeg cannot read refuses it."""
    clean.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(clean) as image:
                if image.format != "JPEG":
                    raise Malformed
                image.draft(image.mode, (max(1, image.width // 8), max(1, image.height // 8)))
                image.load()
    except Exception:
        clean.close()
        raise _damaged("JPEG") from None
    clean.seek(0)


def check_png(file):
    """Check a PNG and write its clean copy: (copy, size, notes). Raises ``Rejected``."""
    file.seek(0)
    data = file.read(settings.RECORDS_MAX_PICTURE_BYTES + 1)
    if len(data) > settings.RECORDS_MAX_PICTURE_BYTES:
        raise _too_heavy("PNG")
    try:
        chunks, end, header = _png_chunks(data)
    except (Truncated, Malformed, struct.error):
        raise _damaged("PNG") from None
    width, height, depth, colour, interlaced = header
    if width * height > settings.RECORDS_MAX_IMAGE_PIXELS or max(width, height) > MAX_SIDE:
        raise _too_large("PNG")
    try:
        _inflate_rows(data, chunks, width, height, depth * PNG_CHANNELS[colour], interlaced)
    except (Truncated, Malformed, zlib.error):
        raise _damaged("PNG") from None
    clean = scratch()
    clean.write(PNG_SIGNATURE)
    for kind, start, stop in chunks:
        if kind in PNG_KEPT:
            clean.write(data[start:stop])
    return clean, clean.seek(0, 2), [EXTRA_DATA] if end < len(data) else []


def _png_chunks(data: bytes):
    """Every chunk as (type, start, end), checked: IHDR first and valid, each checksum
    right, one run of IDAT, IEND last. Also where the picture ends, and its header."""
    if not data.startswith(PNG_SIGNATURE):
        raise Malformed
    chunks, pos, header, idat_done = [], 8, None, False
    while True:
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
        if chunks and chunks[-1][0] == b"IDAT" and kind != b"IDAT":
            idat_done = True
        chunks.append((kind, pos, end))
        pos = end
        if kind == b"IEND":
            if not idat_done or (header[3] == 3 and b"PLTE" not in {c[0] for c in chunks}):
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
    hold exactly every row (none missing, nothing extra), and every row's filter byte must
    be one of the five PNG defines."""
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


def _row_start_iter(passes):
    for offset, count, stride in passes:
        for row in range(count):
            yield offset + row * stride
