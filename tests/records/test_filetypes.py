"""What is accepted, decided from the bytes, and every kind of bad file, each with the
sentence the parent reads."""

import io
import stat
import zipfile

import pytest

from records.filetypes import Rejected, clean_file_name, identify
from records.models import FileType
from tests import samples


def check(content: bytes):
    return identify(io.BytesIO(content))


def refused(content: bytes) -> str:
    with pytest.raises(Rejected) as rejection:
        check(content)
    return str(rejection.value)


@pytest.mark.parametrize(
    ("content", "file_type"),
    [
        (samples.pdf(), FileType.PDF),
        (samples.image("JPEG"), FileType.JPEG),
        (samples.image("PNG"), FileType.PNG),
        (samples.dicom("CT_small.dcm"), FileType.DICOM),
        (samples.dicom("MR_small.dcm"), FileType.DICOM),
        (samples.dicom("JPEG2000.dcm"), FileType.DICOM),
        (samples.dicom("MR_small_RLE.dcm"), FileType.DICOM),
        (samples.dicom("MR_small_bigendian.dcm"), FileType.DICOM),
        (samples.dicom_zip(), FileType.DICOM_ZIP),
    ],
    ids=["pdf", "jpeg", "png", "ct", "mr", "jpeg2000", "rle", "big-endian", "zip"],
)
def test_accepted_files_are_known_by_their_bytes(content, file_type):
    assert check(content).file_type == file_type


def test_a_study_as_burned_on_a_cd_is_accepted_with_its_dicomdir_and_viewer():
    content = samples.dicom_zip(
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small.dcm",
        extra={
            "DICOMDIR": samples.dicom("MR_small.dcm")[:200],
            "VIEWER/setup.exe": b"MZ\x90\x00",
            "README.TXT": b"Study of 3 images",
        },
    )

    assert check(content).dicom_files == 3


NOT_ACCEPTED = (
    "This type of file is not accepted. Send PDF, JPEG or PNG files, DICOM images (.dcm), or a "
    "ZIP of a DICOM study."
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "This file is empty."),
        (b"<!doctype html><html><script>alert(1)</script></html>", NOT_ACCEPTED),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            NOT_ACCEPTED,
        ),
        (
            b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode" + b"\0" * 200,
            NOT_ACCEPTED,
        ),
        (b"\x7fELF\x02\x01\x01" + b"\0" * 200, NOT_ACCEPTED),
        (b"GIF89a\x01\x00\x01\x00", NOT_ACCEPTED),
        (b"plain text notes", NOT_ACCEPTED),
    ],
    ids=["empty", "html", "svg", "windows-program", "linux-program", "gif", "text"],
)
def test_other_files_are_refused_naming_what_is_accepted(content, message):
    assert refused(content) == message


def test_a_pdf_cut_short_is_refused():
    assert "incomplete or damaged" in refused(samples.pdf()[:-30])


def test_a_password_protected_pdf_is_refused_with_what_to_do():
    encrypted = samples.pdf().replace(b"trailer<<", b"trailer<</Encrypt 9 0 R")

    assert refused(encrypted) == "This PDF is password-protected. Send it without the password."


def test_a_png_with_a_web_page_after_its_end_is_refused():
    hybrid = samples.image("PNG") + b"<html><script>fetch('/steal')</script></html>"

    assert refused(hybrid) == "This PNG image carries extra data and is not accepted."


