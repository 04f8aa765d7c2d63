"""The catalogue families choose from: departments, the document reviews they offer (with
who may ask and what to send), the versioned questionnaires and the financial consent."""

import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


def money(cents: int, currency: str, *, drop_zero_cents: bool = False) -> str:
    """An amount as people read it: "$1,400.00", or "167.50 EUR" in another currency.
    drop_zero_cents leaves out a zero ".00", as a price list does ("$500"). In Spanish the
    dollar is named and the cents always shown ("$500.00 USD"): "$" alone also means pesos,
    and US Spanish writes the decimal point as English does."""
    amount = f"{cents / 100:,.2f}"
    if translation.get_language() == "es":
        return f"${amount} USD" if currency == "usd" else f"{amount} {currency.upper()}"
    if drop_zero_cents:
        amount = amount.removesuffix(".00")
    return f"${amount}" if currency == "usd" else f"{amount} {currency.upper()}"


SPANISH_HELP = "For families reading Spanish; left empty, they read the English text."


def localized(obj, field: str):
    """``obj.<field>`` in the page's language: its ``<field>_es`` for a Spanish page when it
    is filled in, else the English text (catalogue data written by the hospital's staff)."""
    if translation.get_language() == "es":
        spanish = getattr(obj, f"{field}_es", None)
        if spanish:
            return spanish
    return getattr(obj, field)


# The states and territories a family may live in, named as inside a sentence ("families
# living in the District of Columbia"); those whose Spanish name differs are translated.
US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": _("the District of Columbia"),
    "FL": "Florida",
    "GA": "Georgia",
    "HI": _("Hawaii"),
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": _("Louisiana"),
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": _("Mississippi"),
    "MO": _("Missouri"),
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": _("New Hampshire"),
    "NJ": _("New Jersey"),
    "NM": _("New Mexico"),
    "NY": _("New York"),
    "NC": _("North Carolina"),
    "ND": _("North Dakota"),
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": _("Oregon"),
    "PA": _("Pennsylvania"),
    "RI": "Rhode Island",
    "SC": _("South Carolina"),
    "SD": _("South Dakota"),
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": _("West Virginia"),
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": _("the U.S. Virgin Islands"),
    "AS": _("American Samoa"),
    "MP": _("the Northern Mariana Islands"),
}

# Their names in a list of choices, where no article comes first.
US_STATES_LISTED = {
    **US_STATES,
    "DC": _("District of Columbia"),
    "VI": _("U.S. Virgin Islands"),
    "MP": _("Northern Mariana Islands"),
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as America/New_York.")


class DocumentKind(models.TextChoices):
    """What a file sent with a request is. A service lists the kinds it requires."""

    REFERRAL = "referral", _("Referral from the pediatrician")
    RECORD = "record", _("Medical records")
    IMAGING = "imaging", _("Imaging (X-ray, MRI, CT)")
    OTHER = "other", _("Other")
    # Written by the portal, never uploaded: the signed opinion letter.
    OPINION = "opinion", _("Opinion letter")


REQUIRABLE_DOCUMENTS = (DocumentKind.REFERRAL, DocumentKind.RECORD, DocumentKind.IMAGING)

# Each kind as it reads inside a sentence ("You send … imaging (X-ray, MRI, CT)"). Lowering
# the label would write "mri" and "ct", and would do the same to the Spanish.
DOCUMENT_KIND_IN_SENTENCE = {
    DocumentKind.REFERRAL: _("a referral from the pediatrician"),
    DocumentKind.RECORD: _("medical records"),
    DocumentKind.IMAGING: _("imaging (X-ray, MRI, CT)"),
    DocumentKind.OTHER: _("other documents"),
    DocumentKind.OPINION: _("the opinion letter"),
}


def document_kind_in_sentence(kind: str) -> str:
    """The kind ``kind`` as it reads in the middle of a sentence, in the page's language."""
    return str(DOCUMENT_KIND_IN_SENTENCE[DocumentKind(kind)])


class ReviewDays(models.TextChoices):
    """How a department counts the days left to a review's due dates (``intake.clock``)."""

    CALENDAR = "calendar", "Calendar days"
    BUSINESS = "business", "Business days (weekdays that are not department holidays)"


class Department(models.Model):
    """A hospital department families can call; some also offer document reviews."""

    name = models.CharField(max_length=100, unique=True)
    name_es = models.CharField(
        "name in Spanish", max_length=100, blank=True, help_text=SPANISH_HELP
    )
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=300, blank=True)
    summary_es = models.CharField(
        "summary in Spanish", max_length=300, blank=True, help_text=SPANISH_HELP
    )
    phone = models.CharField(max_length=30, help_text="The second-opinion coordinator's line.")
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    call_length_minutes = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(15), MaxValueValidator(30)],
        help_text="Length of a free informational call, 15 to 30 minutes.",
    )
    # How families may book calls (scheduling reads these; they are the department's rules).
    buffer_minutes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(120)],
        help_text="Free time a coordinator keeps between two calls.",
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text="Calls can be booked or moved only this long ahead; sooner, families call.",
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="How many days ahead families may book.",
    )
    max_calls_per_day = models.PositiveSmallIntegerField(
        default=8,
        validators=[MinValueValidator(1)],
        help_text="Most calls one coordinator takes in a day.",
    )
    # Who hears about a review running late (reviews' deadline sweep reads these).
    alerts_email = models.EmailField(
        "alerts e-mail",
        blank=True,
        help_text="The coordinators' shared inbox for deadline alerts and declined "
        "assignments. Empty: every active coordinator is alerted.",
    )
    program_lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Receives the escalation a day before a review's limit.",
    )
    review_days = models.CharField(
        "count days left in",
        max_length=10,
        choices=ReviewDays.choices,
        default=ReviewDays.CALENDAR,
        help_text="How families, reviewers, coordinators and the deadline alerts count the "
        "days left to a review's target and limit. Business days skip weekends and the "
        "department's holidays (whole-day closures of the whole department in the call "
        "calendar). The due dates themselves stay calendar days after payment, as promised.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(call_length_minutes__gte=15, call_length_minutes__lte=30),
                name="department_call_length_15_to_30",
            ),
            models.CheckConstraint(
                condition=Q(booking_horizon_days__gte=1, max_calls_per_day__gte=1),
                name="department_booking_rules_positive",
            ),
            models.CheckConstraint(
                condition=Q(review_days__in=ReviewDays.values), name="department_review_days_valid"
            ),
        ]

    def __str__(self):
        return self.name


