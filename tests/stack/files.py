"""Files a family sends in the stack tests, built here (no patient data)."""

import io
import zipfile

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from tests import samples


def ct_slice(number: int, *, study: str, series: str, size: int = 1024) -> bytes:
    """One CT image of ``size`` by ``size`` 16-bit pixels (2 MB at 1024)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, number
    ds.StudyDescription, ds.SeriesDescription = "SPINE", "AXIAL"
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.WindowCenter, ds.WindowWidth = 400, 1800
    pixels = np.random.default_rng(number).integers(0, 4096, (size, size), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def study_zip(megabytes: int = 50) -> bytes:
    """A ZIP of a CT study of about ``megabytes`` (images of 2 MB, stored, not deflated)."""
    study, series = generate_uid(), generate_uid()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number in range(1, megabytes // 2 + 1):
            archive.writestr(f"DICOM/IM{number:04d}", ct_slice(number, study=study, series=series))
    return buffer.getvalue()


def referral_pdf() -> bytes:
    return samples.pdf()
