"""Files that are not documents, or documents too damaged or too dangerous to keep: each
refused with its sentence, and nothing stored."""

import struct
import zlib

import pikepdf

from tests.records.corpus.builders import (
    PAGE,
    PROGRAMS,
    deflate_bomb,
    pdf_document,
    picture,
    png_chunk,
    png_of,
    raw_pdf,
    stream,
    zip_of,
)
from tests.records.corpus.cases import (
    EICAR,
    JPEG_DAMAGED,
    NOT_ACCEPTED,
    PDF_DAMAGED,
    PDF_LOCKED,
    PDF_TOO_LARGE,
    PNG_DAMAGED,
    TOO_MANY_PIXELS,
    WEB_PAGE,
    ZIP_NO_STUDY,
    Case,
)

OTHER_FORMATS = {
    "gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00"
    b"\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    "bmp": b"BM" + struct.pack("<IHHI", 70, 0, 0, 54) + b"\0" * 64,
    "tiff": b"II*\x00\x08\x00\x00\x00" + b"\0" * 100,
    "webp": b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\0" * 40,
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 40,
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\0" * 40,
    "rar": b"Rar!\x1a\x07\x01\x00" + b"\0" * 40,
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 40,
    "gzip": zlib.compress(b"x")[:0] + b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\0" * 20,
    "bzip2": b"BZh91AY&SY" + b"\0" * 40,
    "tar": b"report.pdf".ljust(257, b"\0") + b"ustar\x0000" + b"\0" * 243,
    "rtf": b"{\\rtf1\\ansi Dear doctor}",
    "json": b'{"patient": "x"}',
    "csv": b"date,weight\n2026-01-01,20\n",
    "text": b"plain text notes",
    "eicar": EICAR,
    "one-byte": b"%",
    "null-bytes": b"\0" * 4096,
    "empty-zip": b"PK\x05\x06" + b"\0" * 18,
    "utf16-html": "<html><script>alert(1)</script></html>".encode("utf-16"),
}

WEB_PAGES = {
    "html": b"<!doctype html><html><script>alert(1)</script></html>",
    "html-upper": b"<HTML><BODY onload=alert(1)></BODY></HTML>",
    "html-leading-space": b"   \n<html><script>fetch('/steal')</script>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "svg-xml": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
    "xhtml": b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script/></html>',
    "script": b"<script>document.location='https://evil.example'</script>",
    "iframe": b"<iframe src=https://evil.example></iframe>",
    "mhtml": b"MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<html><script></script></html>",
}


def not_accepted_cases() -> list[Case]:
    cases = [Case("empty", b"", "refuse", "This file is empty.", "x.pdf")]
    for label, content in PROGRAMS.items():
        for name in ("report.pdf", "IM0001.dcm", "photo.jpg"):
            cases.append(
                Case(f"{label}-as-{name.rsplit('.', 1)[1]}", content, "refuse", NOT_ACCEPTED, name)
            )
    for label, content in OTHER_FORMATS.items():
        cases.append(Case(f"format-{label}", content, "refuse", NOT_ACCEPTED, f"file.{label}"))
    for label, content in WEB_PAGES.items():
        cases.append(Case(f"web-{label}", content, "refuse", WEB_PAGE, "page.pdf"))
    cases.append(
        Case(
            "docx-is-a-zip-without-images",
            zip_of([("word/document.xml", b"<w:document/>"), ("[Content_Types].xml", b"<Types/>")]),
            "refuse",
            ZIP_NO_STUDY,
            "letter.docx",
        )
    )
    cases.append(
        Case(
            "jar-is-a-zip-without-images",
            zip_of(
                [
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                    ("Evil.class", PROGRAMS["java-class"]),
                ]
            ),
            "refuse",
            ZIP_NO_STUDY,
            "viewer.jar",
        )
    )
    return cases


