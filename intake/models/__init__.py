"""A request for a document review and everything the family sends with it; the catalogue
and the links that share a request live in the submodules and are named here too."""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from intake.lifecycle import CLOCK_RUNNING, FAMILY_TIMELINE, Status
from intake.models.catalogue import (
    ANSWER_MAX_LENGTH,
    REQUIRABLE_DOCUMENTS,
    US_STATES,
    US_STATES_LISTED,
    ConsentText,
    Department,
    DocumentKind,
    Question,
    QuestionKind,
    Questionnaire,
    ReviewDays,
    ReviewService,
    money,
    validate_time_zone,
)


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
    # The family's language while it has no account (a coordinator picks it when starting a
    # request by phone): its invitation is in it. Once the family joins, its account decides.
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The family's language, for a request started by phone.",
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
            # The requests changelist filtered by status, newest first (its default order).
            models.Index(fields=["status", "-id"], name="request_status_newest_idx"),
            # The requests changelist sorted by target date reads its first page from here.
            models.Index(fields=["due_target_at"], name="request_due_target_idx"),
            # The phone-led funnel: the newest requests each coordinator started.
            models.Index(
                fields=["created_by", "created_at"], include=["id"], name="request_started_by_idx"
            ),
        ]

    def __str__(self):
        return self.reference

    def get_status_display(self) -> str:
        """The status's label, looked up at once: Django's own flattens every choice into a
        new table on each call, which a list of requests pays per row."""
        return str(Status(self.status).label)

    @property
    def fee_display(self) -> str:
        """The fee this request owes (its snapshot once sent, the service's before)."""
        if self.fee_cents is None:
            return self.service.fee_display
        return money(self.fee_cents, self.currency, drop_zero_cents=True)

    @property
    def mail_language(self) -> str:
        """The family's language for e-mails: its account's once it has joined."""
        return self.family.language if self.family_id else self.language

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
        """What is still blank, in the words the family reads (in its language)."""
        return [str(self.MISSING_LABELS[name]) for name in self.REQUIRED if not getattr(self, name)]


class Relationship(models.TextChoices):
    MOTHER = "mother", _("Mother")
    FATHER = "father", _("Father")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
    OTHER = "other", _("Other relative or caregiver")


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
    MISSING_LABELS = {
        "legal_name": _("full legal name"),
        "relationship": _("relationship to the child"),
        "phone": _("phone"),
        "email": _("e-mail"),
        "address_line1": _("address"),
        "city": _("city"),
        "state": _("state"),
        "zip_code": _("ZIP code"),
    }

    class Meta:
        indexes = [
            # The requests changelist's search by the guardian's e-mail, in any case.
            models.Index(Upper("email"), name="guardian_email_idx"),
        ]

    def __str__(self):
        return f"Guardian on {self.request}"

    @property
    def missing(self) -> list[str]:
        labels = super().missing
        if not self.has_legal_authority:
            labels.append(str(_("statement of legal authority")))
        return labels


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Another answer or not sure")


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
    MISSING_LABELS = {
        "first_name": _("first name"),
        "last_name": _("last name"),
        "date_of_birth": _("date of birth"),
        "sex": _("sex assigned at birth"),
        "prior_diagnosis": _("prior diagnosis"),
        "questions": _("your questions for the reviewers"),
    }

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
    MISSING_LABELS = {
        "name": _("pediatrician's name"),
        "practice": _("practice"),
        "phone": _("phone"),
    }

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
    # The language of the text the guardian read and signed (the version's English or Spanish).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

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
    # With values, ``note`` is a sentence of the catalogue with their places ("Fee of
    # %(amount)s paid by phone."), read in the reader's language (``note_text``); an amount is
    # kept as ``amount_cents`` and ``currency`` and written as that language writes money.
    note_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["request", "created_at"], name="event_request_time_idx")]

    def __str__(self):
        return f"{self.request}: {self.from_status or '—'} → {self.to_status}"

    @property
    def note_text(self) -> str:
        """The note in the page's language: the portal's own sentences are stored in English
        and looked up in the catalogue; what a person typed matches none and reads as typed."""
        if not self.note:
            return ""
        if not self.note_params:
            return gettext(self.note)
        params = dict(self.note_params)
        if "amount_cents" in params:
            params["amount"] = money(params.pop("amount_cents"), params.pop("currency", "usd"))
        return gettext(self.note) % params

    @property
    def family_text(self) -> str:
        """The line the family's timeline shows for this event."""
        if self.kind != self.Kind.STATUS:
            return self.note_text
        if self.to_status == Status.DRAFT and self.request.started_by_coordinator:
            return _("Your coordinator started this request with you on the phone.")
        return FAMILY_TIMELINE.get(self.to_status, "")

    @property
    def family_note(self) -> str:
        """What the timeline shows under the line: a status change's note (the team's
        question, a reason); other events have said everything in their line."""
        return self.note_text if self.kind == self.Kind.STATUS else ""


# Who else may join a request (invitations, second guardians, reminders): their own module.
class DeliveryDay(models.Model):
    """The opinions of one service delivered on one day (the hospital's calendar,
    ``settings.TIME_ZONE``): how many, how many by their target and by their limit, and how
    long each took (seconds from submission to delivery: how many took each). Written by
    the lifecycle service in the delivery's transaction (``intake.services.deliveries``), so
    the dashboard's on-time figures read a few hundred rows, never months of deliveries."""

    date = models.DateField()
    service = models.ForeignKey(ReviewService, on_delete=models.PROTECT, related_name="+")
    delivered = models.IntegerField(default=0)
    within_target = models.IntegerField(default=0)
    within_limit = models.IntegerField(default=0)
    # {"<seconds taken>": how many}: enough for the exact median of any run of days.
    seconds_taken = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["date", "service"], name="delivery_day_once"),
        ]

    def __str__(self):
        return f"{self.date} {self.service_id}: {self.delivered}"


from intake.models.sharing import Invitation, InvitationReminder, SharedAccess  # noqa: E402

__all__ = [
    "ANSWER_MAX_LENGTH",
    "REQUIRABLE_DOCUMENTS",
    "US_STATES",
    "US_STATES_LISTED",
    "ConsentText",
    "DeliveryDay",
    "Department",
    "DocumentKind",
    "Invitation",
    "InvitationReminder",
    "Question",
    "QuestionKind",
    "Questionnaire",
    "ReviewDays",
    "ReviewService",
    "SharedAccess",
    "money",
    "validate_time_zone",
]
