"""Files built to break the family's upload path, one test per problem an attack on it found
(each failed before its fix; ``finding`` names what it was).

The rules they hold the upload to: 201, or a 4xx with a sentence; what is stored is only the
real document; a valid hospital export is accepted; any file is judged within 2 seconds and
300 MB. Time and memory are measured in a forked child (``bounded``), held to an address-space
limit so that a bomb cannot take the test run down with it."""

import bz2
import io
import json
import os
import pickle
import resource
import select
import struct
import time
import zipfile
import zlib

import pikepdf
import pydicom
import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import DeflatedExplicitVRLittleEndian, JPEG2000Lossless

from records.filetypes import Rejected, inspect
from records.models import Document, HeldFile
from tests import samples
from tests.conftest import sign_in
from tests.records.corpus.builders import (
    deflate_bomb,
    dicom_image,
    pdf_document,
    picture,
    png_chunk,
    raw_pdf,
    stream,
)
from tests.records.corpus.cases import Case
from tests.records.test_corpus import active_content, multipart, send, stored_keys

pytestmark = pytest.mark.django_db

SECONDS, MEGABYTES = 2.0, 300
SCRIPT = "app.alert(1)"
PAYLOAD = b"<html><script>alert(1)</script></html>"


def finding(number: int, reason: str):
    """What the attack found (kept beside the test that now holds it fixed)."""

    def keep(test):
        test.finding = f"finding {number}: {reason}"
        return test

    return keep


# --- how a file is judged: through the real view, or in a child with its time and memory --


