import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReviewerProfile(models.Model):
    """A reviewer's place in the pools: the services they read for, how they sign, and
    whether they can take new cases now. The suggestion of a panel reads these."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile"
    )
    services = models.ManyToManyField(
        "intake.ReviewService",
        blank=True,
        related_name="reviewer_pool",
        help_text="The document reviews this reviewer reads for.",
    )
    credentials = models.CharField(
        max_length=200, blank=True, help_text="As signed on a letter, e.g. “MD, Spine Program”."
    )
    available = models.BooleanField(
        default=True, help_text="Unavailable reviewers (leave, conference) are not suggested."
    )

    def __str__(self):
        return f"Reviewer profile of {self.user}"


class DeclineReason(models.TextChoices):
    CONFLICT = "conflict", "Conflict of interest"
    UNAVAILABLE = "unavailable", "Unavailable"
    OTHER = "other", "Other"


class ReviewAssignment(models.Model):
    """A reviewer on a request's panel. Removing someone keeps the row (who read the file and
    when) and ends their access at once: selectors look only at rows with no ``removed_at``."""

    request = models.ForeignKey(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="assignments"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    is_lead = models.BooleanField(default=False)
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Why the reviewer left the panel: the coordinator's reason, or the reviewer's decline.
    removal_reason = models.TextField(blank=True)
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "reviewer"],
                condition=Q(removed_at__isnull=True),
                name="assignment_one_active_per_reviewer",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(is_lead=True, removed_at__isnull=True),
                name="assignment_one_active_lead",
            ),
            models.CheckConstraint(
                condition=Q(decline_reason="") | Q(removed_at__isnull=False),
                name="assignment_decline_ends_it",
            ),
        ]
        indexes = [
            models.Index(fields=["reviewer", "removed_at"], name="assignment_reviewer_idx"),
            # "My reviews": a reviewer's finished cases, the latest first, a page at a time.
            models.Index(
                fields=["reviewer", "removed_at", "-assigned_at"], name="assignment_history_idx"
            ),
        ]

    def __str__(self):
        return f"{self.reviewer} on {self.request}"


class Agreement(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class NextStep(models.TextChoices):
    IN_PERSON_VISIT = "in_person_visit", "In-person visit"
    FURTHER_IMAGING = "further_imaging", "Further imaging"
    TESTS = "tests", "Further tests"
    CONTINUE_CARE = "continue_care", "Continue the current care plan"
    SPECIALIST = "specialist", "See another specialist"


class Opinion(models.Model):
    """One reviewer's opinion, in versions. A version is a draft (saved as the reviewer
    types) until it is submitted; a submitted version is never changed: an amendment is the
    next version. The newest submitted version is the reviewer's opinion."""

    assignment = models.ForeignKey(
        ReviewAssignment, on_delete=models.PROTECT, related_name="opinions"
    )
    version = models.PositiveSmallIntegerField(default=1)
    agrees_with_diagnosis = models.CharField(
        "agrees with the prior diagnosis", max_length=10, choices=Agreement.choices, blank=True
    )
    agrees_with_plan = models.CharField(
        "agrees with the care plan", max_length=10, choices=Agreement.choices, blank=True
    )
    findings = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    answers = models.TextField("answers to the family's questions", blank=True)
    next_steps = models.JSONField("suggested next steps", default=list, blank=True)
    next_steps_note = models.TextField("other next steps", blank=True)
    amendment_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    REQUIRED = ("agrees_with_diagnosis", "agrees_with_plan", "findings", "recommendations")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "version"], name="opinion_version_unique"
            ),
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(submitted_at__isnull=True),
                name="opinion_one_draft",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True)
                | (~Q(agrees_with_diagnosis="") & ~Q(agrees_with_plan="")),
                name="opinion_submitted_is_complete",
            ),
        ]

    def __str__(self):
        return f"Opinion v{self.version} of {self.assignment}"

    @property
    def next_step_labels(self) -> list[str]:
        return [NextStep(step).label for step in self.next_steps if step in NextStep.values]


class Conclusion(models.TextChoices):
    AGREE = "agree", _("Agrees with the previous diagnosis and care plan")
    DIFFERENT = "different", _("Offers a different path")


class FinalOpinion(models.Model):
    """The panel's one letter, written by the lead once every member has submitted. Signed
    once (name, credentials, time); the signed letter is stored as a document."""

    request = models.OneToOneField(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="final_opinion"
    )
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    conclusion = models.CharField(max_length=10, choices=Conclusion.choices, blank=True)
    recommendations = models.TextField(blank=True)
    answers = models.TextField("answers to the family's questions", blank=True)
    dissent = models.TextField(
        "members' dissent",
        blank=True,
        help_text="Where a member disagrees with the conclusion, what they think instead.",
    )
    family_summary = models.TextField(
        "summary for the family", blank=True, help_text="A few plain sentences, no jargon."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_name = models.CharField(max_length=150, blank=True)
    signed_credentials = models.CharField(max_length=200, blank=True)
    letter = models.OneToOneField(
        "records.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True)
                | (~Q(conclusion="") & ~Q(family_summary="") & ~Q(signed_name="")),
                name="final_opinion_signed_is_complete",
            ),
        ]

    def __str__(self):
        return f"Final opinion on {self.request}"


