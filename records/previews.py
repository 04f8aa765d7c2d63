"""Drawing previews and reading study details from documents (run by the worker).

Only patient-independent DICOM fields are kept (modality, body part, dates, descriptions,
counts): names, identifiers and birth dates stay in the file. Images are decoded one at a
time and a ZIP study is unpacked one image at a time, so memory does not grow with a study.
"""

import io
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pydicom
import pypdfium2
from django.conf import settings
from PIL import Image, ImageOps
from pydicom.pixels import apply_modality_lut, apply_voi_lut, iter_pixels
from pydicom.uid import DeflatedExplicitVRLittleEndian

from records.filetypes import EXECUTABLE_HEADERS
from records.models import FileType

MAX_SIDE = 1024
# Grey levels between a page's darkest and lightest pixel below which it shows nothing.
BLANK_CONTRAST = 16
STUDY_FIELDS = ("Modality", "BodyPartExamined", "StudyDate", "StudyDescription", "Manufacturer")
SERIES_FIELDS = ("SeriesNumber", "SeriesDescription", "Modality", "BodyPartExamined")


@dataclass
class Drawn:
    series: int
    position: int
    label: str
    png: bytes
    width: int
    height: int


@dataclass
class Result:
    previews: list[Drawn] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


def _png(image: Image.Image) -> tuple[bytes, int, int]:
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), image.width, image.height


