"""Broken DICOM files and lying ZIP archives (refused), and imaging CDs (accepted with only
their images kept)."""

import zipfile

from pydicom.uid import (
    ExplicitVRLittleEndian,
)

from tests import samples
from tests.records.corpus.builders import (
    PROGRAMS,
    dicom_image,
    end_record,
    imaging_cd,
    meta_end,
    picture,
    renamed,
    rle_claiming,
    with_meta,
    zip_of,
)
from tests.records.corpus.cases import (
    DICOM_DAMAGED,
    DICOM_ENCODING,
    DICOM_NO_IMAGE,
    DICOM_PROGRAM,
    STUDY,
    ZIP_DAMAGED,
    ZIP_NO_STUDY,
    ZIP_OUTSIDE,
    Case,
)
from tests.records.corpus.cleaned import active_pdf


def dicom_refused_cases() -> list[Case]:
    ct = samples.dicom("CT_small.dcm")
    jpeg = samples.dicom("SC_rgb_jpeg_dcmtk.dcm")
    rle = samples.dicom("MR_small_RLE.dcm")
    huffman = bytearray(jpeg)
    dht = jpeg.find(b"\xff\xc4", jpeg.find(b"\xff\xd8\xff"))
    huffman[dht + 5 : dht + 21] = b"\xff" * 16
    end = meta_end(ct)
    two_frames = samples.dicom("SC_rgb_rle_2frame.dcm")
    cases = [
        Case("dicom-preamble-only", b"\0" * 128 + b"DICM", "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case("dicom-file-meta-only", ct[:end], "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case("dicom-cut-mid-dataset", ct[: end + 40], "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case("dicom-cut-at-half", ct[: len(ct) // 2], "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case("dicom-cut-in-pixels", ct[: len(ct) - 2000], "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case("dicom-compressed-cut", jpeg[:-100], "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case(
            "dicom-no-transfer-syntax",
            with_meta(ct, drop_syntax=True),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-unknown-transfer-syntax",
            with_meta(ct, syntax="1.2.3.4.5.6.7.8"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-video-transfer-syntax",
            with_meta(ct, syntax="1.2.840.10008.1.2.4.100"),
            "refuse",
            DICOM_ENCODING,
            "IM.dcm",
        ),
        Case(
            "dicom-native-labelled-jpeg",
            with_meta(ct, syntax="1.2.840.10008.1.2.4.50"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-jpeg-labelled-native",
            with_meta(jpeg, syntax=ExplicitVRLittleEndian),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-jpeg-labelled-jpeg-2000",
            with_meta(jpeg, syntax="1.2.840.10008.1.2.4.90"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-rle-labelled-jpeg",
            with_meta(rle, syntax="1.2.840.10008.1.2.4.70"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-more-rows-than-pixels",
            dicom_image(rows=64, columns=64, pixel_bytes=bytes(100)),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case("dicom-undecodable-jpeg", bytes(huffman), "refuse", DICOM_DAMAGED, "IM.dcm"),
        Case(
            "dicom-no-file-meta-group",
            b"\0" * 128 + b"DICM" + ct[end:],
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-element-claiming-4-gib",
            ct[:end] + b"\x08\x00\x05\x00UT\0\0\xfe\xff\xff\xff" + ct[end:],
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-rle-1000-frames-65535-square",
            rle_claiming(1000, 65535, 65535),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-rle-more-frames-than-fragments",
            two_frames.replace(b"\x28\x00\x08\x00IS\x02\x002 ", b"\x28\x00\x08\x00IS\x02\x009 "),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-garbage-after-header",
            b"\0" * 128 + b"DICM" + b"\xff" * 300,
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-windows-program-preamble",
            b"MZ\x90\x00" + b"\0" * 124 + ct[128:],
            "refuse",
            DICOM_PROGRAM,
            "IM.dcm",
        ),
        Case(
            "dicom-linux-program-preamble",
            b"\x7fELF\x02\x01\x01" + b"\0" * 121 + ct[128:],
            "refuse",
            DICOM_PROGRAM,
            "IM.dcm",
        ),
        Case(
            "dicom-mac-program-preamble",
            b"\xcf\xfa\xed\xfe" + b"\0" * 124 + ct[128:],
            "refuse",
            DICOM_PROGRAM,
            "IM.dcm",
        ),
        Case(
            "dicom-script-preamble",
            b"#!/bin/sh\nrm -rf ~\n".ljust(128, b"\0") + ct[128:],
            "refuse",
            DICOM_PROGRAM,
            "IM.dcm",
        ),
        Case(
            "dicom-structured-report",
            samples.dicom("test-SR.dcm"),
            "refuse",
            DICOM_NO_IMAGE,
            "SR.dcm",
        ),
        Case(
            "dicom-treatment-plan", samples.dicom("rtplan.dcm"), "refuse", DICOM_NO_IMAGE, "RP.dcm"
        ),
        Case(
            "dicom-truncated-from-pydicom",
            samples.dicom("MR_truncated.dcm"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
        Case(
            "dicom-meta-missing-syntax-from-pydicom",
            samples.dicom("meta_missing_tsyntax.dcm"),
            "refuse",
            DICOM_DAMAGED,
            "IM.dcm",
        ),
    ]
    return cases


def zip_refused_cases() -> list[Case]:
    import stat
    import warnings

    ct, mr = samples.dicom(), samples.dicom("MR_small.dcm")
    three = zip_of([("IM1", ct), ("IM2", mr), ("IM3", ct)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        duplicate = zip_of([("DICOM/IMG0001", ct), ("DICOM/IMG0001", mr)])
        duplicate_program = zip_of(
            [("DICOM/IMG0001", ct), ("DICOM/IMG0001", PROGRAMS["windows-program"])]
        )
    link = zipfile.ZipInfo("DICOM/IM0002")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    stored = bytearray(zip_of([("IM1", ct)], method=zipfile.ZIP_STORED))
    stored[30 + 3 + 5000] ^= 0xFF
    encrypted = bytearray(zip_of([("IM1", ct)]))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        encrypted[at + offset] |= 0x01
    deflate64 = bytearray(zip_of([("IM1", ct)]))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = deflate64.find(signature)
        deflate64[at + offset] = 9
    corrupt = bytearray(zip_of([("IM1", ct)]))
    corrupt[60:110] = b"\xff" * 50
    directory = three.rfind(b"PK\x01\x02")
    cases = [
        Case(
            "zip-home-relative-path",
            zip_of([("IM1", ct), ("~/.bashrc", ct)]),
            "refuse",
            ZIP_OUTSIDE,
            "s.zip",
        ),
        Case(
            "zip-nul-in-name",
            renamed(zip_of([("IM1", ct), ("IMXX0002", mr)]), b"IMXX0002", b"IM\x0000002"),
            "refuse",
            "hidden characters in its name",
            "s.zip",
        ),
        Case(
            "zip-right-to-left-name",
            zip_of([("IM1", ct), ("IM\u202egpj.exe", mr)]),
            "refuse",
            "hidden characters in its name",
            "s.zip",
        ),
        Case(
            "zip-60000-character-name",
            zip_of([("IM1", ct), ("A" * 60000, mr)]),
            "refuse",
            "name far too long",
            "s.zip",
        ),
        Case("zip-duplicate-names", duplicate, "refuse", "holds two files named", "s.zip"),
        Case(
            "zip-duplicate-name-hiding-a-program",
            duplicate_program,
            "refuse",
            "holds two files named",
            "s.zip",
        ),
        Case(
            "zip-names-differing-in-case",
            zip_of([("DICOM/IM1", ct), ("dicom/im1", mr)]),
            "refuse",
            "holds two files named",
            "s.zip",
        ),
        Case(
            "zip-nested-zip",
            zip_of([("IM1", ct), ("more.zip", samples.dicom_zip())]),
            "refuse",
            "is another ZIP",
            "s.zip",
        ),
        Case(
            "zip-nested-zip-without-extension",
            zip_of([("IM1", ct), ("IM2", samples.dicom_zip())]),
            "refuse",
            "is another ZIP",
            "s.zip",
        ),
        Case(
            "zip-checksum-mismatch", bytes(stored), "refuse", "does not match its checksum", "s.zip"
        ),
        Case(
            "zip-end-record-claims-65535-entries",
            end_record(three, here=0xFFFF, total=0xFFFF),
            "refuse",
            ZIP_DAMAGED,
            "s.zip",
        ),
        Case(
            "zip-end-record-claims-5-entries",
            end_record(three, here=5, total=5),
            "refuse",
            ZIP_DAMAGED,
            "s.zip",
        ),
        Case(
            "zip-directory-offset-past-directory",
            end_record(three, offset=directory + 50),
            "refuse",
            ZIP_DAMAGED,
            "s.zip",
        ),
        Case(
            "zip-directory-offset-at-start",
            end_record(three, offset=0),
            "refuse",
            ZIP_DAMAGED,
            "s.zip",
        ),
        Case(
            "zip-directory-size-too-large",
            end_record(three, size=len(three)),
            "refuse",
            ZIP_DAMAGED,
            "s.zip",
        ),
        Case(
            "zip-one-truncated-image",
            zip_of([("IM1", ct), ("IM2", ct[:20000]), ("IM3", mr)]),
            "refuse",
            "“IM2” in this ZIP is incomplete or damaged",
            "s.zip",
        ),
        Case(
            "zip-one-image-with-a-program",
            zip_of([("IM1", ct), ("IM2", b"MZ\x90\x00" + b"\0" * 124 + ct[128:])]),
            "refuse",
            DICOM_PROGRAM,
            "s.zip",
        ),
        Case(
            "zip-link",
            zip_of([("IM1", ct), (link, "/etc/passwd")]),
            "refuse",
            "contains links",
            "s.zip",
        ),
        Case("zip-password-protected", bytes(encrypted), "refuse", "password-protected", "s.zip"),
        Case(
            "zip-bomb",
            zip_of([("IM1", ct), ("IM2", bytes(50_000_000))]),
            "refuse",
            "packed suspiciously tightly",
            "s.zip",
        ),
        Case(
            "zip-without-images",
            zip_of([("notes/report.txt", b"hello"), ("photo.jpg", picture("JPEG"))]),
            "refuse",
            ZIP_NO_STUDY,
            "s.zip",
        ),
        Case(
            "zip-deflate64", bytes(deflate64), "refuse", "packed in a way we cannot open", "s.zip"
        ),
        Case("zip-corrupt-data", bytes(corrupt), "refuse", "IM1", "s.zip"),
        Case("zip-cut-at-half", three[: len(three) // 2], "refuse", ZIP_DAMAGED, "s.zip"),
    ]
    for path in (
        "../../etc/cron.d/evil",
        "DICOM/../../escape.dcm",
        "/etc/passwd",
        "C:/Windows/evil.dcm",
        "..\\..\\evil.dcm",
    ):
        label = path.replace("/", "_").replace("\\", "_")
        cases.append(
            Case(
                f"zip-path-{label}",
                zip_of([("IM1", ct), (path, ct)]),
                "refuse",
                ZIP_OUTSIDE,
                "s.zip",
            )
        )
    return cases


def cd_cases() -> list[Case]:
    left_out = "left out"
    return [
        Case(
            "cd-with-viewer-and-report",
            imaging_cd(),
            "clean",
            STUDY,
            "CD.zip",
            notes=[left_out, "REPORT.PDF is a PDF report"],
            held=1,
        ),
        Case(
            "cd-with-viewer", imaging_cd(report=False), "clean", STUDY, "CD.zip", notes=[left_out]
        ),
        Case(
            "cd-with-report-with-script",
            zip_of(
                [
                    ("IM1", samples.dicom()),
                    ("report.pdf", active_pdf("open_action_script", "plain")),
                ]
            ),
            "clean",
            STUDY,
            "CD.zip",
            notes=["report.pdf is a PDF report"],
            held=1,
        ),
        Case(
            "cd-with-damaged-report",
            zip_of([("IM1", samples.dicom()), ("report.pdf", b"%PDF-1.4 broken\n%%EOF")]),
            "clean",
            STUDY,
            "CD.zip",
            notes=[left_out],
        ),
    ]
