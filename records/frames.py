"""Imaging for the reviewer's viewer: a study's series and images, read from the stored
bytes, and each image sent to the browser as a DICOM file that holds only what a viewer
needs to draw and measure it.

What the browser receives is written again from an allow-list (``KEEP``): the pixel module,
the geometry (spacing, position, orientation), the window and rescale values, and UIDs
replaced by ones derived from the document (``_pseudo_uid``). Names, identifiers, birth
dates, institutions, free text, private tags and overlays are never copied. The pixel data
is copied from the stored file as it is, a chunk at a time: nothing is decoded here (the
browser decodes) and no study is held in memory.

Every byte served is checked: a single DICOM file against the SHA-256 taken at upload, an
image of a ZIP study against the digest of that image taken while the whole ZIP was
verified (``study_index``, kept in the cache under the document's checksum).
"""

import hashlib
import io
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pydicom
from django.core.cache import cache
from django.core.files.storage import default_storage
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from records.filetypes import EXECUTABLE_HEADERS
from records.models import Document, FileType
from records.services import CHUNK, CorruptDocument, document_read_verified

VIEWABLE = frozenset({FileType.DICOM, FileType.DICOM_ZIP})
INDEX_VERSION = 1
INDEX_SECONDS = 12 * 3600
PIXEL_DATA = 0x7FE00010
ITEM, SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
IMPLICIT_LITTLE, EXPLICIT_BIG = "1.2.840.10008.1.2", "1.2.840.10008.1.2.2"
LONG_EXPLICIT = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}

# The header fields a viewer needs (pydicom keywords); everything else stays in the file.
KEEP = frozenset(
    {
        "ImageType",
        "SOPClassUID",
        "Modality",
        "SliceThickness",
        "ImagerPixelSpacing",
        "PixelSpacingCalibrationType",
        "EstimatedRadiographicMagnificationFactor",
        "DistanceSourceToDetector",
        "DistanceSourceToPatient",
        "DistanceSourceToEntrance",
        "FrameTime",
        "InstanceNumber",
        "ImagePositionPatient",
        "ImageOrientationPatient",
        "SliceLocation",
        "SamplesPerPixel",
        "PhotometricInterpretation",
        "PlanarConfiguration",
        "NumberOfFrames",
        "FrameIncrementPointer",
        "Rows",
        "Columns",
        "PixelSpacing",
        "PixelAspectRatio",
        "BitsAllocated",
        "BitsStored",
        "HighBit",
        "PixelRepresentation",
        "WindowCenter",
        "WindowWidth",
        "RescaleIntercept",
        "RescaleSlope",
        "RescaleType",
        "VOILUTFunction",
        "LossyImageCompression",
        "RedPaletteColorLookupTableDescriptor",
        "GreenPaletteColorLookupTableDescriptor",
        "BluePaletteColorLookupTableDescriptor",
        "RedPaletteColorLookupTableData",
        "GreenPaletteColorLookupTableData",
        "BluePaletteColorLookupTableData",
        "ModalityLUTSequence",
        "VOILUTSequence",
        "LUTDescriptor",
        "LUTData",
        "ModalityLUTType",
        # Enhanced multi-frame images keep their geometry in functional groups.
        "SharedFunctionalGroupsSequence",
        "PerFrameFunctionalGroupsSequence",
        "PixelMeasuresSequence",
        "PlanePositionSequence",
        "PlaneOrientationSequence",
        "FrameVOILUTSequence",
        "PixelValueTransformationSequence",
    }
)
# Projection radiographs (CR, DX, mammography, intra-oral, XA): their Imager Pixel Spacing is
# measured at the detector, and is what lengths use when the file has nothing better.
PROJECTION_CLASSES = frozenset(
    f"1.2.840.10008.5.1.4.1.1.{suffix}"
    for suffix in [
        "1",
        "1.1",
        "1.1.1",
        "1.2",
        "1.2.1",
        "1.3",
        "1.3.1",
        "12.1",
        "12.1.1",
        "12.2",
        "12.2.1",
        "12.3",
    ]
)
# UIDs that tie images together in the viewer: replaced, never sent as they are.
PSEUDONYMOUS = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID")


