"""A synthetic spine study for the demo and the tests: a CD's ZIP with a coronal CT series of
a curved spine and a standing X-ray of it, drawn with numpy and Pillow and written with
pydicom. No patient data: the patient fields say "Demo". The images carry real geometry
(Pixel Spacing on the CT, Imager Pixel Spacing on the X-ray), so lengths come out in mm.
"""

import io
import math
import zipfile

import numpy as np
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

CT_SLICES = 24
CT_SPACING = 0.8  # mm per pixel, rows and columns
CT_SIZE = (288, 448)  # columns, rows
XRAY_SPACING = 0.4
XRAY_SIZE = (400, 720)
DIGITAL_XRAY = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage (for presentation)
VERTEBRAE = 15
CURVE_MM = 22.0  # how far the curve swings from the midline


def _uid(*parts) -> str:
    return generate_uid(entropy_srcs=["portal-demo-spine", *map(str, parts)])


def spine_centre(y: float, height: float, width: float) -> tuple[float, float]:
    """Where the spine's midline is at row ``y`` (an S-shaped curve), and how far a
    vertebra there is turned (radians): square to the curve."""
    swing = CURVE_MM / CT_SPACING * width / CT_SIZE[0]
    phase = 2 * math.pi * (y - 0.12 * height) / (0.8 * height)
    x = width / 2 + swing * math.sin(phase)
    slope = swing * math.cos(phase) * 2 * math.pi / (0.8 * height)
    return x, -math.atan(slope)


def _vertebrae(draw: ImageDraw.ImageDraw, size, value, scale: float) -> None:
    """Blocks along the curve, turned with it; the gaps between them are the discs."""
    width, height = size
    top, step = 0.1 * height, 0.8 * height / VERTEBRAE
    for index in range(VERTEBRAE):
        y = top + (index + 0.5) * step
        x, tilt = spine_centre(y, height, width)
        half_w = (13 + index * 0.6) * scale
        half_h = step * 0.36
        corners = [(-half_w, -half_h), (half_w, -half_h), (half_w, half_h), (-half_w, half_h)]
        cos, sin = math.cos(tilt), math.sin(tilt)
        polygon = [(x + cx * cos - cy * sin, y + cx * sin + cy * cos) for cx, cy in corners]
        draw.polygon(polygon, fill=value)


def _ct_slice(position: int) -> np.ndarray:
    """One coronal slice in Hounsfield units: the body, the lungs, and the spine brighter
    in the slices through its middle."""
    width, height = CT_SIZE
    image = Image.new("I", CT_SIZE, -1000)
    draw = ImageDraw.Draw(image)
    draw.ellipse([20, 10, width - 20, height - 10], fill=35)
    depth = abs(position - CT_SLICES / 2) / (CT_SLICES / 2)
    for side in (0.22, 0.58):
        lung = [side * width, 0.12 * height, (side + 0.2) * width, 0.5 * height]
        draw.ellipse(lung, fill=-820 + int(300 * depth))
    bone = int(650 * max(0.0, 1 - 1.6 * depth)) + 40
    _vertebrae(draw, CT_SIZE, bone, 1.0)
    noise = np.random.default_rng(position).normal(0, 6, (height, width))
    return np.asarray(image, dtype=np.float64) + noise


def _base(modality: str, series: int, instance: int, sop_class: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = _uid("image", series, instance)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = sop_class
    dataset.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    dataset.StudyInstanceUID = _uid("study")
    dataset.SeriesInstanceUID = _uid("series", series)
    dataset.FrameOfReferenceUID = _uid("frame", series)
    dataset.PatientName = "Demo^Spine"
    dataset.PatientID = "DEMO-SPINE"
    dataset.StudyDate = "20260105"
    dataset.Modality = modality
    dataset.Manufacturer = "Portal demo"
    dataset.BodyPartExamined = "SPINE"
    dataset.SeriesNumber = series
    dataset.InstanceNumber = instance
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated = 16
    dataset.BitsStored = 12
    dataset.HighBit = 11
    dataset.PixelRepresentation = 0
    return dataset


def _ct(position: int) -> Dataset:
    dataset = _base("CT", 1, position, CTImageStorage)
    dataset.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    dataset.SeriesDescription = "Coronal spine"
    dataset.Rows, dataset.Columns = CT_SIZE[1], CT_SIZE[0]
    dataset.PixelSpacing = [CT_SPACING, CT_SPACING]
    dataset.SliceThickness = 2.0
    dataset.ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    dataset.ImagePositionPatient = [-115.0, -20.0 + 2.0 * position, 180.0]
    dataset.RescaleIntercept, dataset.RescaleSlope, dataset.RescaleType = -1024, 1, "HU"
    dataset.WindowCenter, dataset.WindowWidth = 40, 400
    stored = np.clip(_ct_slice(position) + 1024, 0, 4095).astype(np.uint16)
    dataset.PixelData = stored.tobytes()
    return dataset


def _xray() -> Dataset:
    """A standing PA film: Imager Pixel Spacing only (measured at the detector)."""
    dataset = _base("DX", 2, 1, DIGITAL_XRAY)
    dataset.ImageType = ["ORIGINAL", "PRIMARY"]
    dataset.SeriesDescription = "Standing PA spine"
    dataset.Rows, dataset.Columns = XRAY_SIZE[1], XRAY_SIZE[0]
    dataset.ImagerPixelSpacing = [XRAY_SPACING, XRAY_SPACING]
    dataset.WindowCenter, dataset.WindowWidth = 1800, 3000
    image = Image.new("I", XRAY_SIZE, 300)
    draw = ImageDraw.Draw(image)
    draw.ellipse([30, 20, XRAY_SIZE[0] - 30, XRAY_SIZE[1] - 20], fill=1400)
    _vertebrae(draw, XRAY_SIZE, 3300, XRAY_SIZE[0] / CT_SIZE[0])
    noise = np.random.default_rng(99).normal(0, 20, (XRAY_SIZE[1], XRAY_SIZE[0]))
    stored = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 4095).astype(np.uint16)
    dataset.PixelData = stored.tobytes()
    return dataset


def _bytes(dataset: Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def ct_slice(position: int) -> bytes:
    """One CT image of the study (1 … CT_SLICES) as a DICOM file."""
    return _bytes(_ct(position))


def spine_study_zip() -> bytes:
    """The study as a CD copied into a ZIP: the CT series, then the X-ray."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for position in range(1, CT_SLICES + 1):
            archive.writestr(f"DICOM/SE000001/IM{position:04d}", ct_slice(position))
        archive.writestr("DICOM/SE000002/IM0001", _bytes(_xray()))
    return buffer.getvalue()
