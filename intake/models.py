import uuid
import zoneinfo
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from intake.lifecycle import CLOCK_RUNNING, FAMILY_TIMELINE, Status


def money(cents: int, currency: str, *, drop_zero_cents: bool = False) -> str:
    """An amount as people read it: "$1,400.00", or "167.50 EUR" in another currency.
    drop_zero_cents leaves out a zero ".00", as a price list does ("$500")."""
    amount = f"{cents / 100:,.2f}"
    if drop_zero_cents:
        amount = amount.removesuffix(".00")
    return f"${amount}" if currency == "usd" else f"{amount} {currency.upper()}"


US_STATES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "the District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "the U.S. Virgin Islands",
    "AS": "American Samoa",
    "MP": "the Northern Mariana Islands",
}


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as America/New_York.")


class DocumentKind(models.TextChoices):
    """What a file sent with a request is. A service lists the kinds it requires."""

    REFERRAL = "referral", "Referral from the pediatrician"
    RECORD = "record", "Medical records"
    IMAGING = "imaging", "Imaging (X-ray, MRI, CT)"
    OTHER = "other", "Other"
    # Written by the portal, never uploaded: the signed opinion letter.
    OPINION = "opinion", "Opinion letter"


REQUIRABLE_DOCUMENTS = (DocumentKind.REFERRAL, DocumentKind.RECORD, DocumentKind.IMAGING)


