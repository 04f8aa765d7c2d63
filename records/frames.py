"""Imaging for the reviewer's viewer: a study's series and images, read from the stored
bytes, and each image sent to the browser as a DICOM file that holds only what a viewer
needs to draw and measure it (``records.frame_headers`` writes the header again from an
allow-list; the pixel data is copied as stored, a chunk at a time: nothing is decoded here,
the browser decodes, and no study is held in memory).

Every byte served is checked: a single DICOM file against the SHA-256 taken at upload, an
image of a ZIP study against the digest of that image taken while the whole ZIP was
verified (``study_index``: read once per stored checksum, in the worker after processing,
and kept signed beside the study in storage and in each process's cache). On S3 a study is
streamed and its images are read by byte ranges, never downloaded whole into memory.
"""

import contextlib
import hashlib
import io
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import astuple, dataclass

from django.core import signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from pydicom.dataset import Dataset

from records.filetypes import EXECUTABLE_HEADERS
from records.frame_headers import header_of, rewritten
from records.models import Document, FileType
from records.services import CHUNK, CorruptDocument

logger = logging.getLogger(__name__)

VIEWABLE = frozenset({FileType.DICOM, FileType.DICOM_ZIP})
INDEX_VERSION = 1
INDEX_SECONDS = 12 * 3600
INDEX_SALT = "records.frames.index"
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


# --- Reading the stored bytes ---------------------------------------------------------------


class _Ranges(io.RawIOBase):
    """An object in S3 read by byte ranges: a ZIP's directory and one image of it are read,
    never the whole study (django-storages' file would download all of it, into memory)."""

    def __init__(self, obj):
        self._obj, self._size, self._position = obj, obj.content_length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        if self._position >= self._size:
            return 0
        last = min(self._position + len(buffer), self._size) - 1
        data = self._obj.get(Range=f"bytes={self._position}-{last}")["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def _seekable(stored):
    obj = getattr(stored, "obj", None)  # django-storages' S3 file: read by ranges
    return io.BufferedReader(_Ranges(obj), buffer_size=CHUNK) if obj is not None else stored


def _chunks_of(stored) -> Iterator[bytes]:
    obj = getattr(stored, "obj", None)
    if obj is not None:  # S3: one streamed request, a chunk at a time
        yield from obj.get()["Body"].iter_chunks(CHUNK)
    else:
        yield from iter(lambda: stored.read(CHUNK), b"")


def _read_verified(document: Document):
    """The document's stored bytes, copied to a temporary file (in memory up to 1 MB) while
    their SHA-256 is checked, streamed from S3 too. Raises ``CorruptDocument``."""
    copy = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115 (returned)
    digest = hashlib.sha256()
    with default_storage.open(document.storage_key, "rb") as stored:
        for chunk in _chunks_of(stored):
            digest.update(chunk)
            copy.write(chunk)
    if digest.hexdigest() != document.sha256:
        copy.close()
        logger.error("Document %s does not match its checksum.", document.pk)
        raise CorruptDocument(f"Document {document.pk}")
    copy.seek(0)
    return copy


# --- The study's structure ----------------------------------------------------------------


def study_index(*, document: Document) -> Study:
    """The series and images of an imaging document, read once per stored checksum (the
    whole file is verified while it is read). The worker reads it after processing
    (``study_index_prepare``) and keeps it, signed, beside the study in storage, where
    every web process finds it; each process also keeps it in its cache. Raises
    ``CorruptDocument``."""
    key = f"records:study-index:{INDEX_VERSION}:{document.pk}:{document.sha256}"
    study = cache.get(key)
    if study is None:
        study = _index_stored(document)
    if study is None:
        with _read_verified(document) as content:
            if document.file_type == FileType.DICOM_ZIP:
                study = _zip_study(content)
            else:
                study = _file_study(content, document.sha256)
        _index_store(document, study)
    cache.set(key, study, INDEX_SECONDS)
    return study


def study_index_prepare(*, document_id) -> None:
    """Read a processed imaging document's structure now (in the worker), so the first
    reviewer to open it does not wait for it. Safe to run twice."""
    document = Document.objects.filter(pk=document_id, file_type__in=VIEWABLE).first()
    if document is not None:
        # A study that no longer matches is logged here and refused (and logged) when opened.
        with contextlib.suppress(CorruptDocument):
            study_index(document=document)


def study_index_name(document: Document) -> str:
    return f"studies/{document.pk.hex}-{document.sha256[:16]}-v{INDEX_VERSION}.index"


def _index_stored(document: Document) -> Study | None:
    """The index kept in storage, if there is one for these exact bytes. It is signed with
    the site's key: an index changed in storage is ignored and read again from the study."""
    name = study_index_name(document)
    try:
        with default_storage.open(name, "rb") as stored:
            kept = signing.loads(stored.read().decode(), salt=INDEX_SALT)
    except (FileNotFoundError, OSError, signing.BadSignature, ValueError):
        return None
    if kept.get("document") != str(document.pk) or kept.get("sha256") != document.sha256:
        return None
    return Study(
        tuple(
            Series(number, preview, label, tuple(_image_kept(*image) for image in images))
            for number, preview, label, images in kept["series"]
        )
    )


def _image_kept(member, frames, rows, columns, spacing, source, sha256) -> StudyImage:
    pair = (float(spacing[0]), float(spacing[1])) if spacing else None
    return StudyImage(member, frames, rows, columns, pair, source, sha256)


def _index_store(document: Document, study: Study) -> None:
    kept = {
        "document": str(document.pk),
        "sha256": document.sha256,
        "series": [
            [s.number, s.preview_series, s.label, [list(astuple(image)) for image in s.images]]
            for s in study.series
        ],
    }
    name = study_index_name(document)
    default_storage.delete(name)  # one that was changed or cut short: replaced
    signed = signing.dumps(kept, salt=INDEX_SALT, compress=True)
    default_storage.save(name, ContentFile(signed.encode()))


def _file_study(content, sha256: str) -> Study:
    dataset, start = header_of(content)
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
                dataset, start = header_of(copy)
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
        header, start, end = rewritten(content, str(document.pk))
    except Exception:
        content.close()
        raise
    return _chunks(content, header, start, end), len(header) + end - start


def image_read_verified(*, document: Document, image: StudyImage):
    """The image's stored bytes (one DICOM file) in a temporary file, once they are checked
    against the checksum taken at upload or, in a ZIP, the digest taken with the verified
    study. Raises ``CorruptDocument``."""
    if image.member is None:
        return _read_verified(document)
    with (
        default_storage.open(document.storage_key, "rb") as stored,
        zipfile.ZipFile(_seekable(stored)) as archive,
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