def upload(client, family, review_request, content, *, name="file.bin", kind="record"):
    """The file sent as the page's script sends it: (status, answer, stored bytes or None)."""
    sign_in(client, family)
    response = send(client, review_request, Case("x", content, "", "", name, kind))
    answer = json.loads(response.content)
    stored = None
    if response.status_code == 201:
        document = Document.objects.get()
        with default_storage.open(document.storage_key) as file:
            stored = file.read()
    return response.status_code, answer, stored


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (the upload check runs
    in one): the cost of a file, whatever else the machine is doing."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _children_peak() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def bounded(content: bytes, **options) -> dict:
    """``inspect`` run in a forked child: its outcome ("accepted", "refused", or the error),
    CPU seconds taken (the check's own child included) and megabytes of peak memory above
    what the child started with. The child may use 1.5 GB more address space at most, and
    is killed after 3 x ``SECONDS`` of wall-clock time."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        try:
            ceiling = _status("VmSize") + 1536 * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
            start, began = _status("VmRSS"), _cpu_seconds()
            try:
                inspect(io.BytesIO(content), **options).close()
                outcome = "accepted"
            except Rejected:
                outcome = "refused"
            except BaseException as error:
                outcome = type(error).__name__
            result = {
                "outcome": outcome,
                "seconds": _cpu_seconds() - began,
                "megabytes": (max(_status("VmHWM"), _children_peak()) - start) / 1048576,
            }
            with os.fdopen(write, "wb") as out:
                pickle.dump(result, out)
        finally:
            os._exit(0)
    os.close(write)
    deadline, data = time.monotonic() + 3 * SECONDS, b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([read], [], [], 0.05)
        if ready:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
    os.close(read)
    if not data:
        os.kill(pid, 9)
    os.waitpid(pid, 0)
    if not data:
        return {"outcome": "killed", "seconds": 3 * SECONDS, "megabytes": None}
    return pickle.loads(data)  # noqa: S301 (written by the child above)


def assert_judged_in_bounds(content: bytes, **options) -> dict:
    result = bounded(content, **options)
    assert result["outcome"] in ("accepted", "refused"), result
    assert result["seconds"] < SECONDS, result
    assert result["megabytes"] < MEGABYTES, result
    return result


# --- PDF ------------------------------------------------------------------------------------


def _opened(content: bytes):
    return pikepdf.open(io.BytesIO(content))


def _saved(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _script_link():
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[0, 0, 600, 800],
        A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(SCRIPT)),
    )


@finding(
    1,
    "the cleaner stops walking an object after 10,000 direct dictionaries/arrays and keeps "
    "what it has not reached: a page with a script link and 10,001 empty annotations is "
    "stored with the script",
)
def test_pdf_script_behind_ten_thousand_direct_objects_is_removed(client, family, family_draft):
    document = _opened(pdf_document(1))
    filler = [pikepdf.Dictionary() for _ in range(10_001)]
    document.pages[0].obj.Annots = pikepdf.Array([_script_link(), *filler])

    status, answer, stored = upload(client, family, family_draft, _saved(document), name="r.pdf")

    assert status == 201, answer
    assert active_content(stored) == []


@finding(
    2,
    "a link's /URI action is kept whatever its scheme: javascript: and file: addresses "
    "(a script, or a program on the reviewer's computer) are stored",
)
@pytest.mark.parametrize(
    "address", ["javascript:app.alert(1)", "file:///C:/Windows/System32/cmd.exe"]
)
def test_pdf_link_to_a_script_or_a_local_file_is_removed(client, family, family_draft, address):
    document = _opened(pdf_document(1))
    link = _script_link()
    link.A = pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(address))
    document.pages[0].obj.Annots = pikepdf.Array([link])

    status, answer, stored = upload(client, family, family_draft, _saved(document), name="r.pdf")

    assert status == 201, answer
    with _opened(stored) as kept:
        addresses = [
            str(annotation.A.URI)
            for annotation in kept.pages[0].obj.get("/Annots", [])
            if "/A" in annotation and "/URI" in annotation.A
        ]
    assert address not in addresses


@finding(
    3,
    "attached files listed as PDF 2.0 associated files (/AF on the catalog or a page, shown "
    "in viewers' attachment panels) are stored with the program they carry",
)
@pytest.mark.parametrize("holder", ["catalog", "page"])
def test_pdf_associated_file_is_removed(client, family, family_draft, holder):
    document = _opened(pdf_document(1, force_version="2.0"))
    program = document.make_stream(b"MZ\x90\x00" + b"\0" * 60, Type=pikepdf.Name.EmbeddedFile)
    spec = pikepdf.Dictionary(
        Type=pikepdf.Name.Filespec,
        F=pikepdf.String("invoice.exe"),
        UF=pikepdf.String("invoice.exe"),
        AFRelationship=pikepdf.Name.Data,
        EF=pikepdf.Dictionary(F=program),
    )
    target = document.Root if holder == "catalog" else document.pages[0].obj
    target.AF = pikepdf.Array([document.make_indirect(spec)])

    status, answer, stored = upload(client, family, family_draft, _saved(document), name="r.pdf")

    assert status == 201, answer
    with _opened(stored) as kept:
        embedded = [
            item
            for item in kept.objects
            if isinstance(item, pikepdf.Stream) and item.get("/Type") == "/EmbeddedFile"
        ]
    assert embedded == []


def _pdf_in_object_stream(padding: int) -> bytes:
    """A one-page PDF whose catalog, pages and page sit in an object stream followed by
    ``padding`` bytes of white space (which qpdf inflates, whole, to read the objects)."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    ]
    header, body = b"", b""
    for number, item in enumerate(objects, start=1):
        header += b"%d %d " % (number, len(body))
        body += item + b"\n"
    compressor = zlib.compressobj(9)
    data = compressor.compress(header + body)
    spaces = b" " * (1 << 20)
    data += b"".join(compressor.compress(spaces) for _ in range(padding >> 20))
    data += compressor.flush()
    out = b"%PDF-1.5\n"
    at = len(out)
    out += (
        b"4 0 obj\n<</Type/ObjStm/N 3/First %d/Filter/FlateDecode/Length %d>>stream\n"
        % (len(header), len(data))
        + data
        + b"\nendstream\nendobj\n"
    )
    rows = [(0, 0, 65535), (2, 4, 0), (2, 4, 1), (2, 4, 2), (1, at, 0), (1, len(out), 0)]
    table = b"".join(bytes([t]) + f.to_bytes(4, "big") + g.to_bytes(2, "big") for t, f, g in rows)
    xref = len(out)
    return (
        out
        + b"5 0 obj\n<</Type/XRef/Size 6/W[1 4 2]/Root 1 0 R/Length %d>>stream\n" % len(table)
        + table
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    )


