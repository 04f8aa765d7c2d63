import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from intake.models import Department, ReviewService


def wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """The local date and time in ``zone``, without a zone: Django's date filters convert
    aware values to the site's zone, which would undo the family's choice."""
    return instant.astimezone(zone).replace(tzinfo=None)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class Coordinator(models.Model):
    """A staff member who takes a department's informational calls. ``turn`` is the
    round-robin: among coordinators free at a time, the one with the lowest turn gets the
    call and moves behind everyone else in the department."""

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="coordinators"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coordinator_roles"
    )
    active = models.BooleanField(default=True, help_text="Inactive: offered no new calls.")
    turn = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "user"], name="coordinator_once_per_department"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.department})"


class WeeklyHours(models.Model):
    """Recurring hours, in the department's time zone (so 9:00 stays 9:00 across DST)."""

    coordinator = models.ForeignKey(
        Coordinator, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="weekly_hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="weekly_hours_weekday_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class ExceptionKind(models.TextChoices):
    CLOSED = "closed", "Closed (holiday, day off)"
    EXTRA = "extra", "Extra hours"


class AvailabilityException(models.Model):
    """A date that differs from the weekly hours: closed (a holiday for the whole department,
    or one coordinator's day off, all day or some hours) or extra hours for one coordinator."""

    Kind = ExceptionKind

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    coordinator = models.ForeignKey(
        Coordinator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="exceptions",
        help_text="Empty: the whole department (a holiday).",
    )
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLOSED)
    start_time = models.TimeField(null=True, blank=True, help_text="Empty: the whole day.")
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=100, blank=True, help_text="E.g. Thanksgiving.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ExceptionKind.values), name="exception_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(start_time__isnull=False, end_time__gt=F("start_time")),
                name="exception_times_whole_day_or_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ExceptionKind.EXTRA)
                | Q(coordinator__isnull=False, start_time__isnull=False),
                name="exception_extra_hours_need_coordinator_and_times",
            ),
        ]
        indexes = [models.Index(fields=["department", "date"], name="exception_department_idx")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    def clean(self):
        super().clean()
        if (
            self.coordinator_id
            and self.department_id
            and (self.coordinator.department_id != self.department_id)
        ):
            raise ValidationError(
                {"coordinator": "Choose a coordinator of this department (or none for all)."}
            )

    def hours(self) -> tuple[time, time]:
        return (self.start_time or time.min, self.end_time or time.max)


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    MOVED = "moved", _("Moved to another time")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")


# A booking in these states holds its coordinator's time: nobody else may be booked over it.
HOLDS_TIME = (BookingStatus.BOOKED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
# What a coordinator records after the call.
OUTCOMES = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


class NextStep(models.TextChoices):
    IN_PERSON = "in_person", "In-person appointment"
    VIRTUAL = "virtual", "Virtual visit"
    DOCUMENT_REVIEW = "document_review", "Document review"
    NONE = "none", "None"


class Booking(models.Model):
    """A free informational call a family booked. Moving it makes a new booking (the old one
    is kept as ``moved``), so every time a family held stays on record."""

    Status = BookingStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="bookings")
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    family = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        help_text="The family's account, when they booked signed in.",
    )
    # What the family entered.
    parent_name = models.CharField(max_length=120)
    phone = PhoneNumberField()
    email = models.EmailField()
    child_first_name = models.CharField(max_length=60)
    child_age = models.PositiveSmallIntegerField()
    diagnosis = models.CharField(max_length=200, blank=True)
    current_hospital = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    consent_to_contact = models.BooleanField()
    family_time_zone = models.CharField(max_length=64)
    # The language of the page the family booked on: its e-mails and reminders follow it
    # (a family that booked signed in: its account's language, see ``mail_language``).
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    rescheduled_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rescheduled_to"
    )
    # One calendar event across moves: same UID, growing SEQUENCE, so calendars update it.
    ical_uid = models.CharField(max_length=100, editable=False)
    ical_sequence = models.PositiveSmallIntegerField(default=0, editable=False)
    # Before the call.
    precall_sent_at = models.DateTimeField(null=True, blank=True)
    precall_answers = models.JSONField(default=dict, blank=True)
    precall_answered_at = models.DateTimeField(null=True, blank=True)
    # After the call.
    call_notes = models.TextField(blank=True, help_text="Health history summary.")
    programs_recommended = models.TextField(blank=True)
    next_step = models.CharField(max_length=20, choices=NextStep.choices, blank=True)
    recommended_service = models.ForeignKey(
        ReviewService, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_invited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BookingStatus.values), name="booking_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(consent_to_contact=True), name="booking_has_consent_to_contact"
            ),
            # The database's word on double booking; services also lock (overlaps, buffers).
            models.UniqueConstraint(
                fields=["coordinator", "starts_at"],
                condition=Q(status__in=HOLDS_TIME),
                name="booking_one_call_per_coordinator_time",
            ),
        ]
        indexes = [
            # The reminder sweep asks for booked calls starting soon.
            models.Index(fields=["status", "starts_at"], name="booking_status_start_idx"),
            models.Index(fields=["coordinator", "starts_at"], name="booking_coordinator_idx"),
        ]

    def __str__(self):
        return f"Call {self.starts_at:%Y-%m-%d %H:%M} UTC ({self.department})"

    @property
    def department_zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.department.time_zone)

    @property
    def family_zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.family_time_zone)

    @property
    def mail_language(self) -> str:
        """The language of e-mails about this call: the account's (a family that switched
        since keeps reading its own language), else the page's it booked on."""
        return self.family.language if self.family_id else self.language

    @property
    def family_time(self) -> datetime:
        """When the call starts on the family's clock (no zone: for templates)."""
        return wall_clock(self.starts_at, self.family_zone)

    @property
    def department_time(self) -> datetime:
        return wall_clock(self.starts_at, self.department_zone)