class OutreachMethod(models.TextChoices):
    CALL = "call", "Phone call"
    MESSAGE = "message", "Message"


class PediatricianChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    FAX = "fax", "Fax"


class Delivery(models.Model):
    """How the opinion reached the family (and, with their consent, the pediatrician)."""

    request = models.OneToOneField(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="delivery"
    )
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outreach_method = models.CharField(max_length=10, choices=OutreachMethod.choices)
    outreach_note = models.TextField(blank=True)
    delivered_at = models.DateTimeField(default=timezone.now)
    pediatrician_channel = models.CharField(
        max_length=10, choices=PediatricianChannel.choices, blank=True
    )

    class Meta:
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"Delivery of {self.request}"


class FollowUpQuestion(models.Model):
    """A family's question after delivery, for the lead; the answer is an addendum."""

    request = models.ForeignKey(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="follow_ups"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    question = models.TextField()
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="follow_up_answered_has_text",
            ),
        ]
        indexes = [models.Index(fields=["request", "asked_at"], name="follow_up_request_idx")]

    def __str__(self):
        return f"Follow-up question on {self.request}"


class AlertKind(models.TextChoices):
    """The deadline alerts, in the order their thresholds fall."""

    REVIEWER_REMINDER = "reviewer_reminder", "Reminder to the reviewers (2 days before target)"
    TARGET = "target", "Coordinator alert (target reached)"
    ESCALATION = "escalation", "Escalation to the program lead (1 day before the limit)"
    BREACH = "breach", "Breach (limit passed)"


class DeadlineAlert(models.Model):
    """An alert the deadline sweep sent: one per request and kind, ever (a database rule),
    written in the same transaction as its messages."""

    request = models.ForeignKey(
        "intake.ReviewRequest", on_delete=models.PROTECT, related_name="deadline_alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    threshold_at = models.DateTimeField(help_text="When the alert was due.")
    created_at = models.DateTimeField(default=timezone.now)
    late = models.BooleanField(
        default=False,
        help_text="Sent well after it fell due: the sweep did not run (beat or broker down).",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "kind"], name="deadline_alert_once"),
            models.CheckConstraint(
                condition=Q(kind__in=AlertKind.values), name="deadline_alert_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="deadline_alert_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.request}"


class MeasurementTool(models.TextChoices):
    LENGTH = "length", "Length"
    ANGLE = "angle", "Angle"
    COBB = "cobb", "Cobb angle"
    ARROW = "arrow", "Arrow"


class Measurement(models.Model):
    """A reviewer's measurement on one image of an imaging document: the points drawn (in
    the image's own pixels) and the value the portal worked out from them and the image's
    pixel spacing. The id is the viewer's, so a save sent twice is still one measurement.
    Each reviewer changes only their own; the panel sees them all."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(
        "records.Document", on_delete=models.PROTECT, related_name="measurements"
    )
    series = models.PositiveSmallIntegerField()
    image = models.PositiveIntegerField(help_text="Its place in the series, from 1.")
    frame = models.PositiveIntegerField(default=1)
    tool = models.CharField(max_length=10, choices=MeasurementTool.choices)
    points = models.JSONField(help_text="[[column, row], …] in the image's pixels.")
    label = models.CharField(max_length=200, blank=True, help_text="An arrow's text.")
    value = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=5, blank=True)  # "mm", "px" or "°"
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="measurements"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(tool__in=MeasurementTool.values), name="measurement_tool_valid"
            ),
            models.CheckConstraint(
                condition=Q(series__gte=1, image__gte=1, frame__gte=1),
                name="measurement_place_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["document", "series", "image"], name="measurement_image_idx")
        ]

    def __str__(self):
        return f"{self.get_tool_display()} on {self.document}"


class KeyImage(models.Model):
    """An image a reviewer marked as one the opinion rests on, with the window they read it
    in. The signed letter lists the panel's key images and prints each with the measurements
    its reviewer drew on it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    document = models.ForeignKey(
        "records.Document", on_delete=models.PROTECT, related_name="key_images"
    )
    series = models.PositiveSmallIntegerField()
    image = models.PositiveIntegerField()
    frame = models.PositiveIntegerField(default=1)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="key_images"
    )
    window_center = models.FloatField(null=True, blank=True)
    window_width = models.FloatField(null=True, blank=True)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "series", "image", "frame", "reviewer"],
                name="key_image_once_per_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(window_width__isnull=True) | Q(window_width__gt=0),
                name="key_image_window_positive",
            ),
        ]

    def __str__(self):
        return f"Key image {self.series}/{self.image} of {self.document}"