@finding(
    4,
    "object streams are inflated whole by qpdf before the stream check runs: a 300 KB PDF "
    "whose object stream inflates to 320 MB takes about 650 MB before it is refused (1 GB: "
    "2.1 GB and 10 s), and one inflating to 200 MB is accepted after taking 270 MB",
)
def test_pdf_object_stream_bomb_is_refused_in_bounds():
    result = assert_judged_in_bounds(_pdf_in_object_stream(320 << 20))

    assert result["outcome"] == "refused"


@finding(
    5,
    "the inflate limit is per stream: 64 streams of 100 MB (a 6 MB PDF) each pass, and "
    "inflating them all takes about 9 s; 200 streams of 250 MB (50 MB) over a minute",
)
def test_pdf_many_streams_each_under_the_limit_are_judged_in_time():
    bomb = stream(deflate_bomb(100 << 20), b"/Filter/FlateDecode")
    objects = {
        1: b"<</Type/Catalog/Pages 2 0 R>>",
        2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
    }
    objects.update({10 + index: bomb for index in range(64)})

    assert_judged_in_bounds(raw_pdf(objects))


def _pdf_with_many_objects(count: int, body: bytes) -> bytes:
    """A one-page PDF holding ``count`` objects, each ``body``, packed 50 to an object
    stream, all reachable from the catalog."""
    numbers = list(range(10, 10 + count))
    out, offsets = b"%PDF-1.5\n", {}
    plain = {
        1: b"<</Type/Catalog/Pages 2 0 R/Extra 4 0 R>>",
        2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>",
        4: b"[" + b" ".join(b"%d 0 R" % n for n in numbers) + b"]",
    }
    for number, item in plain.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + item + b"\nendobj\n"
    packed, holder = {}, 10 + count
    for start in range(0, count, 50):
        group = numbers[start : start + 50]
        header = b" ".join(b"%d %d" % (n, i * (len(body) + 1)) for i, n in enumerate(group))
        data = zlib.compress(header + b"\n" + b"".join(body + b"\n" for _ in group), 9)
        offsets[holder] = len(out)
        out += (
            b"%d 0 obj\n<</Type/ObjStm/N %d/First %d/Filter/FlateDecode/Length %d>>stream\n"
            % (holder, len(group), len(header) + 1, len(data))
            + data
            + b"\nendstream\nendobj\n"
        )
        packed.update({n: (2, holder, i) for i, n in enumerate(group)})
        holder += 1
    xref, size = len(out), holder + 1
    rows = [
        (1, offsets[n], 0)
        if n in offsets
        else packed.get(n, (1, xref, 0) if n == holder else (0, 0, 0))
        for n in range(size)
    ]
    table = zlib.compress(
        b"".join(bytes([t]) + f.to_bytes(4, "big") + g.to_bytes(3, "big") for t, f, g in rows)
    )
    return (
        out
        + b"%d 0 obj\n<</Type/XRef/Size %d/W[1 4 3]/Root 1 0 R/Filter/FlateDecode/Length %d>>"
        % (holder, size, len(table))
        + b"stream\n"
        + table
        + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref
    )


@finding(
    6,
    "nothing bounds the number of objects: a 40 KB PDF of 1,000 objects each holding 9,000 "
    "empty arrays (object streams, every one under the inflate limit) takes 4.4 s and 1.3 GB, "
    "and is accepted",
)
def test_pdf_with_millions_of_tiny_objects_is_judged_in_bounds():
    content = _pdf_with_many_objects(1000, b"[" + b"[]" * 9000 + b"]")
    assert len(content) < 100_000

    assert_judged_in_bounds(content)


@finding(
    7,
    "a PDF with a byte-order mark or a blank line before %PDF- (web portals write them; "
    "Acrobat, PDFium and qpdf open them) is refused as 'not accepted'",
)
@pytest.mark.parametrize("before", [b"\xef\xbb\xbf", b"\r\n"])
def test_pdf_with_bytes_before_its_header_is_accepted(client, family, family_draft, before):
    status, answer, stored = upload(
        client, family, family_draft, before + pdf_document(2), name="letter.pdf"
    )

    assert status == 201, answer
    assert stored.startswith(b"%PDF-")


