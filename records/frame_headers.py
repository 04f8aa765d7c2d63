"""A DICOM image written again for the browser: the header from an allow-list of fields
(``KEEP``), UIDs replaced by ones derived from the document, and where the stored pixel data
element lies, so it can be copied as it is (``records.frames`` streams it)."""

import io
import uuid

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

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
# UIDs that tie images together in the viewer: replaced, never sent as they are.
PSEUDONYMOUS = ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID")


class ImageUnreadable(Exception):
    """The stored image has no pixel data a viewer could draw (or it is malformed)."""


def header_of(content) -> tuple[Dataset, int | None]:
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


def rewritten(content, document_id: str) -> tuple[bytes, int, int]:
    """The kept header written again, and where the stored pixel data element starts and
    ends (it is copied as it is)."""
    try:
        dataset, start = header_of(content)
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
