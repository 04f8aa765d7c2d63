"""Every family-facing word has its Spanish: the templates (pages and e-mails), the forms'
labels, help texts, choices and error messages, and the catalogue file itself.

Staff pages (the admin, the reviewer workspace) and staff e-mails stay English and are listed
in STAFF_TEMPLATES; every other template is a family's and is checked, so a new page is
checked from the day it is added."""

import ast
import re
from pathlib import Path

import polib
import pytest
from django import forms
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils import translation
from django.utils.translation import trans_real
from django.utils.translation.template import templatize

from intake.models import US_STATES

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"

STAFF_TEMPLATES = {
    "accounts/otp_setup.html",
    "accounts/otp_verify.html",
    "reviews/_countdown.html",
    "reviews/_panel.html",
    "reviews/case.html",
    "reviews/decline.html",
    "reviews/final.html",
    "reviews/my_reviews.html",
    "reviews/opinion.html",
    "reviews/viewer.html",
    *(
        f"email/{name}.{part}"
        for name in (
            "assignment_declined",
            "call_booked_coordinator",
            "call_cancelled_coordinator",
            "deadline_breach",
            "deadline_escalation",
            "deadline_reviewer_reminder",
            "deadline_target",
            "follow_up_asked",
            "panel_complete",
            "review_assigned",
            "staff_invite",
            # The referring pediatrician's practice reads English (docs/decisions.md).
            "invitation_pediatrician",
            "opinion_to_pediatrician",
        )
        for part in ("txt", "subject.txt")
    ),
}
# Forms of the admin and of the reviewer workspace.
STAFF_FORMS = {
    "TokenForm",
    "CoordinatorStartForm",
    "OpinionForm",
    "DeclineForm",
    "FinalOpinionForm",
    "PanelForm",
    "DeliveryForm",
    "FollowUpAnswerForm",
    "OutcomeForm",
    "AppointmentMoveForm",
    "AppointmentCancelForm",
}


# Words that are the same in both languages, or must not be translated: the switch names
# each language in itself.
SAME_IN_BOTH = {
    "No",
    "English",
    "Español",
    "USD",
    "PDF",
    "DICOM",
    "ZIP",
    "JPEG",
    "PNG",
    "CT",
    "MRI",
}
SEEN_BY_PEOPLE = ("aria-label", "alt", "title", "placeholder")


def family_templates() -> list[str]:
    names = []
    for path in sorted(TEMPLATES.rglob("*")):
        name = path.relative_to(TEMPLATES).as_posix()
        if path.is_file() and not name.startswith("admin/") and name not in STAFF_TEMPLATES:
            names.append(name)
    return names