# --- JPEG -----------------------------------------------------------------------------------


@finding(
    8,
    "the JPEG walk is a Python loop per segment and per fill byte: 40 MB of empty (kept) "
    "table segments take over 20 s and a list entry each (about 1.1 GB); 48 MB of empty "
    "comments 14 s, of fill bytes 8 s",
)
def test_jpeg_with_millions_of_segments_is_judged_in_bounds():
    photo = picture("JPEG", size=(64, 48))
    content = photo[:2] + b"\xff\xc4\x00\x02" * (10 << 20) + photo[2:]

    assert_judged_in_bounds(content)


def _segments(data: bytes) -> list[bytes]:
    """A JPEG's segments as bytes, each scan with its entropy-coded data."""
    pos, out = 2, []
    while data[pos + 1] != 0xD9:
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if data[pos + 1] == 0xDA:
            while True:
                end = data.find(b"\xff", end)
                if data[end + 1] == 0 or 0xD0 <= data[end + 1] <= 0xD7:
                    end += 2
                    continue
                break
        out.append(data[pos:end])
        pos = end
    return out


@finding(
    9,
    "the number of scans of a progressive JPEG is not bounded, and every scan walks the "
    "whole image: a 4000x4000 picture with 1,000 repeated scans (a 90 KB file) takes about "
    "15 s to decode (2,000 scans: 30 s)",
)
def test_progressive_jpeg_with_thousands_of_scans_is_judged_in_time():
    buffer = io.BytesIO()
    Image.new("L", (4000, 4000), 128).save(buffer, "JPEG", progressive=True, quality=50)
    segments = _segments(buffer.getvalue())
    last = max(i for i, part in enumerate(segments) if part.startswith(b"\xff\xda"))
    repeated = (segments[last - 1] + segments[last]) * 1000
    content = b"\xff\xd8" + b"".join(segments) + repeated + b"\xff\xd9"

    assert_judged_in_bounds(content)


@finding(
    10,
    "a progressive JPEG is decoded with its whole coefficient buffer whatever the draft "
    "size: a 700 KB 7700x7700 picture (within the pixel limit) takes 360 MB",
)
def test_large_progressive_jpeg_is_judged_within_memory():
    buffer = io.BytesIO()
    Image.new("RGB", (7700, 7700), (128, 128, 128)).save(
        buffer, "JPEG", progressive=True, quality=50, subsampling=0
    )

    assert_judged_in_bounds(buffer.getvalue())


@finding(
    11,
    "a 12-bit JPEG (extended, SOF1: some scanners and every 12-bit DICOM export) is refused "
    "as 'damaged': Pillow decodes only 8-bit JPEG; pylibjpeg-libjpeg, installed, reads it",
)
def test_twelve_bit_jpeg_is_accepted(client, family, family_draft):
    dataset = pydicom.dcmread(get_testdata_file("JPGExtended.dcm"))
    frame = next(generate_frames(dataset.PixelData))
    assert frame[:2] == b"\xff\xd8"
    assert b"\xff\xc1" in frame[:2000]  # SOF1: extended, 12-bit

    status, answer, _ = upload(client, family, family_draft, frame, name="xray.jpg")

    assert status == 201, answer


@finding(
    12,
    "a PHP or script payload in the kept Exif segment (ImageDescription) is stored, though "
    "the rules say such payloads are dropped (the same in an ICC or Adobe segment's body, or "
    "between the end of the scan data and EOI)",
)
def test_jpeg_payload_in_exif_is_not_stored(client, family, family_draft):
    exif = Image.Exif()
    exif[0x010E] = "<?php system($_GET['c']); ?>"
    buffer = io.BytesIO()
    Image.open(io.BytesIO(picture("JPEG", size=(64, 48)))).save(buffer, "JPEG", exif=exif.tobytes())

    status, answer, stored = upload(client, family, family_draft, buffer.getvalue(), name="p.jpg")

    assert status == 201, answer
    assert b"<?php" not in stored


# --- PNG ------------------------------------------------------------------------------------


