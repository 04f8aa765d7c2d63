"""The signed opinion letter as a PDF.

fpdf2 writes the file in pure Python: no system libraries, fonts or browsers. The text is set in
DejaVu Sans, bundled under ``static/fonts/`` with its licence, so names and typographic
punctuation outside Latin-1 (“ ” – ’ Ł ř) print as written. Identical content gives identical
bytes: the creation date is read from the signing time instead of the clock, and the file
identifier is a hash of the content.
"""

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from fpdf import FPDF, XPos, YPos
from fpdf.fonts import FontFace

_FONT = "DejaVuSans"
_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
# An alias no letter writes; fpdf2 replaces it with the page count once the document is done.
_PAGE_COUNT_ALIAS = "{letter-page-count}"
_MARGIN = 20
_LINE = 5.2
_GREY = (90, 90, 90)
_ACCENT = (20, 60, 110)
# Zones the portal prints after a time; anything else falls back to the signing day.
_ZONE_OFFSETS = {
    "UTC": 0,
    "GMT": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
}
_SIGNED_AT = re.compile(
    r"(?P<date>[A-Z][a-z]+ \d{1,2}, \d{4})"
    r"(?:,? (?P<time>\d{1,2}:\d{2} [AP]M)(?: (?P<zone>[A-Z]{2,5}|[+-]\d{4}))?)?"
)
_UNKNOWN_DATE = datetime(1970, 1, 1, tzinfo=UTC)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class PanelMember:
    name: str
    credentials: str
    agrees_with_diagnosis: str  # display text: "Yes" / "Partly" / "No"
    agrees_with_plan: str


@dataclass(frozen=True)
class LetterContent:
    reference: str
    service_name: str
    child_name: str
    child_date_of_birth: str  # already formatted, e.g. "March 4, 2015"
    guardian_name: str
    conclusion: str  # display text of the overall conclusion
    recommendations: str
    answers: str  # answers to the family's questions
    dissent: str  # may be empty
    family_summary: str
    panel: tuple[PanelMember, ...]  # one for a single reviewer, several for a panel
    signed_name: str
    signed_credentials: str
    signed_at: str  # already formatted, e.g. "November 21, 2026, 3:05 PM EST"
    # The panel's key images (``reviews.key_images.KeyImageNote``: a caption and the
    # measurements drawn on each), listed in the letter and printed after it.
    key_images: tuple = ()


class _LetterPDF(FPDF):
    def __init__(self, *, reference: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.reference = reference

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, size=8)
        self.set_text_color(*_GREY)
        # The page count is written in after the last page, so its line is left-aligned: a
        # right-aligned one would be placed for the width of the alias, not of the number.
        self.cell(0, 4, f"Page {self.page_no()} of {_PAGE_COUNT_ALIAS}", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Second opinion {self.reference}", align="R")


def letter_render(*, content: LetterContent, figures: tuple[bytes | None, ...] = ()) -> bytes:
    """The letter as PDF bytes: letterhead, sections, the panel for more than one reviewer,
    the key images listed, the signature, then a page for each key image (``figures``: its
    PNG, or None where it could not be drawn); long text flows over pages, each with the
    reference and "Page x of y"."""
    pdf = _document(content=content)
    _letterhead(pdf)
    _details(pdf, content=content)
    _section(pdf, "Summary for the family", content.family_summary)
    _section(pdf, "Conclusion", content.conclusion)
    _section(pdf, "Recommendations", content.recommendations)
    _section(pdf, "Answers to your questions", content.answers)
    if len(content.panel) > 1:
        _panel(pdf, panel=content.panel)
    _section(pdf, "Dissent", content.dissent)
    _key_image_list(pdf, content.key_images)
    _signature(pdf, content=content)
    for number, note in enumerate(content.key_images, start=1):
        figure = figures[number - 1] if number <= len(figures) else None
        _key_image_page(pdf, number, note, figure)
    return bytes(pdf.output())


def _key_image_list(pdf: _LetterPDF, notes) -> None:
    if not notes:
        return
    _heading(pdf, "Key images")
    pdf.set_font(_FONT, size=10)
    _paragraph(pdf, "The images this opinion rests on are printed at the end of this letter:")
    for number, note in enumerate(notes, start=1):
        measured = "; ".join(mark.text for mark in note.marks)
        _paragraph(pdf, f"{number}. {note.caption}" + (f": {measured}" if measured else ""))


def _key_image_page(pdf: _LetterPDF, number: int, note, figure: bytes | None) -> None:
    """One key image on its own page, as large as the page allows, with its caption."""
    pdf.add_page()
    _heading(pdf, f"Key image {number}", keep_with=0)
    pdf.set_font(_FONT, size=10)
    _paragraph(pdf, note.caption)
    for mark in note.marks:
        _paragraph(pdf, mark.text)
    pdf.ln(2)
    if figure is None:
        _paragraph(pdf, "This image could not be printed; the panel read it in the study sent.")
        return
    width = pdf.w - pdf.l_margin - pdf.r_margin
    height = pdf.h - pdf.get_y() - 24
    pdf.image(io.BytesIO(figure), x=pdf.l_margin, w=width, h=height, keep_aspect_ratio=True)


def _document(*, content: LetterContent) -> _LetterPDF:
    pdf = _LetterPDF(reference=_clean(content.reference))
    fonts = Path(settings.BASE_DIR) / "static" / "fonts"
    for style, filename in _FONT_FILES.items():
        pdf.add_font(_FONT, style, str(fonts / filename))
    pdf.alias_nb_pages(_PAGE_COUNT_ALIAS)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=22)
    # Metadata names the letter, never the child: file lists and viewers show it.
    pdf.set_title(f"Second opinion {_clean(content.reference)}")
    pdf.set_author(settings.HOSPITAL_NAME)
    pdf.set_lang("en-US")
    pdf.set_creation_date(_creation_date(content.signed_at))
    pdf.add_page()
    return pdf