def pdf_refused_cases() -> list[Case]:
    document = pdf_document(3)
    image = (
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]"
        b"/Resources<</XObject<</Im0 5 0 R>>>>/Contents 4 0 R>>"
    )
    cases = [
        Case(
            "pdf-cut-at-half",
            document[: len(document) // 2],
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-cut-at-a-tenth",
            document[: len(document) // 10],
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-without-end",
            document[: document.rfind(b"%%EOF")],
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case("pdf-header-only", b"%PDF-1.7\n", "refuse", PDF_DAMAGED, "a.pdf", "record"),
        Case(
            "pdf-blank-lines-then-garbage",
            b"\n" * 600 + b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n",
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-garbage",
            b"%PDF-1.4\nthis is not a pdf\n%%EOF\n",
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-html-inside",
            b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n",
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-user-password-rc4",
            pdf_document(
                1,
                encryption=pikepdf.Encryption(owner="o", user="u", R=3, metadata=False, aes=False),
            ),
            "refuse",
            PDF_LOCKED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-user-password-aes",
            pdf_document(1, encryption=pikepdf.Encryption(owner="o", user="u", R=6)),
            "refuse",
            PDF_LOCKED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-no-pages",
            raw_pdf({1: b"<</Type/Catalog/Pages 2 0 R>>", 2: b"<</Type/Pages/Kids[]/Count 0>>"}),
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-page-tree-contains-itself",
            raw_pdf(
                {
                    1: b"<</Type/Catalog/Pages 2 0 R>>",
                    2: b"<</Type/Pages/Kids[3 0 R 2 0 R]/Count 2>>",
                    3: PAGE,
                }
            ),
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-page-tree-loop-below",
            raw_pdf(
                {
                    1: b"<</Type/Catalog/Pages 2 0 R>>",
                    2: b"<</Type/Pages/Kids[4 0 R]/Count 2>>",
                    3: PAGE,
                    4: b"<</Type/Pages/Parent 2 0 R/Kids[3 0 R 2 0 R]/Count 2>>",
                }
            ),
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-count-of-two-billion",
            raw_pdf(
                {
                    1: b"<</Type/Catalog/Pages 2 0 R>>",
                    2: b"<</Type/Pages/Kids[3 0 R]/Count 2000000000>>",
                    3: PAGE,
                }
            ),
            "refuse",
            PDF_DAMAGED,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-content-inflating-past-the-limit",
            raw_pdf(
                {
                    1: b"<</Type/Catalog/Pages 2 0 R>>",
                    2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
                    3: b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>",
                    4: stream(deflate_bomb(300 * 1024 * 1024), b"/Filter/FlateDecode"),
                }
            ),
            "refuse",
            PDF_TOO_LARGE,
            "a.pdf",
            "record",
        ),
        Case(
            "pdf-image-60000-square",
            raw_pdf(
                {
                    1: b"<</Type/Catalog/Pages 2 0 R>>",
                    2: b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
                    3: image,
                    4: stream(b"q 612 0 0 792 0 0 cm /Im0 Do Q"),
                    5: stream(
                        zlib.compress(bytes(1000)),
                        b"/Type/XObject/Subtype/Image/Width 60000/Height 60000"
                        b"/ColorSpace/DeviceGray/BitsPerComponent 8/Filter/FlateDecode",
                    ),
                }
            ),
            "refuse",
            PDF_TOO_LARGE,
            "a.pdf",
            "record",
        ),
    ]
    return cases


def jpeg_refused_cases() -> list[Case]:
    photo = picture("JPEG", "RGB", (160, 120))
    sof = photo.find(b"\xff\xc0")
    huffman = bytearray(photo)
    dht = photo.find(b"\xff\xc4")
    huffman[dht + 5 : dht + 21] = b"\xff" * 16
    cases = [
        Case(
            "jpeg-cut-at-half", photo[: len(photo) // 2], "refuse", JPEG_DAMAGED, "p.jpg", "record"
        ),
        Case("jpeg-cut-before-end", photo[:-2], "refuse", JPEG_DAMAGED, "p.jpg", "record"),
        Case("jpeg-header-only", photo[:200], "refuse", JPEG_DAMAGED, "p.jpg", "record"),
        Case(
            "jpeg-start-and-end-only",
            b"\xff\xd8\xff\xd9",
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-impossible-huffman-table",
            bytes(huffman),
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-without-frame-header",
            photo[:sof] + photo[sof + 2 + struct.unpack(">H", photo[sof + 2 : sof + 4])[0] :],
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-zero-size",
            photo[: sof + 5] + b"\0\0\0\0" + photo[sof + 9 :],
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-60000-square",
            photo[: sof + 5] + struct.pack(">HH", 60000, 60000) + photo[sof + 9 :],
            "refuse",
            TOO_MANY_PIXELS,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-segment-longer-than-file",
            photo[:20] + b"\xff\xdb\xff\xff" + photo[24:200],
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-restart-outside-scan",
            photo[:2] + b"\xff\xd0" + photo[2:],
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
        Case(
            "jpeg-progressive-cut",
            picture("JPEG", "RGB", (160, 120), progressive=True)[:900],
            "refuse",
            JPEG_DAMAGED,
            "p.jpg",
            "record",
        ),
    ]
    return cases


def png_refused_cases() -> list[Case]:
    header = struct.pack(">IIBBBBB", 40, 30, 8, 0, 0, 0, 0)
    rows = (b"\0" + bytes(range(40))) * 30
    good = png_of(header, zlib.compress(rows))
    crc = bytearray(good)
    crc[40] ^= 0xFF
    return [
        Case(
            "png-data-before-header",
            b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IHDR", header)
            + png_chunk(b"IEND", b""),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-invalid-zlib",
            png_of(header, b"\x78\x9c" + b"\xff" * 60),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-half-the-rows",
            png_of(header, zlib.compress(rows[: len(rows) // 2])),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-extra-rows",
            png_of(header, zlib.compress(rows * 2)),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-bad-filter-byte",
            png_of(header, zlib.compress(b"\x07" + rows[1:])),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-zlib-stream-unfinished",
            png_of(header, zlib.compress(rows)[:-6]),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case("png-checksum-wrong", bytes(crc), "refuse", PNG_DAMAGED, "s.png", "record"),
        Case("png-cut-at-half", good[: len(good) // 2], "refuse", PNG_DAMAGED, "s.png", "record"),
        Case("png-without-end", good[:-12], "refuse", PNG_DAMAGED, "s.png", "record"),
        Case(
            "png-header-wrong-length",
            b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header + b"\0") + png_chunk(b"IEND", b""),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-impossible-depth",
            png_of(struct.pack(">IIBBBBB", 40, 30, 4, 2, 0, 0, 0), zlib.compress(rows)),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-zero-width",
            png_of(struct.pack(">IIBBBBB", 0, 30, 8, 0, 0, 0, 0), zlib.compress(rows)),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-palette-without-palette",
            png_of(struct.pack(">IIBBBBB", 40, 30, 8, 3, 0, 0, 0), zlib.compress(rows)),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-two-data-runs",
            png_of(header, zlib.compress(rows)[:20], extra=[]).replace(
                png_chunk(b"IEND", b""),
                png_chunk(b"tIME", b"\x07\xea\x01\x01\0\0\0")
                + png_chunk(b"IDAT", zlib.compress(rows)[20:])
                + png_chunk(b"IEND", b""),
            ),
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
        Case(
            "png-60000-square",
            png_of(
                struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0), zlib.compress(b"\0" * 100)
            ),
            "refuse",
            TOO_MANY_PIXELS,
            "s.png",
            "record",
        ),
        Case(
            "png-90-megapixels",
            png_of(struct.pack(">IIBBBBB", 10000, 9000, 1, 0, 0, 0, 0), zlib.compress(b"\0" * 100)),
            "refuse",
            TOO_MANY_PIXELS,
            "s.png",
            "record",
        ),
        Case(
            "png-chunk-longer-than-file",
            good[:33] + struct.pack(">I", 0x7FFFFFFF) + b"IDAT" + b"\0" * 20,
            "refuse",
            PNG_DAMAGED,
            "s.png",
            "record",
        ),
    ]