def _png(*extra: bytes, after: bytes = b"") -> bytes:
    """A small PNG with ``extra`` chunks after its header and ``after`` its image data."""
    good = picture("PNG", size=(64, 48))
    header_end, data_end = 33, good.rfind(b"IEND") - 4
    return good[:header_end] + b"".join(extra) + good[header_end:data_end] + after + good[data_end:]


@finding(
    13,
    "the PNG walk keeps a list entry per chunk and is a Python loop: 4 million empty "
    "chunks (48 MB, within the picture limit) take 14 s and 640 MB",
)
def test_png_with_millions_of_chunks_is_judged_in_bounds():
    assert_judged_in_bounds(_png(png_chunk(b"abCd", b"") * (4 << 20)))


@finding(
    14,
    "bytes after the end of the zlib stream of the image data (in the last IDAT, or in "
    "one more IDAT) are never read and are stored",
)
@pytest.mark.parametrize("where", ["same-chunk", "extra-chunk"])
def test_png_data_after_the_image_stream_is_not_stored(client, family, family_draft, where):
    good = picture("PNG", size=(64, 48))
    at = good.find(b"IDAT") - 4
    length = struct.unpack(">I", good[at : at + 4])[0]
    data = good[at + 8 : at + 8 + length]
    if where == "same-chunk":
        chunks = png_chunk(b"IDAT", data + PAYLOAD)
    else:
        chunks = png_chunk(b"IDAT", data) + png_chunk(b"IDAT", PAYLOAD)
    content = good[:at] + chunks + good[at + 12 + length :]

    status, answer, stored = upload(client, family, family_draft, content, name="s.png")

    assert status in (201, 400), answer
    assert stored is None or PAYLOAD not in stored


@finding(
    15,
    "the kept chunks (pHYs, bKGD, gAMA...) are kept whatever their length: a 1 KB pHYs "
    "holding a script is stored",
)
def test_png_kept_chunk_with_a_payload_is_not_stored(client, family, family_draft):
    content = _png(png_chunk(b"pHYs", PAYLOAD * 25))

    status, answer, stored = upload(client, family, family_draft, content, name="s.png")

    assert status in (201, 400), answer
    assert stored is None or PAYLOAD not in stored


@finding(
    16,
    "the colour profile (iCCP) is kept without being inflated: a 64 KB profile inflating "
    "to 64 MB (or 400 MB) is stored, and Pillow then refuses to open the stored picture",
)
def test_png_colour_profile_bomb_is_not_stored(client, family, family_draft):
    profile = b"icc\0\0" + zlib.compress(bytes(64 << 20), 9)
    content = _png(png_chunk(b"iCCP", profile))

    status, answer, stored = upload(client, family, family_draft, content, name="s.png")

    assert status in (201, 400), answer
    if stored is not None:
        with Image.open(io.BytesIO(stored)) as picture_stored:
            picture_stored.load()


# --- DICOM ----------------------------------------------------------------------------------


@finding(
    17,
    "well-formed elements after the pixel data (a private OB element, trailing padding) "
    "are kept: a ZIP or a web page carried there is stored, with no note",
)
@pytest.mark.parametrize("tag", [(0x7FE1, 0x0010), (0xFFFC, 0xFFFC)])
def test_dicom_payload_after_pixel_data_is_not_stored(client, family, family_draft, tag):
    carried = b"PK\x03\x04" + PAYLOAD + b"\0\0"
    element = struct.pack("<HH2s2xI", *tag, b"OB", len(carried)) + carried

    status, answer, stored = upload(
        client, family, family_draft, dicom_image() + element, name="IM.dcm", kind="imaging"
    )

    assert status == 201, answer
    assert PAYLOAD not in stored


@finding(
    18,
    "a deflated DICOM may inflate to the whole imaging limit (2 GB), and is then read and "
    "decoded whole, every frame, in memory: a 390 KB file of 400 MB of zero frames takes 7 s "
    "and 1.2 GB, and is accepted",
)
def test_deflated_dicom_bomb_is_judged_in_bounds():
    content = dicom_image(
        rows=1000,
        columns=1000,
        frames=100,
        syntax=DeflatedExplicitVRLittleEndian,
        pixel_bytes=bytes(1000 * 1000 * 2 * 100),
    )
    assert len(content) < 1_000_000

    assert_judged_in_bounds(content)