class Department(models.Model):
    """A hospital department families can call; some also offer document reviews."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=300, blank=True)
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
        ]

    def __str__(self):
        return self.name


class ReviewService(models.Model):
    """A paid document review: who reads it, what it costs, who may ask for it, what to send.
    Eligibility and required documents are data, edited in the admin."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    summary = models.TextField(help_text="What the review is, in a family's words.")
    readers = models.CharField(
        max_length=200, help_text="Who reads the file, e.g. “three spine program leaders”."
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
        return [DocumentKind(kind).label for kind in self.required_documents]


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
    help_text = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(
        default=list, blank=True, help_text="The options of a choice question."
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

    def clean_answer(self, value) -> str | None:
        """The stored form of an answer (None: not answered), or a ValidationError whose
        message tells the family what this question accepts."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind == QuestionKind.YES_NO:
            answer = {True: "yes", False: "no"}.get(value, str(value).strip().lower())
            if answer not in {"yes", "no"}:
                raise ValidationError("Answer yes or no.")
            return answer
        if self.kind == QuestionKind.CHOICE:
            if str(value).strip() not in self.choices:
                raise ValidationError(f"Choose one of: {', '.join(self.choices)}.")
            return str(value).strip()
        if self.kind == QuestionKind.DATE:
            try:
                return date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                raise ValidationError("Enter a date such as 2024-03-15.") from None
        answer = str(value).strip()
        if len(answer) > ANSWER_MAX_LENGTH:
            raise ValidationError(f"Keep this answer under {ANSWER_MAX_LENGTH} characters.")
        return answer


class ConsentText(models.Model):
    """One version of the financial consent families sign (self-pay, flat fee, not covered by
    insurance, what happens if a case is ineligible or incomplete). Immutable once published."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        state = "published" if self.published_at else "draft"
        return f"{self.title} v{self.version} ({state})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ReviewRequest(models.Model):
    """A family's request for a document review: the case, from draft to delivered opinion.

    The status changes only through ``intake.services.review_request_transition``. The due
    dates are stored (not computed on read) so the deadline sweep finds late cases by index.
    """

    reference = models.CharField(max_length=12, unique=True, editable=False)
    service = models.ForeignKey(ReviewService, on_delete=models.PROTECT, related_name="requests")
    family = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_requests",
        help_text="The primary guardian's account. Empty while a request a coordinator "
        "started waits for the family to accept the invitation.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The family itself, or the coordinator who started it on the phone.",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    awaiting_payment_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(
        null=True, blank=True, help_text="Submitted and paid: the review clock started."
    )
    needs_info_at = models.DateTimeField(null=True, blank=True)
    in_review_at = models.DateTimeField(null=True, blank=True)
    opinion_ready_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    due_target_at = models.DateTimeField(null=True, blank=True)
    due_limit_at = models.DateTimeField(null=True, blank=True)
    eligibility = models.JSONField(
        default=dict, blank=True, help_text="The answers and result of the eligibility check."
    )
    # The fee when the request was sent: payments use it, whatever the price is later.
    fee_cents = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="request_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | Q(due_target_at__isnull=False, due_limit_at__isnull=False),
                name="request_clock_has_due_dates",
            ),
            models.CheckConstraint(
                condition=Q(awaiting_payment_at__isnull=True) | Q(fee_cents__isnull=False),
                name="request_sent_has_fee",
            ),
            # Only a draft may wait for its family: nobody else could send it.
            models.CheckConstraint(
                condition=Q(family__isnull=False) | Q(status="draft") | Q(status="cancelled"),
                name="request_sent_has_family",
            ),
        ]
        indexes = [
            models.Index(fields=["family", "created_at"], name="request_family_idx"),
            models.Index(fields=["status", "due_target_at"], name="request_status_due_idx"),
            models.Index(fields=["status", "due_limit_at"], name="request_status_limit_idx"),
            # The dashboard's on-time figures read the last 90 days of deliveries.
            models.Index(fields=["delivered_at"], name="request_delivered_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def fee_display(self) -> str:
        """The fee this request owes (its snapshot once sent, the service's before)."""
        if self.fee_cents is None:
            return self.service.fee_display
        return money(self.fee_cents, self.currency, drop_zero_cents=True)

    @property
    def started_by_coordinator(self) -> bool:
        return self.created_by_id is not None and self.created_by_id != self.family_id

    @property
    def clock_running(self) -> bool:
        return self.status in CLOCK_RUNNING

    @property
    def clock_paused(self) -> bool:
        return self.status == Status.NEEDS_INFO


class QuestionnaireAnswers(models.Model):
    """A request's answers to the medical-history questionnaire, tied to the version they
    answer: a version published later never changes a questionnaire already begun. Saved at
    every step; complete when every required question has an answer."""

    request = models.OneToOneField(
        ReviewRequest, on_delete=models.CASCADE, related_name="questionnaire_answers"
    )
    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="answer_sets"
    )
    answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Answers of {self.request} (v{self.questionnaire.version})"


class StepDetails(models.Model):
    """What the family typed on one wizard step, saved as typed: ``missing`` lists the labels
    of the ``REQUIRED`` fields still blank (the progress indicator shows them)."""

    REQUIRED: tuple[str, ...] = ()

    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def missing(self) -> list[str]:
        return [
            str(self._meta.get_field(name).verbose_name)
            for name in self.REQUIRED
            if not getattr(self, name)
        ]


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    OTHER = "other", "Other relative or caregiver"


class Guardian(StepDetails):
    """The parent or legal guardian sending the request. Filled step by step: blank fields
    are what the progress indicator lists as missing."""

    request = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="guardian")
    legal_name = models.CharField("full legal name", max_length=150, blank=True)
    relationship = models.CharField(
        "relationship to the child", max_length=20, choices=Relationship.choices, blank=True
    )
    has_legal_authority = models.BooleanField(default=False)
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)

    REQUIRED = (
        "legal_name",
        "relationship",
        "phone",
        "email",
        "address_line1",
        "city",
        "state",
        "zip_code",
    )

    def __str__(self):
        return f"Guardian on {self.request}"

    @property
    def missing(self) -> list[str]:
        labels = super().missing
        if not self.has_legal_authority:
            labels.append("statement of legal authority")
        return labels


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Another answer or not sure"


class Child(StepDetails):
    """The child the review is about, and what the family wants to know."""

    request = models.OneToOneField(ReviewRequest, on_delete=models.CASCADE, related_name="child")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField("sex assigned at birth", max_length=10, choices=Sex.choices, blank=True)
    prior_diagnosis = models.TextField(blank=True)
    current_treatment = models.TextField(blank=True)
    questions = models.TextField("your questions for the reviewers", blank=True)

    REQUIRED = ("first_name", "last_name", "date_of_birth", "sex", "prior_diagnosis", "questions")

    class Meta:
        verbose_name_plural = "children"

    def __str__(self):
        return f"Child on {self.request}"

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class ReferringPediatrician(StepDetails):
    """Who referred the child; the referral letter itself is a document of kind referral."""

    request = models.OneToOneField(
        ReviewRequest, on_delete=models.CASCADE, related_name="referring_pediatrician"
    )
    name = models.CharField("pediatrician's name", max_length=150, blank=True)
    practice = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    fax = models.CharField(max_length=20, blank=True)
    email = models.EmailField("e-mail", blank=True)
    share_opinion = models.BooleanField(
        default=False, help_text="The family agrees that the opinion letter is sent to them too."
    )

    REQUIRED = ("name", "practice", "phone")

    def __str__(self):
        return f"Referring pediatrician on {self.request}"


