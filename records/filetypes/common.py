"""What every check shares: the refusal, the clean copy being written, bounded reading."""

import tempfile
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy

from records.models import FileType

ACCEPTED = gettext_lazy("PDF, JPEG or PNG files, DICOM images (.dcm), or a ZIP of a DICOM study")
# Past this, a clean copy being written moves from memory to a temporary file on disk.
IN_MEMORY = 8 * 1024 * 1024
CHUNK = 1024 * 1024


class Rejected(Exception):
    """The file is refused; the message says why and what is accepted, in plain words."""


class Truncated(Exception):
    """A structure claims more bytes than the file holds (inside the checks only)."""


class Malformed(Exception):
    """A structure breaks its format's rules (inside the checks only)."""


@dataclass
class Held:
    """A file found inside an upload and left out of it, that the family may want to send
    on its own (a PDF report on an imaging CD): its clean bytes and its safe name."""

    name: str
    content: object
    size: int


@dataclass
class Checked:
    """What an upload is, and the bytes to store: a clean copy written by the check, holding
    only the real document. ``notes`` tell the family what was left out or removed."""

    file_type: FileType
    content: object
    size: int
    notes: list[str] = field(default_factory=list)
    dicom_files: int = 0
    held: list[Held] = field(default_factory=list)

    def close(self) -> None:
        for item in (self, *self.held):
            item.content.close()


def scratch():
    """A file for a clean copy: in memory while small, on disk past ``IN_MEMORY``."""
    return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)


def size_of(file) -> int:
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size


def copy_range(source, target, start: int, end: int) -> None:
    """Copy bytes ``start``..``end`` of ``source`` to ``target``, a chunk at a time."""
    source.seek(start)
    left = end - start
    while left > 0:
        chunk = source.read(min(CHUNK, left))
        if not chunk:
            raise Truncated
        target.write(chunk)
        left -= len(chunk)


class Reader:
    """Reads a structure inside ``file`` between ``start`` and ``end``: asking for bytes past
    ``end`` raises ``Truncated`` instead of reading anything, so a length field cannot make
    the check read, allocate or seek further than the file really goes."""

    def __init__(self, file, start: int, end: int):
        self.file, self.pos, self.end = file, start, end
        self.count = 0  # structures read, for a caller that bounds them

    @property
    def left(self) -> int:
        return self.end - self.pos

    def read(self, count: int) -> bytes:
        if count > self.left:
            raise Truncated
        self.file.seek(self.pos)
        data = self.file.read(count)
        if len(data) != count:
            raise Truncated
        self.pos += count
        return data

    def skip(self, count: int) -> None:
        if count > self.left:
            raise Truncated
        self.pos += count
