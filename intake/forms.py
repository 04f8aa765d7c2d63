"""Forms of the family's path. Wizard steps check the format of what is typed (a phone number,
a ZIP code, a date) but let a parent save a step half-done and come back: what is still
missing is listed by the progress indicator and the final checklist, not refused here."""

import re
import unicodedata

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from accounts.models import User, normalize_email
from intake.models import US_STATES_LISTED, Question, Relationship, ReviewService, Sex
from intake.models.catalogue import localized

# Read when the form is drawn, in the page's language (Django's own validators speak Spanish).
password_help_text = lazy(password_validation.password_validators_help_text_html, str)
ZIP_CODE = re.compile(r"^\d{5}(-\d{4})?$")


def state_choices() -> list[tuple[str, str]]:
    """The states in the reader's language and in its alphabetical order ("Carolina del
    Norte" among the C's): Django calls it each time a form is drawn."""

    def plain(name: str) -> str:
        letters = unicodedata.normalize("NFKD", name)
        return "".join(c for c in letters if not unicodedata.combining(c))

    named = [(code, str(name)) for code, name in US_STATES_LISTED.items()]
    return [("", _("Choose a state")), *sorted(named, key=lambda item: plain(item[1]).casefold())]


def clean_zip(value: str) -> str:
    value = value.strip()
    if value and not ZIP_CODE.match(value):
        raise forms.ValidationError(_("Enter a 5-digit ZIP code, such as 31401."))
    return value


class PhoneField(PhoneNumberField):
    """A phone number in any usual US writing, or international with +; stored as +1…"""

    default_error_messages = {
        "invalid": _(
            "Enter a valid phone number (e.g. (201) 555-0123) or a number with an international "
            "call prefix."
        )
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
        )
        super().__init__(region="US", **kwargs)

    def clean(self, value):
        number = super().clean(value)
        return number.as_e164 if number else ""

    def prepare_value(self, value):
        # A saved number (+19125550143) is shown as it is written: (912) 555-0143.
        return phone_display(value) if isinstance(value, str) else super().prepare_value(value)


def phone_display(value: str) -> str:
    """A stored number as families write it: (912) 555-0143 in the US and Canada, with its
    country code otherwise; anything that is not a number, as it is."""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