def words(text: str) -> list[str]:
    """The words a person would read in a piece of template text outside any tag."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    seen = [
        value
        for attribute, value in re.findall(rf"\b({'|'.join(SEEN_BY_PEOPLE)})=\"([^\"]*)", text)
    ]
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[#\w]+;", " ", text)
    found = re.findall(r"[A-Za-zÀ-ÿ]{2,}(?:['’][A-Za-z]+)?", " ".join([text, *seen]))
    return [word for word in found if word not in SAME_IN_BOTH]


def untranslated_text(source: str) -> list[str]:
    """Words written straight into the template instead of inside a translate tag. Tags and
    translated text become a placeholder, so an HTML tag cut by a template tag stays whole."""
    skeleton, depth_block, depth_comment = [], 0, 0
    for token in Lexer(source).tokenize():
        contents = token.contents.strip()
        if token.token_type == TokenType.BLOCK:
            tag = contents.split()[0] if contents else ""
            depth_block += tag in {"blocktranslate", "blocktrans"}
            depth_block -= tag in {"endblocktranslate", "endblocktrans"}
            depth_comment += tag == "comment"
            depth_comment -= tag == "endcomment"
        if token.token_type == TokenType.TEXT and not (depth_block or depth_comment):
            skeleton.append(token.contents)
        else:
            skeleton.append("\x00")
    return words("".join(skeleton))


CALL = re.compile(r"\b(gettext|ngettext|pgettext|npgettext)\((u'(?:[^'\\]|\\.)*')")
SECOND = re.compile(r"\s*,\s*(u'(?:[^'\\]|\\.)*')")


def msgids(source: str) -> list[str]:
    """The catalogue keys a template asks for, found as ``makemessages`` finds them."""
    keys = []
    code = templatize(source)
    for match in CALL.finditer(code):
        function, first = match.group(1), ast.literal_eval(match.group(2))
        second = SECOND.match(code, match.end())
        second = ast.literal_eval(second.group(1)) if second else None
        if function == "gettext":
            keys.append(first)
        elif function == "ngettext":
            keys.append((first, 0))
        elif function == "pgettext":
            keys.append(f"{first}\x04{second}")
        else:
            keys.append((f"{first}\x04{second}", 0))
    return keys


@pytest.fixture(scope="module")
def spanish():
    return trans_real.translation("es")._catalog


@pytest.mark.parametrize("name", family_templates())
def test_every_word_of_a_family_template_is_marked_and_has_its_spanish(name, spanish):
    source = (TEMPLATES / name).read_text()

    assert untranslated_text(source) == [], f"{name}: text outside {{% translate %}}"
    missing = [key for key in msgids(source) if key not in spanish]
    assert missing == [], f"{name}: not in the Spanish catalogue (run makemessages -l es)"


def test_the_catalogue_has_no_empty_or_fuzzy_entry():
    catalogue = polib.pofile(str(CATALOGUE))

    assert not catalogue.metadata_is_fuzzy
    assert [entry.msgid for entry in catalogue if not entry.translated()] == []
    assert [entry.msgid for entry in catalogue.obsolete_entries()] == []


def test_the_check_finds_a_sentence_left_in_english():
    source = (
        '{% load i18n %}<p title="Open it">{% translate "Done" %} Welcome back</p>'
        '{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}<a aria-label="{% translate '
        '"Close" %}">x</a>'
    )

    assert untranslated_text(source) == ["Welcome", "back", "Open", "it"]
    assert msgids(source) == ["Done", "Hi %(name)s", "Close"]


# --- Forms -------------------------------------------------------------------------------


def family_forms() -> list[type[forms.Form]]:
    from accounts import forms as account_forms
    from intake import forms as intake_forms
    from records import forms as record_forms
    from reviews import forms as review_forms
    from scheduling import forms as scheduling_forms

    found = []
    for module in (account_forms, intake_forms, record_forms, review_forms, scheduling_forms):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and value.__name__ not in STAFF_FORMS
            ):
                found.append(value)
    return found


def texts_of(form_class) -> dict[str, str]:
    """What a family reads of a form: each field's label, help text, choices and errors."""
    try:
        form = form_class()
    except TypeError:
        return {}  # a form built for one request: its fields are checked through its pages
    texts = {}
    for name, field in form.fields.items():
        texts[f"{name}.label"] = field.label
        texts[f"{name}.help_text"] = field.help_text
        for code, message in field.error_messages.items():
            texts[f"{name}.error.{code}"] = message
        for value, label in getattr(field, "choices", None) or []:
            if value not in US_STATES:  # names of places, the same in Spanish
                texts[f"{name}.choice.{value}"] = label
    return {key: str(value) for key, value in texts.items() if value}


@pytest.mark.parametrize("form_class", family_forms(), ids=lambda form: form.__name__)
def test_every_text_of_a_family_form_reads_in_spanish(form_class, db):
    with translation.override("en"):
        english = texts_of(form_class)
    with translation.override("es"):
        spanish = texts_of(form_class)

    same = {
        key: text
        for key, text in english.items()
        if spanish.get(key) == text and words(text) and not set(words(text)) <= SAME_IN_BOTH
    }
    assert same == {}, f"{form_class.__name__}: still English in Spanish"


# --- Messages the views flash to a family ----------------------------------------------------

# The views a family reaches; the reviewer workspace's views stay English but its follow-up
# questions are the family's.
FAMILY_VIEWS = {
    "accounts/views.py": None,
    "billing/views.py": None,
    "intake/views.py": None,
    "intake/invitation_views.py": None,
    "intake/wizard_views.py": None,
    "records/views.py": None,
    "scheduling/views.py": None,
    "reviews/views.py": {"follow_up_ask"},
}
STAFF_VIEW_FUNCTIONS = {"otp_setup"}


def has_words(node: ast.expr) -> bool:
    """A plain string with words in it, or an f-string whose own text has words (a file's
    name and its translated refusal joined by a colon has none)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(words(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and words(part.value) for part in node.values)
    return False


def flashed_literals(source: str, only: set[str] | None) -> list[str]:
    """Sentences passed straight to ``messages.<level>(request, ...)`` as a plain string or an
    f-string, instead of through gettext, in the functions a family reaches."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef):
            continue
        if (only is not None and function.name not in only) or (
            function.name in STAFF_VIEW_FUNCTIONS
        ):
            continue
        for call in ast.walk(function):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "messages"
                and len(call.args) >= 2
                and has_words(call.args[1])
            ):
                found.append(f"{function.name}: {ast.unparse(call.args[1])}")
    return found


@pytest.mark.parametrize("module", sorted(FAMILY_VIEWS))
def test_every_message_a_family_view_flashes_goes_through_gettext(module):
    source = (Path(settings.BASE_DIR) / module).read_text()

    assert flashed_literals(source, FAMILY_VIEWS[module]) == []


def test_the_message_check_finds_a_plain_sentence():
    source = (
        "def view(request):\n"
        "    messages.success(request, 'Saved.')\n"
        "    messages.error(request, f'{n} left')\n"
        "    messages.info(request, _('Fine.'))\n"
    )

    assert flashed_literals(source, None) == ["view: 'Saved.'", "view: f'{n} left'"]
