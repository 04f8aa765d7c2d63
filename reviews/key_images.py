"""Key images as the letter prints them: the image decoded from the stored study in a limited
child process (``records.sandbox``), in the window the reviewer marked it in, with their
measurements drawn on from the saved points. Pillow draws it on the server, so the letter
does not depend on any browser, and the same points always give the same picture.
"""

import io
import logging
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont
from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array
from pydicom.uid import DeflatedExplicitVRLittleEndian

from records.frame_headers import ImageUnreadable
from records.frames import image_read_verified, study_index
from records.models import Document
from records.sandbox import ChildFailed, render_limits, run_limited
from records.services import CorruptDocument

logger = logging.getLogger(__name__)

SIDE = 1000  # the longest side of a printed key image, in pixels
LINE = (255, 214, 0)
SHADOW = (0, 0, 0)


@dataclass(frozen=True)
class Mark:
    """A measurement as drawn: its tool, points (image pixels) and the text beside it."""

    tool: str
    points: tuple[tuple[float, float], ...]
    text: str


@dataclass(frozen=True)
class KeyImageNote:
    """A key image as the letter lists and prints it."""

    document_id: str
    series: int
    image: int
    frame: int
    window: tuple[float, float] | None  # (centre, width) as the reviewer read it
    caption: str
    marks: tuple[Mark, ...]


def key_image_figures(*, notes) -> tuple[bytes | None, ...]:
    """The PNG of each key image, or None where it cannot be drawn (the letter says so)."""
    return tuple(_figure(note) for note in notes)


def _figure(note: KeyImageNote) -> bytes | None:
    document = Document.objects.get(pk=note.document_id)
    try:
        series = study_index(document=document).series_at(note.series)
        image = series.images[note.image - 1]
        with (
            image_read_verified(document=document, image=image) as content,
            tempfile.TemporaryDirectory(prefix="key-image-") as folder,
        ):
            run_limited(_draw_into, folder, content, note, _font_path(), **render_limits())
            with open(os.path.join(folder, "key-image.png"), "rb") as drawn:
                return drawn.read()
    except (CorruptDocument, ImageUnreadable, ChildFailed, AttributeError, IndexError) as error:
        logger.error("Key image of document %s not drawn (%s).", document.pk, type(error).__name__)
        return None


def _font_path() -> str:
    return str(Path(settings.BASE_DIR) / "static" / "fonts" / "DejaVuSans-Bold.ttf")


def _draw_into(folder: str, content, note: KeyImageNote, font_path: str) -> str:
    """In the limited child: the key image drawn into ``folder``."""
    with open(os.path.join(folder, "key-image.png"), "wb") as out:
        out.write(draw_key_image(content, note, font_path))
    return "key-image.png"


def draw_key_image(content, note: KeyImageNote, font_path: str) -> bytes:
    """The frame in the note's window (or the file's own), scaled to ``SIDE``, with the
    note's marks drawn on; PNG bytes."""
    content.seek(0)
    dataset = pydicom.dcmread(content, stop_before_pixels=True)
    content.seek(0)
    frames = int(dataset.get("NumberOfFrames") or 1)
    index = note.frame - 1 if frames > 1 else None
    if dataset.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        pixels = pydicom.dcmread(content).pixel_array  # read whole: one small image
        pixels = pixels[index] if index is not None else pixels
    else:
        pixels = pixel_array(content, index=index)
    picture = _grey(pixels, dataset, note.window)
    scale = SIDE / max(picture.size)
    picture = picture.resize(
        (round(picture.width * scale), round(picture.height * scale)), Image.Resampling.LANCZOS
    )
    draw = ImageDraw.Draw(picture)
    font = ImageFont.truetype(font_path, 24)
    for mark in note.marks:
        _draw_mark(draw, mark, scale, font)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _grey(pixels: np.ndarray, dataset, window) -> Image.Image:
    if pixels.ndim == 3:  # colour
        return Image.fromarray(pixels.astype(np.uint8), "RGB")
    values = apply_modality_lut(pixels, dataset).astype(np.float64)
    if window:
        centre, width = window
        low, high = centre - width / 2, centre + width / 2
    else:
        values = apply_voi_lut(values, dataset, index=0).astype(np.float64)
        low, high = float(values.min()), float(values.max())
    scaled = np.clip((values - low) / max(high - low, 1e-6), 0, 1) * 255
    if dataset.get("PhotometricInterpretation") == "MONOCHROME1":
        scaled = 255 - scaled
    return Image.fromarray(scaled.astype(np.uint8), "L").convert("RGB")


def _line(draw, start, end) -> None:
    draw.line([start, end], fill=SHADOW, width=6)
    draw.line([start, end], fill=LINE, width=3)


def _label(draw, at, text: str, font) -> None:
    draw.text(at, text, fill=LINE, font=font, stroke_width=3, stroke_fill=SHADOW, anchor="lm")


def _draw_mark(draw, mark: Mark, scale: float, font) -> None:
    points = [(x * scale, y * scale) for x, y in mark.points]
    if mark.tool == "cobb":
        _line(draw, points[0], points[1])
        _line(draw, points[2], points[3])
        at = _middle(_middle(points[0], points[1]), _middle(points[2], points[3]))
    elif mark.tool == "angle":
        _line(draw, points[1], points[0])
        _line(draw, points[1], points[2])
        at = points[1]
    elif mark.tool == "arrow":
        _line(draw, points[1], points[0])
        _arrow_head(draw, points[1], points[0])
        at = points[1]
    else:
        _line(draw, points[0], points[1])
        at = _middle(points[0], points[1])
    _label(draw, (at[0] + 14, at[1]), mark.text, font)


def _middle(a, b):
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def _arrow_head(draw, tail, tip) -> None:
    angle = math.atan2(tip[1] - tail[1], tip[0] - tail[0])
    for turn in (math.radians(150), math.radians(-150)):
        end = (tip[0] + 18 * math.cos(angle + turn), tip[1] + 18 * math.sin(angle + turn))
        _line(draw, tip, end)