def test_a_jpeg_with_a_web_page_after_its_end_is_refused():
    hybrid = samples.image("JPEG") + b"<html><body><script>alert(1)</script></body></html>"

    assert "web-page code" in refused(hybrid)


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_an_image_cut_short_is_refused(kind):
    content = samples.image(kind, size=(400, 300))

    assert "incomplete or damaged" in refused(content[: len(content) // 2])


def test_a_png_with_a_damaged_chunk_is_refused():
    content = bytearray(samples.image("PNG"))
    content[40] ^= 0xFF  # inside a chunk: its checksum no longer matches

    assert "incomplete or damaged" in refused(bytes(content))


def test_a_dicom_file_cut_short_is_refused():
    content = samples.dicom("CT_small.dcm")

    assert "incomplete or damaged" in refused(content[: len(content) // 2])


def test_a_compressed_dicom_file_cut_short_is_refused():
    assert "incomplete or damaged" in refused(samples.dicom("SC_rgb_jpeg_dcmtk.dcm")[:-100])


def test_a_dicom_file_with_a_program_in_its_preamble_is_refused():
    content = samples.dicom("CT_small.dcm")
    disguised = b"MZ\x90\x00" + b"\0" * 124 + content[128:]

    assert "hides a program in its header" in refused(disguised)


def test_a_dicom_header_followed_by_garbage_is_refused():
    assert "incomplete or damaged" in refused(b"\0" * 128 + b"DICM" + b"\xff" * 300)


def zip_of(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


def test_a_zip_without_dicom_images_is_refused():
    content = zip_of([("notes/report.txt", b"hello"), ("photo.jpg", samples.image("JPEG"))])

    assert "does not contain DICOM images" in refused(content)


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/cron.d/evil",
        "DICOM/../../escape.dcm",
        "/etc/passwd",
        "C:/Windows/evil.dcm",
        "..\\..\\evil.dcm",
    ],
)
def test_a_zip_with_paths_that_climb_out_is_refused(path):
    content = zip_of([("DICOM/IM0001", samples.dicom()), (path, samples.dicom())])

    assert refused(content) == "This ZIP contains files that point outside it and is not accepted."


def test_a_zip_with_a_link_is_refused():
    link = zipfile.ZipInfo("DICOM/IM0002")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16

    content = zip_of([("DICOM/IM0001", samples.dicom()), (link, "/etc/passwd")])

    assert refused(content) == "This ZIP contains links and is not accepted."


def test_a_zip_bomb_is_refused_without_unpacking_it():
    content = zip_of([("DICOM/IM0001", samples.dicom()), ("DICOM/IM0002", b"\0" * 50_000_000)])

    assert refused(content) == "This ZIP is packed suspiciously tightly and is not accepted."


def test_a_zip_with_too_many_files_is_refused(settings):
    settings.RECORDS_ZIP_MAX_FILES = 3

    content = samples.dicom_zip("CT_small.dcm", "MR_small.dcm", "CT_small.dcm", "MR_small.dcm")

    assert refused(content) == "This ZIP holds more than 3 files. Send the study in parts."


def test_a_zip_that_unpacks_past_the_imaging_limit_is_refused(settings):
    settings.RECORDS_MAX_IMAGING_BYTES = 20_000

    assert "unpacks to more than the size accepted" in refused(samples.dicom_zip())


def test_a_password_protected_zip_is_refused():
    content = bytearray(samples.dicom_zip("CT_small.dcm"))
    # Mark every entry as encrypted (bit 0 of the flags) in the local and central headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := content.find(signature, start)) != -1:
            content[start + offset] |= 0x01
            start += 4

    assert (
        refused(bytes(content)) == "This ZIP is password-protected. Send it without the password."
    )


def test_a_damaged_zip_is_refused():
    content = samples.dicom_zip()

    assert refused(content[: len(content) // 2]) == "This ZIP file is incomplete or damaged."


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd.pdf", "looks like a folder path"),
        ("C:\\Users\\me\\report.pdf", "looks like a folder path"),
        (".htaccess", "looks like a folder path"),
        ("report\x00.pdf", "hidden characters"),
        ("invoice\u202efdp.exe", "hidden characters"),
        ("x" * 1024 + ".pdf", "too long"),
        ("   ", "has no name"),
    ],
    ids=["traversal", "windows-path", "dotfile", "nul", "right-to-left", "1-kb", "blank"],
)
def test_file_names_that_hide_or_climb_are_refused(name, message):
    with pytest.raises(Rejected, match=message):
        clean_file_name(name)


def test_an_ordinary_name_is_kept_as_given():
    assert clean_file_name("  Dr. Lee – referral (2).PDF ") == "Dr. Lee – referral (2).PDF"


def test_a_study_with_one_disguised_program_is_refused_whole():
    disguised = b"MZ\x90\x00" + b"\0" * 124 + samples.dicom()[128:]
    content = zip_of(
        [
            ("DICOM/IM0001", samples.dicom()),
            ("DICOM/IM0002", disguised),
            ("index.html", b"<html></html>"),
        ]
    )

    assert "hides a program in its header" in refused(content)


def test_a_zip_packed_with_deflate64_gets_a_clear_message():
    content = bytearray(samples.dicom_zip("CT_small.dcm"))
    # Mark the entry as Deflate64 (method 9), as Windows does for large compressed folders.
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := content.find(signature, start)) != -1:
            content[start + offset] = 9
            start += 4

    assert "packed in a way we cannot open" in refused(bytes(content))


def test_a_zip_whose_packed_data_is_corrupt_is_refused():
    content = bytearray(samples.dicom_zip("CT_small.dcm"))
    start = content.find(b"PK\x03\x04") + 30 + len(b"DICOM/IM0000")
    content[start + 10 : start + 60] = b"\xff" * 50

    assert refused(bytes(content)) == "This ZIP file is incomplete or damaged."


def test_a_file_that_only_looks_like_a_pdf_is_refused():
    assert "incomplete or damaged" in refused(b"%PDF-1.4\nthis is not a pdf\n%%EOF\n")


def test_an_image_of_more_than_about_89_million_pixels_is_refused():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (10_000, 9_000)).save(buffer, "PNG")

    assert "too large in pixels" in refused(buffer.getvalue())