def _grey_to_image(frame: np.ndarray, dataset) -> Image.Image:
    if frame.ndim == 3:  # colour (decoded to RGB)
        return Image.fromarray(frame.astype(np.uint8), "RGB")
    values = apply_voi_lut(apply_modality_lut(frame, dataset), dataset, index=0).astype(np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = np.zeros_like(values) if high == low else (values - low) / (high - low) * 255.0
    if dataset.get("PhotometricInterpretation") == "MONOCHROME1":
        scaled = 255.0 - scaled  # bright means air in MONOCHROME1
    return Image.fromarray(scaled.astype(np.uint8), "L")


def _text(dataset, name: str) -> str:
    value = dataset.get(name)
    return str(value) if value not in (None, "") else ""


def _dicom_images(fileobj, series: int, limit: int) -> list[Drawn]:
    """Every frame of one DICOM file (up to ``limit``), or none if it cannot be decoded."""
    fileobj.seek(0)
    dataset = pydicom.dcmread(fileobj, stop_before_pixels=True)
    fileobj.seek(0)
    drawn = []
    try:
        for index, frame in enumerate(_frames(fileobj, dataset)):
            if index >= limit:
                break
            png, width, height = _png(_grey_to_image(frame, dataset))
            drawn.append(Drawn(series, index + 1, "", png, width, height))
    except Exception:  # an encoding no installed decoder reads: details without images
        return []
    return drawn


def _frames(fileobj, dataset):
    """The frames of a DICOM file one at a time; a deflated file is inflated whole first
    (pydicom reads pixel data straight from the file only when it is not deflated)."""
    if dataset.file_meta.get("TransferSyntaxUID") != DeflatedExplicitVRLittleEndian:
        return iter_pixels(fileobj)
    fileobj.seek(0)
    pixels = pydicom.dcmread(fileobj).pixel_array
    return iter(pixels) if _number(dataset, "NumberOfFrames") > 1 else iter([pixels])


def dicom_file(fileobj) -> Result:
    fileobj.seek(0)
    dataset = pydicom.dcmread(fileobj, stop_before_pixels=True)
    images = _dicom_images(fileobj, series=1, limit=settings.RECORDS_MAX_PREVIEWS)
    label = _series_label(dataset)
    for drawn in images:
        drawn.label = f"{label} · image {drawn.position}" if len(images) > 1 else label
    frames = _number(dataset, "NumberOfFrames") or 1
    metadata = {
        "study": {name: _text(dataset, name) for name in STUDY_FIELDS},
        "series": [{**{name: _text(dataset, name) for name in SERIES_FIELDS}, "images": frames}],
        "images": frames,
        "previews_missing": not images,
    }
    return Result(images, metadata)


def _series_label(dataset) -> str:
    parts = [_text(dataset, "Modality"), _text(dataset, "SeriesDescription")]
    return " · ".join(part for part in parts if part) or "Image"


def _bounded_copy(member, budget: int):
    """Copy one ZIP member to a temporary file, counting real bytes: a member that unpacks
    past the remaining budget stops the study."""
    copy = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115
    written = 0
    for chunk in iter(lambda: member.read(1024 * 1024), b""):
        written += len(chunk)
        if written > budget:
            copy.close()
            raise ValueError("study unpacks past the imaging limit")
        copy.write(chunk)
    copy.seek(0)
    return copy, written


def dicom_zip(fileobj) -> Result:
    """A study from a CD: its DICOM files grouped into series (in series and image order);
    other files (viewers, DICOMDIR) are left alone. Two passes keep memory flat whatever the
    size of the study: first every header (the images stay packed), then one image at a time
    is unpacked, drawn and dropped."""
    with zipfile.ZipFile(fileobj) as archive:
        headers = sorted(_study_headers(archive), key=lambda item: item[0])
        return _study_result(archive, headers)


def _study_headers(archive: zipfile.ZipFile):
    for entry in archive.infolist():
        # A CD's directory is DICOM too, but no image of the study.
        if entry.is_dir() or entry.filename.rsplit("/", 1)[-1].upper() == "DICOMDIR":
            continue
        with archive.open(entry) as member:
            head = member.read(132)
            if head[128:132] != b"DICM" or head[:128].startswith(EXECUTABLE_HEADERS):
                continue
            member.seek(0)
            dataset = pydicom.dcmread(member, stop_before_pixels=True)
        # A series is known by its UID (numbers repeat across series); it orders by number.
        series = (_number(dataset, "SeriesNumber"), _text(dataset, "SeriesInstanceUID"))
        order = (series, _number(dataset, "InstanceNumber"), entry.filename)
        yield order, entry, {name: _text(dataset, name) for name in (*STUDY_FIELDS, *SERIES_FIELDS)}


def _number(dataset, name: str) -> int:
    try:
        return int(dataset.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def _study_result(archive: zipfile.ZipFile, headers) -> Result:
    result = Result()
    budget, remaining = settings.RECORDS_MAX_IMAGING_BYTES, settings.RECORDS_MAX_PREVIEWS
    current, series_meta, position = None, [], 0
    for (series, _, _), entry, fields in headers:
        if series != current:
            current, position = series, 0
            series_meta.append({**{name: fields[name] for name in SERIES_FIELDS}, "images": 0})
        series_meta[-1]["images"] += 1
        if remaining <= 0:
            continue
        with archive.open(entry) as member:
            copy, size = _bounded_copy(member, budget)
        budget -= size
        with copy:
            for drawn in _dicom_images(copy, len(series_meta), limit=1):
                position += 1
                drawn.position = position
                label = " · ".join(
                    part for part in (fields["Modality"], fields["SeriesDescription"]) if part
                )
                drawn.label = f"Series {len(series_meta)} · {label or 'Image'} · image {position}"
                result.previews.append(drawn)
                remaining -= 1
    first = headers[0][2] if headers else {}
    result.metadata = {
        "study": {name: first.get(name, "") for name in STUDY_FIELDS},
        "series": series_meta,
        "images": len(headers),
        "previews_missing": not result.previews,
    }
    return result


def picture(fileobj) -> Result:
    """A smaller copy of a photo or scan, upright as the phone meant it (EXIF orientation),
    decoded at reduced size where the format allows (JPEG), never at full size in memory."""
    fileobj.seek(0)
    try:
        with Image.open(fileobj) as image:
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            upright = ImageOps.exif_transpose(image)
            png, width, height = _png(upright.convert("RGB"))
    except OSError:
        png, width, height = _png(_twelve_bit_jpeg(fileobj))
    return Result([Drawn(1, 1, "Preview", png, width, height)])


def _twelve_bit_jpeg(fileobj) -> Image.Image:
    """A 12-bit JPEG (which Pillow does not read), decoded by libjpeg and scaled to 8 bits."""
    from libjpeg import decode

    fileobj.seek(0)
    values = decode(fileobj.read()).astype(np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = np.zeros_like(values) if high == low else (values - low) / (high - low) * 255.0
    return Image.fromarray(scaled.astype(np.uint8), "RGB" if scaled.ndim == 3 else "L")


def pdf_first_page(fileobj) -> Result:
    fileobj.seek(0)
    document = pypdfium2.PdfDocument(fileobj)
    try:
        pages = len(document)
        page = document[0]
        # At most 1.5x, and never past the preview size: a huge page would be a huge bitmap.
        scale = min(1.5, MAX_SIDE / max(page.get_size()))
        image = page.render(scale=scale).to_pil()
    finally:
        document.close()
    image = image.convert("RGB")
    # A first page with nothing on it (a cover left blank, a scan of white paper) would show
    # as an empty square: the family's list shows the file's icon instead.
    low, high = image.convert("L").getextrema()
    png, width, height = _png(image)
    metadata = {"pages": pages, "blank_first_page": high - low < BLANK_CONTRAST}
    return Result([Drawn(1, 1, "Page 1", png, width, height)], metadata)


RENDERERS = {
    FileType.DICOM: dicom_file,
    FileType.DICOM_ZIP: dicom_zip,
    FileType.JPEG: picture,
    FileType.PNG: picture,
    FileType.PDF: pdf_first_page,
}


def draw_into(folder: str, file_type: str, fileobj) -> dict:
    """Draw a document's previews into ``folder`` (run in the limited child): the study
    details and a manifest of the PNG files written, as JSON."""
    result = RENDERERS[file_type](fileobj)
    manifest = []
    for number, drawn in enumerate(result.previews):
        name = f"preview-{number}.png"
        with open(os.path.join(folder, name), "wb") as out:
            out.write(drawn.png)
        manifest.append(
            {
                "file": name,
                "series": drawn.series,
                "position": drawn.position,
                "label": drawn.label,
                "width": drawn.width,
                "height": drawn.height,
            }
        )
    return {"previews": manifest, "metadata": result.metadata}
