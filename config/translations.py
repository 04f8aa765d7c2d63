"""Compiles the portal's translation catalogues (``locale/<language>/LC_MESSAGES/django.po``,
kept in the repository) into the ``.mo`` files Django reads (not kept: built from the ``.po``).

polib does it in pure Python, so ``make install`` needs no GNU gettext on the machine (Django's
``compilemessages`` would). Like ``msgfmt``, fuzzy and untranslated entries are left out: a
page then shows the English text, and ``tests/test_translations.py`` fails first.

    python -m config.translations           # every catalogue
    python -m config.translations --stale   # only those whose .po changed since
"""

import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogues_compile(*, locale_dir: Path = LOCALE_DIR, only_stale: bool = False) -> list[Path]:
    """Write the ``.mo`` beside each ``.po`` under ``locale_dir``; returns those written."""
    import polib

    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if (
            only_stale
            and mo_path.exists()
            and mo_path.stat().st_mtime_ns >= po_path.stat().st_mtime_ns
        ):
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in catalogues_compile(only_stale="--stale" in sys.argv[1:]):
        print(f"Compiled {path.relative_to(LOCALE_DIR.parent)}")