class ImageUnreadable(Exception):
    """The stored image has no pixel data a viewer could draw (or it is malformed)."""


@dataclass(frozen=True)
class StudyImage:
    """One DICOM file of a series (with one or more frames)."""

    member: int | None  # its place among the ZIP's entries; None for a single DICOM file
    frames: int
    rows: int
    columns: int
    spacing: tuple[float, float] | None  # (row, column) in mm
    spacing_source: str  # "pixel" (Pixel Spacing), "imager" (Imager Pixel Spacing) or ""
    sha256: str


@dataclass(frozen=True)
class Series:
    number: int  # 1, 2, … in the order the previews use
    preview_series: int  # the previews' series number (they count files without pixels)
    label: str
    images: tuple[StudyImage, ...]

    @property
    def frames(self) -> int:
        return sum(image.frames for image in self.images)


@dataclass(frozen=True)
class Study:
    series: tuple[Series, ...]

    def series_at(self, number: int) -> Series | None:
        return self.series[number - 1] if 0 < number <= len(self.series) else None


# --- The study's structure ----------------------------------------------------------------


def study_index(*, document: Document) -> Study:
    """The series and images of an imaging document, read once per stored checksum (the
    whole file is verified while it is read) and kept in the cache. Raises
    ``CorruptDocument``."""
    key = f"records:study-index:{INDEX_VERSION}:{document.pk}:{document.sha256}"
    study = cache.get(key)
    if study is None:
        with document_read_verified(document=document) as content:
            if document.file_type == FileType.DICOM_ZIP:
                study = _zip_study(content)
            else:
                study = _file_study(content, document.sha256)
        cache.set(key, study, INDEX_SECONDS)
    return study


def _file_study(content, sha256: str) -> Study:
    dataset, start = _header(content)
    images = (_image(dataset, None, sha256),) if start is not None else ()
    return Study((Series(1, 1, _label(dataset), images),) if images else ())


def _zip_study(content) -> Study:
    """Every DICOM image of the ZIP, grouped in series as the previews group them (series
    number, then UID; images by instance number, then name)."""
    found = []
    with zipfile.ZipFile(content) as archive:
        for member, entry in enumerate(archive.infolist()):
            if entry.is_dir():
                continue
            with archive.open(entry) as stream:
                head = stream.read(132)
                if head[128:132] != b"DICM" or head[:128].startswith(EXECUTABLE_HEADERS):
                    continue
            copy, sha256 = _member_copy(archive, entry)
            with copy:
                dataset, start = _header(copy)
            series_key = (_number(dataset, "SeriesNumber"), _text(dataset, "SeriesInstanceUID"))
            order = (series_key, _number(dataset, "InstanceNumber"), entry.filename)
            image = _image(dataset, member, sha256) if start is not None else None
            found.append((order, image, _label(dataset)))
    found.sort(key=lambda item: item[0])
    return Study(_group(found))


def _group(found) -> tuple[Series, ...]:
    series, keys = [], []
    for (series_key, _, _), image, label in found:
        if series_key not in keys:
            keys.append(series_key)
            series.append((len(keys), label, []))
        if image is not None:
            series[-1][2].append(image)
    kept = [(place, label, images) for place, label, images in series if images]
    return tuple(
        Series(number, place, label, tuple(images))
        for number, (place, label, images) in enumerate(kept, start=1)
    )


def _member_copy(archive: zipfile.ZipFile, entry):
    """One ZIP entry unpacked to a temporary file, with the SHA-256 of its bytes."""
    copy = tempfile.SpooledTemporaryFile(max_size=4 * CHUNK)  # noqa: SIM115 (returned)
    digest = hashlib.sha256()
    with archive.open(entry) as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
            copy.write(chunk)
    copy.seek(0)
    return copy, digest.hexdigest()


def _header(content) -> tuple[Dataset, int | None]:
    """The header (no pixels) and where the pixel data element starts (None without one).
    A deflated file is inflated whole to know (one image; pydicom reads it so)."""
    content.seek(0)
    dataset = pydicom.dcmread(content, stop_before_pixels=True)
    start = content.tell()
    if dataset.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        content.seek(0)
        start = 0 if "PixelData" in pydicom.dcmread(content) else None
    elif content.read(4) != _tag_bytes(dataset):
        start = None
    content.seek(0)
    return dataset, start


