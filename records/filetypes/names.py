"""The name shown for an upload. It is the browser's, not the parent's choice (a phone can
send a 4,000-character name, a dot-file or a path), so it is never a reason to refuse a
file: the file is stored under a random key, and the name is only made safe to show."""

import unicodedata
from pathlib import PurePosixPath

from records.models import FileType

# Control characters, and the invisible marks that reverse text ("cod.exe" shown as "exe.doc").
HIDDEN_CHARACTERS = frozenset(
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x7F)
)
EXTENSIONS = {
    FileType.PDF: (".pdf",),
    FileType.JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    FileType.PNG: (".png",),
    FileType.DICOM: (".dcm", ".dicom", ".dic"),
    FileType.DICOM_ZIP: (".zip",),
}
LONGEST = 120


def display_name(name: str, *, file_type: FileType, number: int) -> str:
    """A short, safe name: the last part of any path, without hidden characters, leading
    dots or spaces, at most ``LONGEST`` characters, ending in the extension of what the file
    really is. "Document ``number``.pdf" where nothing of the name is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = "".join(char for char in name if ord(char) >= 32 and char not in HIDDEN_CHARACTERS)
    name = name.replace("\\", "/").rstrip("/ ").rsplit("/", 1)[-1]
    name = " ".join(name.split()).lstrip(".~ ")
    path = PurePosixPath(name) if name else None
    suffix = path.suffix.lower() if path else ""
    known = EXTENSIONS[file_type]
    extension = path.suffix if path and suffix in known and suffix else known[0]
    stem = name[: -len(path.suffix)] if path and suffix in known and suffix else name
    stem = stem.rstrip(". ")
    if not stem:
        return f"Document {number}{known[0]}"
    return stem[: LONGEST - len(extension)].rstrip(". ") + extension
