"""Drawing previews and reading study details from documents (run by the worker).

Only patient-independent DICOM fields are kept (modality, body part, dates, descriptions,
counts): names, identifiers and birth dates stay in the file. Images are decoded one at a
time, so a large study never sits in memory at once.
"""

import io
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pydicom
import pypdfium2
from django.conf import settings
from PIL import Image
from pydicom.pixels import apply_modality_lut, apply_voi_lut, iter_pixels

from records.filetypes import EXECUTABLE_HEADERS
from records.models import FileType

MAX_SIDE = 1024
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
        for index, frame in enumerate(iter_pixels(fileobj)):
            if index >= limit:
                break
            png, width, height = _png(_grey_to_image(frame, dataset))
            drawn.append(Drawn(series, index + 1, "", png, width, height))
    except Exception:  # an encoding no installed decoder reads: details without images
        return []
    return drawn


def dicom_file(fileobj) -> Result:
    fileobj.seek(0)
    dataset = pydicom.dcmread(fileobj, stop_before_pixels=True)
    images = _dicom_images(fileobj, series=1, limit=settings.RECORDS_MAX_PREVIEWS)
    label = _series_label(dataset)
    for drawn in images:
        drawn.label = f"{label} · image {drawn.position}" if len(images) > 1 else label
    metadata = {
        "study": {name: _text(dataset, name) for name in STUDY_FIELDS},
        "series": [
            {**{name: _text(dataset, name) for name in SERIES_FIELDS}, "images": len(images)}
        ],
        "images": len(images),
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
    other files (viewers, DICOMDIR) are left alone."""
    budget = settings.RECORDS_MAX_IMAGING_BYTES
    instances = []
    with zipfile.ZipFile(fileobj) as archive:
        for entry in archive.infolist():
            if entry.is_dir():
                continue
            with archive.open(entry) as member:
                copy, size = _bounded_copy(member, budget)
            budget -= size
            head = copy.read(132)
            copy.seek(0)
            if head[128:132] != b"DICM" or head[:128].startswith(EXECUTABLE_HEADERS):
                copy.close()
                continue
            dataset = pydicom.dcmread(copy, stop_before_pixels=True)
            copy.seek(0)
            # A series is known by its UID (numbers repeat across series); it orders by number.
            series = (_number(dataset, "SeriesNumber"), _text(dataset, "SeriesInstanceUID"))
            instances.append((series, _number(dataset, "InstanceNumber"), dataset, copy))
    return _study_result(sorted(instances, key=lambda item: (item[0], item[1])))


def _number(dataset, name: str) -> int:
    try:
        return int(dataset.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def _study_result(instances) -> Result:
    result = Result()
    series_index, current, remaining = 0, None, settings.RECORDS_MAX_PREVIEWS
    series_meta = []
    for series, _, dataset, copy in instances:
        if series != current:
            series_index, current, position = series_index + 1, series, 0
            series_meta.append(
                {**{name: _text(dataset, name) for name in SERIES_FIELDS}, "images": 0}
            )
        if remaining > 0:
            for drawn in _dicom_images(copy, series_index, limit=1):
                position += 1
                drawn.position = position
                drawn.label = f"Series {series_index} · {_series_label(dataset)} · image {position}"
                result.previews.append(drawn)
                remaining -= 1
        series_meta[-1]["images"] += 1
        copy.close()
    first = instances[0][2] if instances else None
    result.metadata = {
        "study": {name: _text(first, name) for name in STUDY_FIELDS} if first is not None else {},
        "series": series_meta,
        "images": len(instances),
        "previews_missing": not result.previews,
    }
    return result


def picture(fileobj) -> Result:
    fileobj.seek(0)
    with Image.open(fileobj) as image:
        png, width, height = _png(image.convert("RGB"))
    return Result([Drawn(1, 1, "Preview", png, width, height)])


def pdf_first_page(fileobj) -> Result:
    fileobj.seek(0)
    document = pypdfium2.PdfDocument(fileobj)
    try:
        pages = len(document)
        image = document[0].render(scale=1.5).to_pil()
    finally:
        document.close()
    png, width, height = _png(image.convert("RGB"))
    return Result([Drawn(1, 1, "Page 1", png, width, height)], {"pages": pages})


RENDERERS = {
    FileType.DICOM: dicom_file,
    FileType.DICOM_ZIP: dicom_zip,
    FileType.JPEG: picture,
    FileType.PNG: picture,
    FileType.PDF: pdf_first_page,
}