class ConsentSignature(models.Model):
    """The guardian's signature of the financial consent: the exact text version, the name
    typed, when, from where. Written once and never changed (no service edits it)."""

    request = models.OneToOneField(
        ReviewRequest, on_delete=models.PROTECT, related_name="consent_signature"
    )
    consent_text = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, related_name="signatures"
    )
    signed_name = models.CharField(max_length=150)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    fee_cents = models.PositiveIntegerField(help_text="The fee shown next to the text when signed.")
    currency = models.CharField(max_length=3)

    def __str__(self):
        return f"Consent v{self.consent_text.version} signed for {self.request}"


class RequestEvent(models.Model):
    """An append-only line of a request's history: the family's timeline and the audit trail.
    A status change carries its statuses; any other event (an invitation, a change of who
    may see the case, a fee taken in advance) carries its line for the timeline as its note,
    written by the service without anything about the child."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        INVITATION = "invitation", "Invitation"
        ACCESS = "access", "Access change"
        PAYMENT = "payment", "Payment"

    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the portal itself made the change (e.g. a payment webhook).",
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["request", "created_at"], name="event_request_time_idx")]

    def __str__(self):
        return f"{self.request}: {self.from_status or '—'} → {self.to_status}"

    @property
    def family_text(self) -> str:
        """The line the family's timeline shows for this event."""
        if self.kind != self.Kind.STATUS:
            return self.note
        if self.to_status == Status.DRAFT and self.request.started_by_coordinator:
            return "Your coordinator started this request with you on the phone."
        return FAMILY_TIMELINE.get(self.to_status, "")

    @property
    def family_note(self) -> str:
        """What the timeline shows under the line: a status change's note (the team's
        question, a reason); other events have said everything in their line."""
        return self.note if self.kind == self.Kind.STATUS else ""


class Invitation(models.Model):
    """A link e-mailed to someone to join one request: the family a coordinator started it
    for, a second guardian, or the referring pediatrician (who may only upload files).

    The link carries the random ``key``, signed; the row decides whether it still works.
    The family's and a second guardian's links are used once (``accepted_at``); the
    pediatrician's works until it expires or is revoked. Sending a new link of a kind revokes
    the open one, so at most one is open per request and kind (a database rule)."""

    class Kind(models.TextChoices):
        FAMILY = "family", "Family"
        GUARDIAN = "guardian", "Second guardian"
        PEDIATRICIAN = "pediatrician", "Referring pediatrician (upload only)"

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.EmailField("e-mail")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["family", "guardian", "pediatrician"]),
                name="invitation_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | ~Q(kind="pediatrician"),
                name="invitation_upload_link_never_accepted",
            ),
        ]
        indexes = [
            # The reminder sweep: family invitations by when they were sent or accepted.
            models.Index(fields=["kind", "created_at"], name="invitation_kind_sent_idx"),
            models.Index(fields=["kind", "accepted_at"], name="invitation_kind_accepted_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} invitation to {self.request}"

    def state_at(self, now) -> str:
        """ "accepted", "revoked", "expired" or "open"."""
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= now else "open"


class SharedAccess(models.Model):
    """A second guardian's access to a request, given by accepting an invitation. Their
    legal authority is what they stated then; only with it may they sign the consent.
    Removing access stamps ``removed_at``: the row stays for the audit trail."""

    request = models.ForeignKey(
        ReviewRequest, on_delete=models.CASCADE, related_name="shared_accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shared_accesses"
    )
    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="access")
    legal_name = models.CharField("full legal name", max_length=150)
    relationship = models.CharField(
        "relationship to the child", max_length=20, choices=Relationship.choices
    )
    has_legal_authority = models.BooleanField(default=False)
    granted_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "user"],
                condition=Q(removed_at__isnull=True),
                name="shared_access_one_active_per_user",
            ),
        ]
        indexes = [models.Index(fields=["user", "removed_at"], name="shared_access_user_idx")]

    def __str__(self):
        return f"Second guardian on {self.request}"


class InvitationReminder(models.Model):
    """A reminder sent to a family that has not opened its invitation, or not finished its
    request, after ``INVITATION_REMINDER_DAYS``. Unique per invitation and kind, written in
    the same transaction as its e-mail: each reminder goes once, however often the sweep
    runs."""

    class Kind(models.TextChoices):
        NOT_OPENED = "not_opened", "Invitation not opened"
        NOT_FINISHED = "not_finished", "Request not finished"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "kind"], name="invitation_reminder_once_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for {self.invitation.request}"