def _tag_bytes(dataset: Dataset) -> bytes:
    little = dataset.file_meta.TransferSyntaxUID != EXPLICIT_BIG
    order = _order(little)
    return (0x7FE0).to_bytes(2, order) + (0x0010).to_bytes(2, order)


def _order(little: bool) -> str:
    return "little" if little else "big"


def _image(dataset: Dataset, member: int | None, sha256: str) -> StudyImage:
    spacing, source = spacing_of(dataset)
    return StudyImage(
        member=member,
        frames=max(_number(dataset, "NumberOfFrames"), 1),
        rows=_number(dataset, "Rows"),
        columns=_number(dataset, "Columns"),
        spacing=spacing,
        spacing_source=source,
        sha256=sha256,
    )


def spacing_of(dataset: Dataset) -> tuple[tuple[float, float] | None, str]:
    """The pixel spacing lengths are measured with, and where it comes from: "pixel" (Pixel
    Spacing), "imager" (Imager Pixel Spacing, at the detector), "magnification" (Imager
    Pixel Spacing corrected by the magnification the file states) or "" (not calibrated).
    The same rules as the viewer's library (Cornerstone's ``getPixelSpacingInformation``),
    so the value saved is the value the reviewer saw."""
    pixel = _pair(dataset.get("PixelSpacing"))
    if dataset.get("SOPClassUID") not in PROJECTION_CLASSES:
        return (pixel, "pixel") if pixel else (None, "")
    imager = _pair(dataset.get("ImagerPixelSpacing"))
    if pixel and dataset.get("PixelSpacingCalibrationType") in ("GEOMETRY", "FIDUCIAL"):
        return pixel, "pixel"
    if imager is None:
        return (pixel, "pixel") if pixel else (None, "")
    magnification = _magnification(dataset)
    if magnification:
        return (imager[0] / magnification, imager[1] / magnification), "magnification"
    if pixel:
        return pixel, "pixel"
    return imager, "imager"


def _magnification(dataset: Dataset) -> float | None:
    try:
        stated = float(dataset.get("EstimatedRadiographicMagnificationFactor") or 0)
        detector = float(dataset.get("DistanceSourceToDetector") or 0)
        patient = float(
            dataset.get("DistanceSourceToPatient") or dataset.get("DistanceSourceToEntrance") or 0
        )
    except (TypeError, ValueError):
        return None
    if stated > 1:
        return stated
    if 0 < patient < detector:
        return detector / patient
    return None


def _pair(value) -> tuple[float, float] | None:
    try:
        row, column = (float(part) for part in value)
    except (TypeError, ValueError):
        return None
    return (row, column) if 0 < row < 100 and 0 < column < 100 else None


def _number(dataset: Dataset, name: str) -> int:
    try:
        return int(dataset.get(name) or 0)
    except (TypeError, ValueError):
        return 0


def _text(dataset: Dataset, name: str) -> str:
    return str(dataset.get(name) or "").strip()


def _label(dataset: Dataset) -> str:
    parts = [_text(dataset, name) for name in ("Modality", "SeriesDescription")]
    return " · ".join(part for part in parts if part) or "Images"


# --- One image, as the browser receives it -------------------------------------------------


def image_stream(*, document: Document, image: StudyImage) -> tuple[Iterator[bytes], int]:
    """The image as a DICOM file with only the ``KEEP`` fields, and its length: verified
    first (``CorruptDocument``), then streamed. Raises ``ImageUnreadable``."""
    content = image_read_verified(document=document, image=image)
    try:
        header, start, end = _rewritten(content, str(document.pk))
    except Exception:
        content.close()
        raise
    return _chunks(content, header, start, end), len(header) + end - start


def image_read_verified(*, document: Document, image: StudyImage):
    """The image's stored bytes (one DICOM file) in a temporary file, once they are checked
    against the checksum taken at upload or, in a ZIP, the digest taken with the verified
    study. Raises ``CorruptDocument``."""
    if image.member is None:
        return document_read_verified(document=document)
    with (
        default_storage.open(document.storage_key, "rb") as stored,
        zipfile.ZipFile(stored) as archive,
    ):
        copy, sha256 = _member_copy(archive, archive.infolist()[image.member])
    if sha256 != image.sha256:
        copy.close()
        raise CorruptDocument(f"Document {document.pk}")
    return copy