class ReminderKind(models.TextChoices):
    DAY_BEFORE = "day_before", "The day before"
    HOUR_BEFORE = "hour_before", "One hour before"


class Reminder(models.Model):
    """A reminder that was sent: one row per booking and kind, so each is sent once."""

    Kind = ReminderKind

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["booking", "kind"], name="reminder_once_per_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder"


class AppointmentLocation(models.Model):
    """Where in-person visits happen, with the practical notes families are sent."""

    name = models.CharField(max_length=120, unique=True)
    address = models.TextField()
    lodging = models.TextField(blank=True)
    transport = models.TextField(blank=True)
    parking = models.TextField(blank=True)
    food = models.TextField(blank=True)

    def __str__(self):
        return self.name


class AppointmentKind(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIRTUAL = "virtual", _("Virtual (video)")


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


# Every legal change of an appointment, in one place: a scheduled visit may be moved (it stays
# scheduled, at its new time or place) or cancelled; a cancelled one changes no more.
APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.SCHEDULED: frozenset(
        {AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED}
    ),
    AppointmentStatus.CANCELLED: frozenset(),
}


class Appointment(models.Model):
    """A second-opinion visit a coordinator sets up, in person or by video, and what has been
    done to prepare it."""

    Kind = AppointmentKind
    Status = AppointmentStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    booking = models.ForeignKey(
        Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="appointments"
    )
    family = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="appointments",
    )
    parent_name = models.CharField(max_length=120)
    email = models.EmailField()
    child_first_name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    provider = models.CharField(max_length=120, help_text="Who the family will see.")
    location = models.ForeignKey(
        AppointmentLocation, on_delete=models.PROTECT, null=True, blank=True
    )
    video_link = models.URLField(blank=True)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    # The coordination checklist.
    records_requested = models.BooleanField(default=False)
    payment_discussed = models.BooleanField(
        default=False, verbose_name="insurance or self-pay discussed"
    )
    tests_before_visit = models.BooleanField(
        default=False, verbose_name="procedures and tests before the visit arranged"
    )
    logistics_sent = models.BooleanField(
        default=False, verbose_name="logistics sent (lodging, transport, parking, food)"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    cancellation_reason = models.TextField(
        blank=True, help_text="For the team only: never in the family's e-mail."
    )
    # One calendar event across moves: the same UID (from public_id), a growing SEQUENCE.
    ical_sequence = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AppointmentKind.values), name="appointment_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AppointmentStatus.values), name="appointment_status_valid"
            ),
            # A cancellation always says when, by whom and why; a scheduled visit has none.
            models.CheckConstraint(
                condition=Q(
                    status=AppointmentStatus.SCHEDULED,
                    cancelled_at__isnull=True,
                    cancelled_by__isnull=True,
                    cancellation_reason="",
                )
                | (
                    Q(
                        status=AppointmentStatus.CANCELLED,
                        cancelled_at__isnull=False,
                        cancelled_by__isnull=False,
                    )
                    & ~Q(cancellation_reason="")
                ),
                name="appointment_cancelled_when_by_whom_and_why",
            ),
            models.CheckConstraint(
                condition=Q(kind=AppointmentKind.IN_PERSON, location__isnull=False)
                | (Q(kind=AppointmentKind.VIRTUAL) & ~Q(video_link="")),
                name="appointment_has_place_or_link",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5), name="appointment_duration_positive"
            ),
        ]
        indexes = [models.Index(fields=["family", "starts_at"], name="appointment_family_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} visit {self.starts_at:%Y-%m-%d} ({self.department})"

    def clean(self):
        super().clean()
        if (
            self.booking_id
            and self.department_id
            and (self.booking.department_id != self.department_id)
        ):
            raise ValidationError({"booking": "This call was with another department."})

    @property
    def mail_language(self) -> str:
        """The family's language: its account's, else that of the call it booked."""
        if self.family_id:
            return self.family.language
        return self.booking.mail_language if self.booking_id else settings.LANGUAGE_CODE

    @property
    def location_notes(self) -> list[tuple[str, str]]:
        """What to know before an in-person visit, from the location's notes."""
        if self.location is None:
            return []
        notes = (
            (_("Lodging"), self.location.lodging),
            (_("Getting here"), self.location.transport),
            (_("Parking"), self.location.parking),
            (_("Food"), self.location.food),
        )
        return [(label, text) for label, text in notes if text]

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)


class AppointmentChangeKind(models.TextChoices):
    MOVED = "moved", "Moved"
    CANCELLED = "cancelled", _("Cancelled")


class AppointmentChange(models.Model):
    """What a coordinator changed on an appointment after it was set up: who, when, and the
    time and place before and after (a cancellation's reason stays on the appointment).
    Appended by the services, never edited."""

    Kind = AppointmentChangeKind

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # {"starts_at": ISO 8601, "place": the location's name or the video link}
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=AppointmentChangeKind.values),
                name="appointment_change_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["appointment", "created_at"], name="appointment_change_idx")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M} UTC"
