"""Files parents really send, each accepted as it is: reports, scans, phone photos, DICOM
images and studies, and valid files with the names browsers give them."""

import zipfile

import pikepdf
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
)

from tests import samples
from tests.records.corpus.builders import (
    dicom_image,
    dicomdir,
    interlaced_png,
    jpeg_with_exif,
    pdf_document,
    pdf_with_form,
    pdf_with_image,
    pdf_with_link,
    picture,
    png_with_text,
    pydicom_images,
    zip_of,
)
from tests.records.corpus.cases import (
    DICOM,
    JPEG,
    PDF,
    PNG,
    STUDY,
    Case,
)


def valid_cases() -> list[Case]:
    cases = [
        Case("pdf-demo", samples.pdf(), "accept", PDF, "letter.pdf", "record"),
        Case("pdf-1-page", pdf_document(1), "accept", PDF, "a.pdf", "record"),
        Case("pdf-12-pages", pdf_document(12), "accept", PDF, "b.pdf", "record"),
        Case(
            "pdf-object-streams",
            pdf_document(3, object_stream_mode=pikepdf.ObjectStreamMode.generate),
            "accept",
            PDF,
            "c.pdf",
            "referral",
        ),
        Case("pdf-linearized", pdf_document(2, linearize=True), "accept", PDF, "d.pdf", "record"),
        Case("pdf-qdf", pdf_document(2, qdf=True), "accept", PDF, "e.pdf", "record"),
        Case("pdf-scan", pdf_with_image(), "accept", PDF, "scan.pdf", "record"),
        Case(
            "pdf-owner-password-rc4",
            pdf_document(
                2,
                encryption=pikepdf.Encryption(
                    owner="hospital", user="", R=3, metadata=False, aes=False
                ),
            ),
            "accept",
            PDF,
            "export.pdf",
            "record",
        ),
        Case(
            "pdf-owner-password-aes",
            pdf_document(
                2,
                encryption=pikepdf.Encryption(
                    owner="hospital",
                    user="",
                    R=6,
                    allow=pikepdf.Permissions(extract=False, modify_other=False),
                ),
            ),
            "accept",
            PDF,
            "export.pdf",
            "record",
        ),
        Case("pdf-with-link", pdf_with_link(), "accept", PDF, "links.pdf", "record"),
        Case("pdf-with-form", pdf_with_form(script=False), "accept", PDF, "form.pdf", "record"),
        Case(
            "pdf-trailing-newlines", pdf_document(1) + b"\r\n\r\n", "accept", PDF, "f.pdf", "record"
        ),
    ]
    for mode, kind, options in (
        ("RGB", "JPEG", {}),
        ("RGB", "JPEG", {"quality": 30}),
        ("RGB", "JPEG", {"progressive": True}),
        ("RGB", "JPEG", {"subsampling": 0}),
        ("RGB", "JPEG", {"optimize": True}),
        ("L", "JPEG", {}),
        ("CMYK", "JPEG", {}),
        ("RGB", "JPEG", {"restart_marker_blocks": 1}),
        ("RGB", "PNG", {}),
        ("RGBA", "PNG", {}),
        ("L", "PNG", {}),
        ("LA", "PNG", {}),
        ("P", "PNG", {}),
        ("1", "PNG", {}),
        ("I;16", "PNG", {}),
        ("RGB", "PNG", {"optimize": True}),
        ("RGB", "PNG", {"compress_level": 0}),
    ):
        label = "-".join(f"{k}{v}" for k, v in options.items())
        content = picture(kind, mode, (97, 61), **options)
        cases.append(
            Case(
                f"{kind.lower()}-{mode.replace(';', '')}{('-' + label) if label else ''}",
                content,
                "accept",
                JPEG if kind == "JPEG" else PNG,
                f"photo.{kind.lower()}",
                "record",
            )
        )
    cases += [
        Case("png-interlaced", interlaced_png(), "accept", PNG, "scan.png", "record"),
        Case("jpeg-exif", jpeg_with_exif(), "accept", JPEG, "IMG_0001.JPG", "record"),
        Case(
            "jpeg-large-phone-photo",
            picture("JPEG", "RGB", (4032, 3024), quality=40),
            "accept",
            JPEG,
            "IMG_0002.jpeg",
            "imaging",
        ),
        Case(
            "png-with-text-chunk",
            png_with_text(b"Comment", b"scanned at the clinic"),
            "accept",
            PNG,
            "scan.png",
            "record",
        ),
    ]
    for name, content in pydicom_images().items():
        cases.append(Case(f"dicom-{name[:-4]}", content, "accept", DICOM, name, "imaging"))
    cases += [
        Case("dicom-built-8bit", dicom_image(bits=8), "accept", DICOM, "IM0001.dcm"),
        Case("dicom-built-multiframe", dicom_image(frames=5), "accept", DICOM, "IM0002.dcm"),
        Case(
            "dicom-built-monochrome1",
            dicom_image(photometric="MONOCHROME1"),
            "accept",
            DICOM,
            "IM0003.dcm",
        ),
        Case(
            "dicom-built-implicit",
            dicom_image(syntax=ImplicitVRLittleEndian),
            "accept",
            DICOM,
            "IM0004",
        ),
        Case(
            "dicom-built-big-endian",
            dicom_image(syntax=ExplicitVRBigEndian),
            "accept",
            DICOM,
            "IM0005.dcm",
        ),
        Case(
            "dicom-deflated",
            dicom_image(syntax=DeflatedExplicitVRLittleEndian),
            "accept",
            DICOM,
            "IM0006.dcm",
        ),
        Case(
            "dicom-deflated-multiframe",
            dicom_image(frames=3, syntax=DeflatedExplicitVRLittleEndian),
            "accept",
            DICOM,
            "IM0007.dcm",
        ),
        Case("zip-study", samples.dicom_zip(), "accept", STUDY, "study.zip"),
        Case(
            "zip-study-stored",
            zip_of(
                [("IMG1", samples.dicom()), ("IMG2", samples.dicom("MR_small.dcm"))],
                method=zipfile.ZIP_STORED,
            ),
            "accept",
            STUDY,
            "study.zip",
        ),
        Case(
            "zip-study-folders",
            zip_of(
                [
                    ("PATIENT/STUDY1/SERIES1/IM1", samples.dicom()),
                    ("PATIENT/STUDY1/SERIES2/IM1", samples.dicom("MR_small_RLE.dcm")),
                ]
            ),
            "accept",
            STUDY,
            "study.zip",
        ),
        Case(
            "zip-study-windows-folders",
            zip_of([("DICOM\\S1\\IM1", samples.dicom())]),
            "accept",
            STUDY,
            "study.zip",
        ),
        Case(
            "zip-study-with-dicomdir",
            zip_of([("DICOMDIR", dicomdir()), ("DICOM/IM1", samples.dicom())]),
            "accept",
            STUDY,
            "cd.zip",
        ),
        Case(
            "zip-study-compressed-images",
            zip_of(
                [
                    (f"IM{n}", samples.dicom(name))
                    for n, name in enumerate(
                        (
                            "JPEG2000.dcm",
                            "MR_small_jpeg_ls_lossless.dcm",
                            "SC_rgb_rle.dcm",
                            "JPGExtended.dcm",
                        )
                    )
                ]
            ),
            "accept",
            STUDY,
            "study.zip",
        ),
    ]
    return cases