class EligibilityForm(forms.Form):
    state = forms.ChoiceField(label=_("State where you live"), choices=state_choices)
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    patient_age = forms.IntegerField(
        label=_("Your child's age in years"),
        min_value=0,
        max_value=120,
        error_messages={"min_value": _("Enter your child's age in whole years (0 for a baby).")},
    )
    hospitalized = forms.TypedChoiceField(
        label=_("Is your child in the hospital right now?"),
        choices=[("no", _("No")), ("yes", _("Yes"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )

    def clean_zip_code(self):
        return clean_zip(self.cleaned_data["zip_code"])


class GuardianForm(forms.Form):
    legal_name = forms.CharField(
        label=_("Your full legal name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        help_text=_("As on your ID. You will type it again to sign the financial consent."),
    )
    relationship = forms.ChoiceField(
        label=_("Your relationship to the child"),
        choices=[("", _("Choose")), *Relationship.choices],
        required=False,
    )
    has_legal_authority = forms.BooleanField(
        label=_(
            "I am the child's parent or legal guardian and have legal authority to consent to "
            "this review on the child's behalf."
        ),
        required=False,
    )
    phone = PhoneField(label=_("Phone"))
    email = forms.EmailField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    address_line1 = forms.CharField(
        label=_("Street address"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label=_("Apartment, suite (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.ChoiceField(label=_("State"), choices=state_choices, required=False)
    zip_code = forms.CharField(
        label=_("ZIP code"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )

    def clean_zip_code(self):
        return clean_zip(self.cleaned_data["zip_code"])


class ChildForm(forms.Form):
    first_name = forms.CharField(label=_("Child's first name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Child's last name"), max_length=100, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter the date of birth as a date, such as 2014-05-30.")},
    )
    sex = forms.ChoiceField(
        label=_("Sex assigned at birth"),
        choices=Sex.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    prior_diagnosis = forms.CharField(
        label=_("The diagnosis your child was given"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("In your own words; the records say the rest."),
    )
    current_treatment = forms.CharField(
        label=_("Current treatment (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    questions = forms.CharField(
        label=_("Your questions for the reviewers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What would you like the specialists to answer?"),
    )

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born and born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return born


class QuestionnaireForm(forms.Form):
    """Built from a questionnaire version: one field per question, in order."""

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = {question.key: question for question in questions}
        for question in questions:
            self.fields[question.key] = self._field(question)

    @staticmethod
    def _field(question: Question) -> forms.Field:
        text = localized(question, "text")
        label = text if question.required else _("%(question)s (optional)") % {"question": text}
        common = {
            "label": label,
            "help_text": localized(question, "help_text"),
            "required": False,
        }
        if question.kind == Question.Kind.YES_NO:
            return forms.ChoiceField(
                choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
            )
        if question.kind == Question.Kind.CHOICE:
            return forms.ChoiceField(
                choices=question.choice_options(), widget=forms.RadioSelect, **common
            )
        if question.kind == Question.Kind.DATE:
            return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)

    def clean(self):
        cleaned = super().clean()
        for key, question in self.questions.items():
            try:
                cleaned[key] = question.clean_answer(cleaned.get(key))
            except forms.ValidationError as error:
                self.add_error(key, error)
        return cleaned


class ConsentForm(forms.Form):
    typed_name = forms.CharField(
        label=_("Type your full legal name to sign"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    agree = forms.BooleanField(
        label=_("I have read the financial consent above and agree to it."),
        error_messages={"required": _("Tick the box to say you agree.")},
    )


class PediatricianForm(forms.Form):
    name = forms.CharField(label=_("Pediatrician's name"), max_length=150, required=False)
    practice = forms.CharField(label=_("Practice or clinic"), max_length=200, required=False)
    phone = PhoneField(label=_("Practice phone"))
    fax = PhoneField(label=_("Fax (optional)"), widget=forms.TextInput(attrs={"inputmode": "tel"}))
    email = forms.EmailField(label=_("E-mail (optional)"), required=False)
    share_opinion = forms.BooleanField(
        label=_("Also send the written opinion to this pediatrician."), required=False
    )


class AnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Your answer"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text=_("Add any files above first; they are sent with your answer."),
    )


class CoordinatorStartForm(EligibilityForm):
    """What a coordinator types while the family is on the phone: the public page's
    eligibility questions, then who the family is and what they want to know. Only the
    family's e-mail (for the invitation) and the names are needed; the family completes
    the rest."""

    service = forms.ModelChoiceField(queryset=ReviewService.objects.none(), label="Review")
    legal_name = forms.CharField(label="Parent or guardian's full legal name", max_length=150)
    email = forms.EmailField(
        label="Their e-mail address", help_text="The invitation to finish the request goes here."
    )
    phone = PhoneField(label="Their phone")
    relationship = forms.ChoiceField(
        label="Relationship to the child",
        choices=[("", "Choose"), *Relationship.choices],
        required=False,
    )
    first_name = forms.CharField(label="Child's first name", max_length=100)
    last_name = forms.CharField(label="Child's last name", max_length=100)
    date_of_birth = forms.DateField(
        label="Child's date of birth",
        help_text="The family gives it again to open the invitation: a mistyped e-mail "
        "address then reaches no one's file.",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the date of birth as a date, such as 2014-05-30."},
    )
    prior_diagnosis = forms.CharField(
        label="The diagnosis the child was given",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    current_treatment = forms.CharField(
        label="Current treatment", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    questions = forms.CharField(
        label="The family's questions for the reviewers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    language = forms.ChoiceField(
        label="The family's language",
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,  # English when left out
        help_text="Their invitation, its reminder and their pages are in this language "
        "until they choose otherwise on their account.",
    )

    GUARDIAN_FIELDS = ("legal_name", "email", "phone", "relationship")
    CHILD_FIELDS = (
        "first_name",
        "last_name",
        "date_of_birth",
        "prior_diagnosis",
        "current_treatment",
        "questions",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = ReviewService.objects.filter(active=True).order_by("name")
        self.order_fields(["service", "state", "zip_code", "patient_age", "hospitalized"])
        self.fields["state"].label = "State where the family lives"
        self.fields["patient_age"].label = "Child's age in years"
        self.fields["hospitalized"].label = "Is the child in the hospital right now?"

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        if born and born > timezone.localdate():
            raise forms.ValidationError("The date of birth cannot be in the future.")
        return born


class InviteForm(forms.Form):
    """The e-mail address a link goes to (a second guardian, or the pediatrician)."""

    email = forms.EmailField(label=_("E-mail address"))

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


def child_birth_date_field() -> forms.DateField:
    return forms.DateField(
        label=_("Your child's date of birth"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("So that only your family can open this request."),
        error_messages={"invalid": _("Enter the date of birth as a date, such as 2014-05-30.")},
    )


class FamilyAcceptForm(forms.Form):
    """A signed-in parent joins the request the coordinator started for them."""

    child_date_of_birth = child_birth_date_field()


class InvitationSignUpForm(forms.Form):
    """An account for the invited address (shown, not typed: the link was sent there). For
    the family's invitation, the child's date of birth too (see ``FamilyAcceptForm``)."""

    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_help_text(),
    )

    def __init__(self, *args, email: str, ask_birth_date: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        if ask_birth_date:
            self.fields["child_date_of_birth"] = child_birth_date_field()

    def clean(self):
        cleaned = super().clean()
        if password := cleaned.get("password"):
            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class SecondGuardianForm(forms.Form):
    """What a second guardian states when accepting: who they are to the child, and whether
    they have the legal authority to consent for them (only then may they sign)."""

    legal_name = forms.CharField(
        label=_("Your full legal name"),
        max_length=150,
        help_text=_("As on your ID. You would type it again to sign the financial consent."),
    )
    relationship = forms.ChoiceField(
        label=_("Your relationship to the child"),
        choices=[("", _("Choose")), *Relationship.choices],
    )
    has_legal_authority = forms.BooleanField(
        label=_(
            "I am the child's parent or legal guardian and have legal authority to consent "
            "to this review on the child's behalf."
        ),
        required=False,
        help_text=_(
            "Leave it unticked if you do not: you can still see the request and add files."
        ),
    )