def _chunks(content, header: bytes, start: int, end: int) -> Iterator[bytes]:
    try:
        yield header
        content.seek(start)
        left = end - start
        while left > 0:
            chunk = content.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        content.close()


def _rewritten(content, document_id: str) -> tuple[bytes, int, int]:
    """The kept header written again, and where the stored pixel data element starts and
    ends (it is copied as it is)."""
    try:
        dataset, start = _header(content)
    except Exception as error:  # pydicom's errors vary with the damage
        raise ImageUnreadable(type(error).__name__) from None
    if start is None:
        raise ImageUnreadable("no pixel data")
    if dataset.file_meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian:
        return _inflated(content, document_id), 0, 0
    end = _element_end(content, start, dataset)
    return _write(_kept(dataset, document_id), dataset.file_meta.TransferSyntaxUID), start, end


def _inflated(content, document_id: str) -> bytes:
    """A deflated file is inflated and sent uncompressed (one image, read whole)."""
    content.seek(0)
    dataset = pydicom.dcmread(content)
    kept = _kept(dataset, document_id)
    kept.PixelData = dataset.PixelData
    kept["PixelData"].VR = dataset["PixelData"].VR
    return _write(kept, ExplicitVRLittleEndian)


def _element_end(content, start: int, dataset: Dataset) -> int:
    """Where the pixel data element that starts at ``start`` ends, from its own length or,
    when undefined, by walking its items to the sequence delimiter (never past the file)."""
    syntax = dataset.file_meta.TransferSyntaxUID
    little = syntax != EXPLICIT_BIG
    size = content.seek(0, io.SEEK_END)
    content.seek(start + 4)
    if syntax == IMPLICIT_LITTLE:
        length = int.from_bytes(content.read(4), _order(little))
    else:
        vr = content.read(2)
        width = 4 if vr in LONG_EXPLICIT else 2
        content.read(2 if width == 4 else 0)
        length = int.from_bytes(content.read(width), _order(little))
    position = content.tell()
    if length != UNDEFINED:
        return _within(position + length, size)
    while position + 8 <= size:
        content.seek(position)
        tag = int.from_bytes(content.read(2), _order(little)) << 16
        tag |= int.from_bytes(content.read(2), _order(little))
        item_length = int.from_bytes(content.read(4), _order(little))
        position += 8
        if tag == SEQUENCE_END:
            return position
        if tag != ITEM or item_length == UNDEFINED:
            break
        position += item_length
    raise ImageUnreadable("pixel data ends early")


def _within(end: int, size: int) -> int:
    if end > size:
        raise ImageUnreadable("pixel data ends early")
    return end


def _kept(dataset: Dataset, document_id: str) -> Dataset:
    """A new dataset with only the kept fields (in sequences too) and UIDs made from the
    document's id, so images of one series still belong together."""
    kept = _filtered(dataset)
    for name in PSEUDONYMOUS:
        if name in dataset:
            setattr(kept, name, _pseudo_uid(document_id, name, str(dataset.get(name))))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = dataset.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")
    meta.MediaStorageSOPInstanceUID = kept.get(
        "SOPInstanceUID", _pseudo_uid(document_id, "SOPInstanceUID", "")
    )
    kept.file_meta = meta
    return kept


def _filtered(dataset: Dataset) -> Dataset:
    kept = Dataset()
    for element in dataset:
        if element.keyword not in KEEP or element.tag == PIXEL_DATA:
            continue
        if element.VR == "SQ":
            kept.add_new(element.tag, "SQ", [_filtered(item) for item in element.value])
        else:
            kept.add(element)
    return kept


def _pseudo_uid(document_id: str, name: str, original: str) -> str:
    """A UID under the UUID root (2.25) derived from the document, the field and the
    original value: stable for one document, telling nothing of the original."""
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, f'{document_id}/{name}/{original}').int}"


def _write(dataset: Dataset, syntax: str) -> bytes:
    dataset.file_meta.TransferSyntaxUID = syntax
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, dataset, enforce_file_format=True)
    return buffer.getvalue()