def name_cases() -> list[Case]:
    document = samples.pdf()
    names = {
        "name-300-characters": ("a" * 296 + ".pdf", "a" * 116 + ".pdf"),
        "name-1100-characters": ("b" * 1096 + ".pdf", "b" * 116 + ".pdf"),
        "name-4200-characters": ("c" * 4196 + ".pdf", "c" * 116 + ".pdf"),
        "name-only-dots": ("....", "Document 1.pdf"),
        "name-two-dots": ("..", "Document 1.pdf"),
        "name-one-dot": (".", "Document 1.pdf"),
        "name-dot-file": (".htaccess", "htaccess.pdf"),
        "name-hidden-pdf": (".report.pdf", "report.pdf"),
        "name-only-spaces": ("     ", "Document 1.pdf"),
        "name-home-relative": ("~/Desktop/scan.pdf", "scan.pdf"),
        "name-tilde-only": ("~", "Document 1.pdf"),
        "name-climbing-path": ("../../etc/passwd", "passwd.pdf"),
        "name-windows-path": ("C:\\Users\\me\\referral.pdf", "referral.pdf"),
        "name-folder-only": ("scans/", "Document 1.pdf"),
        "name-nul": ("report\x00.pdf", "report.pdf"),
        "name-right-to-left": ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),
        "name-wrong-extension": ("scan.exe", "scan.exe.pdf"),
        "name-accents": ("Résumé médical – Dr. Lee (2).PDF", "Résumé médical – Dr. Lee (2).PDF"),
    }
    return [
        Case(label, document, "accept", PDF, name, "record", shown_name=shown)
        for label, (name, shown) in names.items()
    ]