class ReviewService(models.Model):
    """A paid document review: who reads it, what it costs, who may ask for it, what to send.
    Eligibility and required documents are data, edited in the admin."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=120)
    name_es = models.CharField(
        "name in Spanish", max_length=120, blank=True, help_text=SPANISH_HELP
    )
    slug = models.SlugField(unique=True)
    summary = models.TextField(help_text="What the review is, in a family's words.")
    summary_es = models.TextField("summary in Spanish", blank=True, help_text=SPANISH_HELP)
    readers = models.CharField(
        max_length=200, help_text="Who reads the file, e.g. “three spine program leaders”."
    )
    readers_es = models.CharField(
        "readers in Spanish", max_length=200, blank=True, help_text=SPANISH_HELP
    )
    fee_cents = models.PositiveIntegerField(help_text="Flat fee in cents, e.g. 50000 for $500.")
    currency = models.CharField(
        max_length=3,
        default="usd",
        validators=[RegexValidator(r"^[a-z]{3}$", "Use a code such as usd.")],
    )
    reviewers_required = models.PositiveSmallIntegerField(default=1)
    target_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days to the opinion we promise."
    )
    limit_days = models.PositiveSmallIntegerField(
        default=10, help_text="Days by which it must be delivered."
    )
    allowed_states = models.JSONField(
        default=list, blank=True, help_text="Two-letter states the family must live in; empty: any."
    )
    excluded_zip_prefixes = models.JSONField(
        default=list, blank=True, help_text="ZIP codes, or their first digits, not served."
    )
    max_patient_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Oldest age in years accepted (20 means under 21)."
    )
    required_documents = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(fee_cents__gt=0), name="service_fee_positive"),
            models.CheckConstraint(
                condition=Q(reviewers_required__gte=1), name="service_reviewers_required_positive"
            ),
            models.CheckConstraint(
                condition=Q(target_days__gte=1, limit_days__gte=F("target_days")),
                name="service_target_within_limit",
            ),
            models.UniqueConstraint(
                fields=["department", "name"], name="service_name_unique_per_department"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        states = [str(state).upper() for state in self.allowed_states or []]
        if unknown := sorted(set(states) - US_STATES.keys()):
            errors["allowed_states"] = f"Not a US state code: {', '.join(unknown)}."
        self.allowed_states = states
        zips = [str(prefix).strip() for prefix in self.excluded_zip_prefixes or []]
        if bad := [z for z in zips if not (z.isdigit() and 1 <= len(z) <= 5)]:
            errors["excluded_zip_prefixes"] = f"Not a ZIP code or prefix: {', '.join(bad)}."
        self.excluded_zip_prefixes = zips
        if bad := set(self.required_documents or []) - {
            kind.value for kind in REQUIRABLE_DOCUMENTS
        }:
            errors["required_documents"] = f"Unknown document kinds: {', '.join(sorted(bad))}."
        if self.target_days and self.limit_days and self.limit_days < self.target_days:
            errors["limit_days"] = "The limit cannot come before the target."
        if errors:
            raise ValidationError(errors)

    @property
    def fee_display(self) -> str:
        return money(self.fee_cents, self.currency, drop_zero_cents=True)

    @property
    def required_document_labels(self) -> list[str]:
        """What the family sends, as it reads in a sentence: "imaging (X-ray, MRI, CT)"."""
        return [document_kind_in_sentence(kind) for kind in self.required_documents]


class Questionnaire(models.Model):
    """One version of a service's medical-history questionnaire. Once published it never
    changes: answers point at the version they answered, and edits make a new version."""

    service = models.ForeignKey(
        ReviewService, on_delete=models.PROTECT, related_name="questionnaires"
    )
    version = models.PositiveIntegerField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "version"], name="questionnaire_version_unique"
            ),
        ]

    def __str__(self):
        state = "published" if self.published_at else "draft"
        return f"{self.service} questionnaire v{self.version} ({state})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


ANSWER_MAX_LENGTH = 2000


class QuestionKind(models.TextChoices):
    TEXT = "text", "Text"
    YES_NO = "yes_no", "Yes / no"
    CHOICE = "choice", "Choice"
    DATE = "date", "Date"


class Question(models.Model):
    Kind = QuestionKind

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(
        max_length=50, help_text="Stable name of the answer, e.g. first_symptoms."
    )
    text = models.CharField(max_length=300)
    text_es = models.CharField(
        "text in Spanish", max_length=300, blank=True, help_text=SPANISH_HELP
    )
    help_text = models.CharField(max_length=300, blank=True)
    help_text_es = models.CharField(
        "help text in Spanish", max_length=300, blank=True, help_text=SPANISH_HELP
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(
        default=list, blank=True, help_text="The options of a choice question."
    )
    # The same options in the same order; the answer stored is always the English option.
    choices_es = models.JSONField(
        "choices in Spanish",
        default=list,
        blank=True,
        help_text="The options in Spanish, in the same order as above.",
    )
    required = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "key"], name="question_key_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"
            ),
        ]

    def __str__(self):
        return self.text

    def clean(self):
        super().clean()
        options = [str(option).strip() for option in self.choices or [] if str(option).strip()]
        if self.kind == self.Kind.CHOICE and len(options) < 2:
            raise ValidationError({"choices": "A choice question needs at least two options."})
        self.choices = options if self.kind == self.Kind.CHOICE else []
        spanish = [str(option).strip() for option in self.choices_es or [] if str(option).strip()]
        if self.kind == self.Kind.CHOICE and spanish and len(spanish) != len(options):
            raise ValidationError(
                {"choices_es": "Give as many Spanish options as English ones, in the same order."}
            )
        self.choices_es = spanish if self.kind == self.Kind.CHOICE else []

    def choice_options(self) -> list[tuple[str, str]]:
        """(stored answer, what the family reads) for each option, in the page's language."""
        labels = self.choices
        if translation.get_language() == "es" and len(self.choices_es) == len(self.choices):
            labels = self.choices_es
        return list(zip(self.choices, labels, strict=True))

    def clean_answer(self, value) -> str | None:
        """The stored form of an answer (None: not answered), or a ValidationError whose
        message tells the family what this question accepts."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == QuestionKind.YES_NO:
            answer = {True: "yes", False: "no"}.get(value, str(value).strip().lower())
            if answer not in {"yes", "no"}:
                raise ValidationError(_("Answer yes or no."))
            return answer
        if self.kind == QuestionKind.CHOICE:
            if str(value).strip() not in self.choices:
                labels = ", ".join(label for _value, label in self.choice_options())
                raise ValidationError(_("Choose one of: %(options)s.") % {"options": labels})
            return str(value).strip()
        if self.kind == QuestionKind.DATE:
            try:
                return date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise ValidationError(_("Enter a date such as 2024-03-15.")) from None
        answer = str(value).strip()
        if len(answer) > ANSWER_MAX_LENGTH:
            raise ValidationError(
                _("Keep this answer under %(limit)s characters.") % {"limit": ANSWER_MAX_LENGTH}
            )
        return answer


class ConsentText(models.Model):
    """One version of the financial consent families sign (self-pay, flat fee, not covered by
    insurance, what happens if a case is ineligible or incomplete). Immutable once published."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    # The same consent in Spanish: a family signs the text in the language it reads, and the
    # signature records which (``ConsentSignature.language``).
    title_es = models.CharField("title in Spanish", max_length=200, blank=True)
    body_es = models.TextField("text in Spanish", blank=True, help_text=SPANISH_HELP)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        state = "published" if self.published_at else "draft"
        return f"{self.title} v{self.version} ({state})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