@finding(
    19,
    "an encapsulated frame's own header is not checked against Rows and Columns before it is "
    "decoded: a 16x16 image whose JPEG 2000 frame says 20000x20000 (a 500-byte file) takes "
    "8 s and 2 GB (12000x12000: over 500 MB); JPEG-LS 800 MB, baseline JPEG 850 MB",
)
def test_dicom_frame_larger_than_its_header_says_is_judged_in_bounds():
    import numpy
    import openjpeg

    codestream = bytearray(openjpeg.encode(numpy.zeros((64, 64), dtype=numpy.uint8)))
    size = codestream.find(b"\xff\x51")
    struct.pack_into(">IIIIII", codestream, size + 6, 12000, 12000, 0, 0, 12000, 12000)
    dataset = pydicom.dcmread(io.BytesIO(dicom_image(rows=16, columns=16, bits=8)))
    dataset.file_meta.TransferSyntaxUID = JPEG2000Lossless
    dataset.PixelData = encapsulate([bytes(codestream)])
    dataset["PixelData"].VR = "OB"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)

    assert_judged_in_bounds(buffer.getvalue())


@finding(
    20,
    "nothing bounds the number of elements: about 7 microseconds each in the walk and more "
    "in pydicom, so 1 million empty elements (an 8 MB file; imaging may be 2 GB) take over "
    "10 s",
)
def test_dicom_with_a_million_elements_is_judged_in_time():
    content = dicom_image(rows=4, columns=4, bits=8)
    # Groups 0x0010-0x001F are free in this image: 16 x 65,536 empty elements, in order.
    at = content.find(struct.pack("<HH", 0x0020, 0x0011))
    elements = b"".join(
        struct.pack("<HH2sH", group, element, b"LO", 0)
        for group in range(0x0010, 0x0020)
        for element in range(1, 0x10000)
    )

    assert_judged_in_bounds(content[:at] + elements + content[at:])


# --- ZIP studies ----------------------------------------------------------------------------


def _bzip2_of_zeros(size: int) -> bytes:
    compressor, block = bz2.BZ2Compressor(9), bytes(1 << 20)
    return b"".join(compressor.compress(block) for _ in range(size >> 20)) + compressor.flush()


def _zip_entry(name: str, method: int, data: bytes, size: int, crc: int) -> bytes:
    """A one-entry ZIP written by hand: its directory says what it is told to."""
    raw = name.encode()
    local = struct.pack(
        "<4s5H3L2H", b"PK\x03\x04", 46, 0, method, 0, 0, crc, len(data), size, len(raw), 0
    )
    central = struct.pack(
        "<4s6H3L5H2L",
        b"PK\x01\x02",
        46,
        46,
        0,
        method,
        0,
        0,
        crc,
        len(data),
        size,
        len(raw),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    body = local + raw + data
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(raw), len(body), 0)
    return body + central + raw + end


@finding(
    21,
    "bzip2 and LZMA entries are inflated by zipfile without a size limit per read (only "
    "deflate is): a 785-byte bzip2 entry of 1 GB takes 2.1 GB and 11 s before its checksum "
    "fails (here: 256 MB in 200 bytes)",
)
def test_zip_bzip2_bomb_is_judged_in_bounds():
    content = _zip_entry("IM1.dcm", zipfile.ZIP_BZIP2, _bzip2_of_zeros(256 << 20), 1000, 0)
    assert len(content) < 2000

    assert_judged_in_bounds(content)