def _letterhead(pdf: _LetterPDF) -> None:
    pdf.set_text_color(*_ACCENT)
    pdf.set_font(_FONT, "B", 16)
    _line(pdf, settings.HOSPITAL_NAME, height=8)
    pdf.set_text_color(*_GREY)
    pdf.set_font(_FONT, size=9)
    _line(pdf, settings.HOSPITAL_ADDRESS, height=4.5)
    _line(pdf, f"{settings.HOSPITAL_PHONE}  ·  {settings.HOSPITAL_WEBSITE}", height=4.5)
    pdf.ln(3)
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(0.4)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(6)


def _details(pdf: _LetterPDF, *, content: LetterContent) -> None:
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(_FONT, "B", 15)
    _paragraph(pdf, f"Second opinion: {content.service_name}", height=7)
    pdf.ln(2)
    match = _SIGNED_AT.match(content.signed_at.strip())
    rows = (
        ("Reference", content.reference),
        ("Patient", content.child_name),
        ("Date of birth", content.child_date_of_birth),
        ("Parent or guardian", content.guardian_name),
        ("Date", match["date"] if match else content.signed_at),
    )
    for label, value in rows:
        pdf.set_font(_FONT, "B", 10)
        pdf.cell(40, _LINE, label)
        pdf.set_font(_FONT, size=10)
        _paragraph(pdf, value)


def _section(pdf: _LetterPDF, title: str, text: str) -> None:
    """A heading and its text; an empty text leaves the section out. The heading moves to the
    next page with its first lines rather than stand alone at the bottom of one."""
    text = _clean(text)
    if not text:
        return
    _heading(pdf, title)
    pdf.set_font(_FONT, size=10)
    _paragraph(pdf, text)


def _heading(pdf: _LetterPDF, title: str, *, keep_with: float = 3 * _LINE) -> None:
    pdf.ln(4)
    if pdf.will_page_break(7 + keep_with):
        pdf.add_page()
    pdf.set_text_color(*_ACCENT)
    pdf.set_font(_FONT, "B", 12)
    _line(pdf, title, height=7)
    pdf.set_text_color(0, 0, 0)


def _panel(pdf: _LetterPDF, *, panel: tuple[PanelMember, ...]) -> None:
    # A panel is a few rows: keep the table on one page with its heading.
    _heading(pdf, "Panel", keep_with=14 + 9 * len(panel))
    pdf.set_font(_FONT, size=9)
    pdf.set_draw_color(150, 160, 175)
    pdf.set_line_width(0.2)
    headings = ("Reviewer", "Credentials", "Agrees with the diagnosis", "Agrees with the plan")
    with pdf.table(
        col_widths=(34, 34, 16, 16),
        line_height=_LINE,
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 238, 245)),
        padding=1.5,
        text_align="LEFT",
    ) as table:
        table.row(headings)
        for member in panel:
            table.row(
                _clean(value)
                for value in (
                    member.name,
                    member.credentials,
                    member.agrees_with_diagnosis,
                    member.agrees_with_plan,
                )
            )


def _signature(pdf: _LetterPDF, *, content: LetterContent) -> None:
    pdf.ln(8)
    if pdf.will_page_break(4 * _LINE):
        pdf.add_page()
    pdf.set_draw_color(*_GREY)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 80, pdf.get_y())
    pdf.ln(2)
    signer = ", ".join(
        part for part in (_clean(content.signed_name), _clean(content.signed_credentials)) if part
    )
    pdf.set_font(_FONT, size=10)
    _paragraph(pdf, f"Signed electronically by {signer}, on {_clean(content.signed_at)}")


def _paragraph(pdf: _LetterPDF, text: str, *, height: float = _LINE) -> None:
    pdf.multi_cell(0, height, _clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _line(pdf: _LetterPDF, text: str, *, height: float) -> None:
    pdf.cell(0, height, _clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _clean(text: str) -> str:
    """Text as the page can hold it: composed characters (one glyph for a letter typed with a
    separate accent), line breaks as \\n, tabs as spaces, no other control characters, no
    trailing blanks."""
    text = unicodedata.normalize("NFC", text or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROL.sub("", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _creation_date(signed_at: str) -> datetime:
    """The signing time as the file's creation date, so the same letter gives the same bytes.

    ``signed_at`` is display text ("November 21, 2026, 3:05 PM EST"): with a known zone the time
    is exact; otherwise the signing day at noon UTC, which is the same calendar day from Hawaii
    to Eastern Europe; without a readable date, the Unix epoch (the usual "unknown")."""
    match = _SIGNED_AT.match(signed_at.strip())
    if match is None:
        return _UNKNOWN_DATE
    try:
        day = datetime.strptime(match["date"], "%B %d, %Y")  # noqa: DTZ007 - zone set below
    except ValueError:  # not a month's name
        return _UNKNOWN_DATE
    offset = _zone_offset(match["zone"])
    if match["time"] is None or offset is None:
        return day.replace(hour=12, tzinfo=UTC)
    clock = datetime.strptime(match["time"], "%I:%M %p")  # noqa: DTZ007 - zone set below
    return day.replace(hour=clock.hour, minute=clock.minute, tzinfo=timezone(offset))


def _zone_offset(zone: str | None) -> timedelta | None:
    if zone is None:
        return None
    if zone in _ZONE_OFFSETS:
        return timedelta(hours=_ZONE_OFFSETS[zone])
    if zone[0] in "+-" and zone[1:].isdigit():
        sign = -1 if zone[0] == "-" else 1
        return sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    return None