def _encapsulated_pdf_dicom() -> bytes:
    """A DICOM without pixels: an encapsulated PDF opening with a script, and a program in a
    private element."""
    dataset = pydicom.dcmread(io.BytesIO(dicom_image()))
    del dataset.PixelData
    dataset.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.104.1"
    dataset.SOPClassUID = dataset.file_meta.MediaStorageSOPClassUID
    script = b"%PDF-1.4\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>"
    dataset.EncapsulatedDocument = script + b"endobj\n%%EOF\n"
    dataset.add_new(0x00091010, "LO", "VENDOR")
    dataset.add_new(0x00091011, "OB", b"MZ\x90\x00" + b"\0" * 60)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@finding(
    22,
    "any entry named DICOMDIR (in any folder, any number of them) is kept if it is DICOM at "
    "all, image or not: an encapsulated PDF with a script and a program is stored in the study",
)
def test_zip_entry_named_dicomdir_must_be_a_directory(client, family, family_draft):
    hidden = _encapsulated_pdf_dicom()
    entries = [("IM1.dcm", dicom_image()), ("DICOMDIR", hidden), ("A/DICOMDIR", hidden)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)

    status, answer, stored = upload(
        client, family, family_draft, buffer.getvalue(), name="cd.zip", kind="imaging"
    )

    assert status in (201, 400), answer
    if stored is not None:
        with zipfile.ZipFile(io.BytesIO(stored)) as study:
            for name in study.namelist():
                kept = pydicom.dcmread(io.BytesIO(study.read(name)))
                assert "PixelData" in kept or kept.file_meta.MediaStorageSOPClassUID == (
                    "1.2.840.10008.1.3.10"
                ), name


@finding(
    23,
    "a ZIP64 end record with the real values repeated in the classic end record (Info-ZIP "
    "writing to a pipe, 'zip -fz', streaming exporters) is refused as damaged: the check "
    "expects the directory to end where the classic record starts",
)
def test_zip64_streamed_archive_is_accepted(client, family, family_draft):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("DICOM/IM1", samples.dicom())
    plain = buffer.getvalue()
    at = plain.rfind(b"PK\x05\x06")
    _, _, _, here, total, size, offset, _ = struct.unpack("<4s4H2LH", plain[at : at + 22])
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 30, 45, 0, 0, here, total, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
    content = plain[:at] + record + locator + plain[at:]
    assert zipfile.ZipFile(io.BytesIO(content)).namelist() == ["DICOM/IM1"]

    status, answer, _ = upload(client, family, family_draft, content, name="s.zip", kind="imaging")

    assert status == 201, answer


@finding(
    24,
    "two entries that unpack to the same file ('S/IM1.dcm' and 'S//IM1.dcm', 'S/./IM1.dcm', "
    "or 'S/IM1.dcm.' on Windows) pass the duplicate check and are both stored: one image "
    "silently replaces the other when a reviewer unpacks the study",
)
@pytest.mark.parametrize("twin", ["S//IM1.dcm", "S/./IM1.dcm", "S/IM1.dcm."])
def test_zip_names_unpacking_to_the_same_file_are_refused(client, family, family_draft, twin):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("S/IM1.dcm", samples.dicom())
        archive.writestr(twin, dicom_image())

    status, answer, _ = upload(
        client, family, family_draft, buffer.getvalue(), name="s.zip", kind="imaging"
    )

    assert status == 400
    assert "holds two files named" in answer["error"]
    assert stored_keys() == []


@finding(
    25,
    "every PDF on a CD is checked, cleaned and stored as a held report, however many: "
    "3,000 one-page reports take about 7 s (1,000 through the view: 2.3 s, 1,000 stored "
    "objects and rows, 1,000 notes)",
)
def test_cd_with_thousands_of_reports_is_judged_in_time():
    report = pdf_document(1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("DICOM/IM1", dicom_image())
        for number in range(3000):
            archive.writestr(f"REPORTS/R{number}.pdf", report)

    assert_judged_in_bounds(buffer.getvalue(), hold_reports=True)


# --- the request itself ---------------------------------------------------------------------


@finding(
    26,
    "a body the multipart parser gives up on (part headers over 32 KB, e.g. a 40,000-"
    "character name; more than 100 files) answers Django's bare HTML 'Bad Request', with "
    "no sentence for the family",
)
def test_unparseable_upload_answers_with_a_sentence(client, family, family_draft):
    sign_in(client, family)
    body, content_type = multipart({"kind": "record"}, "a" * 40_000 + ".pdf", pdf_document(1))

    response = client.post(
        reverse("records:upload", args=[family_draft.reference]),
        body,
        content_type=content_type,
        HTTP_ACCEPT="application/json",
    )

    assert 400 <= response.status_code < 500
    assert json.loads(response.content)["error"].endswith(".")
    assert not Document.objects.exists()
    assert not HeldFile.objects.exists()
