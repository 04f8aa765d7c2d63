"""Every write of informational calls (and, from ``services.appointments``, of
appointments: every name is reached as ``scheduling.services.<name>``)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import language_or_default
from intake.models import Department, ReviewService
from intake.models.catalogue import localized
from notifications.services import message_queue
from scheduling import calendar
from scheduling.links import booking_url
from scheduling.models import (
    OUTCOMES,
    Booking,
    Coordinator,
    NextStep,
    Reminder,
)
from scheduling.services.appointments import (
    AppointmentRefused,
    appointment_cancel,
    appointment_create,
    appointment_move,
    appointment_update_checklist,
)
from scheduling.slots import booking_window, slot_at

__all__ = [
    "AppointmentRefused",
    "BookingRefused",
    "SlotTaken",
    "appointment_cancel",
    "appointment_create",
    "appointment_move",
    "appointment_update_checklist",
    "booking_cancel",
    "booking_create",
    "booking_invite_to_review",
    "booking_precall_answer",
    "booking_precall_send",
    "booking_record_outcome",
    "booking_reschedule",
    "check_can_change",
    "check_can_move",
    "reminder_send",
    "reminders_send_due",
]

FAMILY_FIELDS = (
    "parent_name",
    "phone",
    "email",
    "child_first_name",
    "child_age",
    "diagnosis",
    "current_hospital",
    "reason",
    "consent_to_contact",
)
# Kept when a call moves: the form sent before it and the family's answers.
PRECALL_FIELDS = ("precall_sent_at", "precall_answers", "precall_answered_at")
REMINDER_LEADS = {
    Reminder.Kind.DAY_BEFORE: timedelta(hours=24),
    Reminder.Kind.HOUR_BEFORE: timedelta(hours=1),
}
REMINDER_BATCH = 200


class BookingRefused(Exception):
    """The time cannot be booked (or the booking cannot change). The message is written for
    the family: it says what happened and what to do instead."""


class SlotTaken(BookingRefused):
    """Someone else got the time first."""


def _refusal(department: Department, starts_at: datetime, now: datetime) -> BookingRefused:
    earliest, latest = booking_window(department, now)
    if starts_at <= now:
        return BookingRefused(_("That time has already passed. Please pick another time."))
    if starts_at < earliest:
        return BookingRefused(
            _(
                "Calls are booked at least %(hours)s hours ahead. Please pick a later time, "
                "or call %(name)s at %(phone)s."
            )
            % {
                "hours": department.minimum_notice_hours,
                "name": localized(department, "name"),
                "phone": department.phone,
            }
        )
    if starts_at > latest:
        return BookingRefused(
            _("Calls can be booked up to %(days)s days ahead. Please pick an earlier time.")
            % {"days": department.booking_horizon_days}
        )
    return SlotTaken(_("Sorry, that time was just taken. Please pick another time."))


def _lock_coordinators(department: Department) -> list[Coordinator]:
    """Lock every coordinator row of the people who take this department's calls, in any
    department, in primary-key order: two bookings that could give the same person two calls
    at once wait for each other, and never deadlock."""
    users = Coordinator.objects.filter(department=department, active=True).values("user")
    return list(Coordinator.objects.select_for_update().filter(user__in=users).order_by("pk"))


def _book(
    *,
    department: Department,
    starts_at: datetime,
    fields: dict,
    prefer_user_id: int | None = None,
    moving: Booking | None = None,
) -> Booking:
    """Inside a transaction: pick a free coordinator (round-robin, or ``prefer_user_id``
    when free) and create the booking. Raises BookingRefused."""
    locked = _lock_coordinators(department)
    # The clock is read once the locks are held: a booking that waited for them is checked
    # against the notice and horizon of the moment it is actually made.
    now = timezone.now()
    slot = slot_at(
        department=department,
        starts_at=starts_at,
        now=now,
        ignore_booking_id=moving.pk if moving else None,
    )
    if slot is None:
        raise _refusal(department, starts_at, now)
    free = [
        c for c in locked if c.department_id == department.pk and c.user_id in slot.coordinator_ids
    ]
    preferred = [c for c in free if c.user_id == prefer_user_id]
    chosen = (preferred or sorted(free, key=lambda c: (c.turn, c.pk)))[0]
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                department=department,
                coordinator_id=chosen.user_id,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                created_at=now,
                **fields,
            )
    except IntegrityError as error:
        # Only where the row locks do not reach (SQLite): the unique constraint decides.
        raise SlotTaken(_("Sorry, that time was just taken. Please pick another time.")) from error
    if moving is None or moving.coordinator_id != chosen.user_id:
        # A new call (or one handed to someone else) moves its coordinator to the back.
        last_turn = max(c.turn for c in locked if c.department_id == department.pk)
        Coordinator.objects.filter(pk=chosen.pk).update(turn=last_turn + 1)
    return booking


@transaction.atomic
def booking_create(
    *,
    department: Department,
    starts_at: datetime,
    details: dict,
    family_time_zone: str,
    family: User | None = None,
    language: str | None = None,
) -> Booking:
    """Book a free informational call. Two families never hold the same coordinator's time:
    the coordinators' rows are locked while the slot is checked again, and the database
    refuses a second call at the same start. Sends the confirmation (with a calendar invite
    and links to move or cancel) to the family, in ``language`` (default: the page's), and
    an invite to the coordinator."""
    fields = {name: details.get(name, "") for name in FAMILY_FIELDS}
    fields |= {
        "family_time_zone": family_time_zone,
        "language": language_or_default(language or translation.get_language()),
        "family": family if family is not None and family.role == Role.FAMILY else None,
        "ical_uid": calendar.booking_uid(),
    }
    booking = _book(department=department, starts_at=starts_at, fields=fields)
    _announce(booking, "call_booked")
    _tell_coordinator(booking, "call_booked_coordinator")
    return booking


@transaction.atomic
def booking_reschedule(*, booking: Booking, starts_at: datetime) -> Booking:
    """Move a booked call to another open time: a new booking (same calendar event, next
    sequence) and the old one marked moved. Refused inside the minimum notice: the family is
    asked to call the department, as the coordinator may already be preparing."""
    now = timezone.now()
    old = _locked(booking)
    department = old.department
    check_can_move(booking=old, now=now)
    # The new time (or the old coordinator's cancellation) must outrank the last invite of
    # this calendar event: a higher SEQUENCE.
    old.ical_sequence += 1
    Booking.objects.filter(pk=old.pk).update(
        status=Booking.Status.MOVED, ical_sequence=old.ical_sequence
    )
    fields = {name: getattr(old, name) for name in (*FAMILY_FIELDS, *PRECALL_FIELDS)}
    fields |= {
        "language": old.language,
        "family_time_zone": old.family_time_zone,
        "family": old.family,
        "rescheduled_from": old,
        "ical_uid": old.ical_uid,
        "ical_sequence": old.ical_sequence,
    }
    new = _book(
        department=department,
        starts_at=starts_at,
        fields=fields,
        prefer_user_id=old.coordinator_id,
        moving=old,
    )
    _announce(new, "call_moved")
    if new.coordinator_id != old.coordinator_id:
        _tell_coordinator(old, "call_cancelled_coordinator", cancelled=True)
    _tell_coordinator(new, "call_booked_coordinator")
    return new


@transaction.atomic
def booking_cancel(*, booking: Booking, actor: User | None = None) -> Booking:
    """Cancel a booked call (the family by its link, or a coordinator); frees the time and
    sends both sides a calendar cancellation. Allowed until the call starts."""
    now = timezone.now()
    booking = _locked(booking)
    check_can_change(booking=booking, now=now)
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_at = now
    booking.ical_sequence += 1
    booking.save(update_fields=["status", "cancelled_at", "ical_sequence"])
    _announce(booking, "call_cancelled", cancelled=True)
    _tell_coordinator(booking, "call_cancelled_coordinator", cancelled=True)
    return booking


def _locked(booking: Booking, *related: str) -> Booking:
    """The booking read again with its row locked (only its row: PostgreSQL cannot lock the
    nullable side of an outer join, such as the recommended service)."""
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("department", *related)
        .get(pk=booking.pk)
    )


def check_can_move(*, booking: Booking, now: datetime) -> None:
    """Raise BookingRefused unless the family may still move the call online."""
    check_can_change(booking=booking, now=now)
    department = booking.department
    if booking.starts_at - now < timedelta(hours=department.minimum_notice_hours):
        raise BookingRefused(
            _(
                "Your call is less than %(hours)s hours away, so it can no longer be moved "
                "online. Please call %(name)s at %(phone)s."
            )
            % {
                "hours": department.minimum_notice_hours,
                "name": localized(department, "name"),
                "phone": department.phone,
            }
        )


def check_can_change(*, booking: Booking, now: datetime) -> None:
    """Raise BookingRefused unless the call is still booked and has not started."""
    if booking.status == Booking.Status.CANCELLED:
        raise BookingRefused(_("This call was already cancelled."))
    if booking.status == Booking.Status.MOVED:
        raise BookingRefused(
            _("This call was moved to another time. Please use the links in the newest e-mail.")
        )
    if booking.status != Booking.Status.BOOKED or booking.starts_at <= now:
        raise BookingRefused(
            _("This call has already taken place. To talk to us again, call %(name)s at %(phone)s.")
            % {"name": localized(booking.department, "name"), "phone": booking.department.phone}
        )


def _times(booking: Booking) -> dict:
    """The call's time for e-mails, in the family's zone and the department's."""
    return {
        "family_time": booking.family_time,
        "family_zone": booking.family_time_zone,
        "department_time": booking.department_time,
        "department_zone": booking.department.time_zone,
        "workspace_url": settings.SITE_URL
        + reverse("admin:scheduling_booking_change", args=[booking.pk]),
        "book_url": settings.SITE_URL + reverse("scheduling:slots", args=[booking.department.slug]),
    }


def _announce(booking: Booking, template: str, *, cancelled: bool = False) -> None:
    """The family's e-mail: department, time and links only, plus the calendar invite."""
    context = {"booking": booking, "department": booking.department, **_times(booking)}
    if not cancelled:
        context |= {
            "reschedule_url": booking_url(booking, "reschedule"),
            "cancel_url": booking_url(booking, "cancel"),
        }
    language = booking.mail_language
    with translation.override(language):
        invite = calendar.booking_invite(
            booking,
            attendee_email=booking.email,
            attendee_name=booking.parent_name,
            cancelled=cancelled,
        )
    message_queue(
        to=booking.email,
        template=template,
        context=context,
        attachments=[_ics(invite)],
        language=language,
    )


def _tell_coordinator(booking: Booking, template: str, *, cancelled: bool = False) -> None:
    coordinator = booking.coordinator
    with translation.override(settings.LANGUAGE_CODE):
        invite = calendar.booking_invite(
            booking,
            attendee_email=coordinator.email,
            attendee_name=coordinator.full_name or coordinator.email,
            cancelled=cancelled,
        )
    message_queue(
        to=coordinator.email,
        template=template,
        context={"booking": booking, "department": booking.department, **_times(booking)},
        attachments=[_ics(invite)],
    )


def _ics(content: str) -> dict:
    return calendar.attachment(content, "invite.ics")


# --- Reminders ------------------------------------------------------------------------------


def reminders_send_due(*, now: datetime | None = None) -> int:
    """Send the reminders that are due: the day before and an hour before each booked call.
    State-based and safe to run at any time, twice, or after an outage: each reminder is a
    unique row written with its e-mail, so it is sent once; a day-before reminder that is no
    longer useful (the call is within the hour, or was booked within the day) is skipped.
    Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for kind, lead in REMINDER_LEADS.items():
        due = Booking.objects.filter(
            status=Booking.Status.BOOKED, starts_at__gt=now, starts_at__lte=now + lead
        ).exclude(reminders__kind=kind)
        if kind == Reminder.Kind.DAY_BEFORE:
            hour = REMINDER_LEADS[Reminder.Kind.HOUR_BEFORE]
            # Not for a call booked within the day, nor once the hour-before one is due.
            due = due.filter(starts_at__gt=now + hour, created_at__lte=F("starts_at") - lead)
        for booking_id in list(
            due.order_by("starts_at").values_list("pk", flat=True)[:REMINDER_BATCH]
        ):
            sent += reminder_send(booking_id=booking_id, kind=kind)
    return sent


@transaction.atomic
def reminder_send(*, booking_id: int, kind: str) -> bool:
    """Send one reminder unless it was sent already or the call is no longer booked."""
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("department")
        .filter(pk=booking_id, status=Booking.Status.BOOKED)
        .first()
    )
    if booking is None:
        return False
    try:
        with transaction.atomic():
            Reminder.objects.create(booking=booking, kind=kind)
    except IntegrityError:
        return False
    message_queue(
        to=booking.email,
        template="call_reminder",
        language=booking.mail_language,
        context={
            "booking": booking,
            "department": booking.department,
            "kind": kind,
            "reschedule_url": booking_url(booking, "reschedule"),
            "cancel_url": booking_url(booking, "cancel"),
            **_times(booking),
        },
    )
    return True


# --- Before and after the call -----------------------------------------------------------------


@transaction.atomic
def booking_precall_send(*, booking: Booking, actor: User) -> Booking:
    """E-mail the family a link to the short pre-call form."""
    booking = _locked(booking)
    check_can_change(booking=booking, now=timezone.now())
    booking.precall_sent_at = timezone.now()
    booking.save(update_fields=["precall_sent_at"])
    message_queue(
        to=booking.email,
        template="call_precall",
        language=booking.mail_language,
        context={
            "department": booking.department,
            "precall_url": booking_url(booking, "precall"),
            **_times(booking),
        },
    )
    return booking


@transaction.atomic
def booking_precall_answer(*, booking: Booking, answers: dict) -> Booking:
    """Keep the family's answers to the pre-call form (they may send it again until the call)."""
    booking = _locked(booking)
    check_can_change(booking=booking, now=timezone.now())
    booking.precall_answers = answers
    booking.precall_answered_at = timezone.now()
    booking.save(update_fields=["precall_answers", "precall_answered_at"])
    return booking


@transaction.atomic
def booking_record_outcome(
    *,
    booking: Booking,
    outcome: str,
    call_notes: str,
    programs_recommended: str,
    next_step: str,
    recommended_service: ReviewService | None,
    actor: User,
) -> Booking:
    """Record how the call went, once its time has come (and correct it later if needed)."""
    booking = _locked(booking)
    if outcome not in OUTCOMES:
        raise BookingRefused("Choose completed or no-show.")
    if booking.status not in (Booking.Status.BOOKED, *OUTCOMES):
        raise BookingRefused(f"A {booking.get_status_display().lower()} call has no outcome.")
    if booking.starts_at > timezone.now():
        raise BookingRefused("The call has not started yet.")
    if next_step == NextStep.DOCUMENT_REVIEW and recommended_service is None:
        raise BookingRefused("Choose the document review you recommend.")
    booking.status = outcome
    booking.call_notes = call_notes
    booking.programs_recommended = programs_recommended
    booking.next_step = next_step
    booking.recommended_service = (
        recommended_service if next_step == NextStep.DOCUMENT_REVIEW else None
    )
    booking.outcome_recorded_at = timezone.now()
    booking.outcome_recorded_by = actor
    booking.save(
        update_fields=[
            "status",
            "call_notes",
            "programs_recommended",
            "next_step",
            "recommended_service",
            "outcome_recorded_at",
            "outcome_recorded_by",
        ]
    )
    return booking


@transaction.atomic
def booking_invite_to_review(*, booking: Booking, actor: User) -> Booking:
    """E-mail the family an invitation to start the document review recommended on the call."""
    booking = _locked(booking, "recommended_service")
    service = booking.recommended_service
    if (
        booking.status != Booking.Status.COMPLETED
        or booking.next_step != NextStep.DOCUMENT_REVIEW
        or service is None
    ):
        raise BookingRefused("Record the call as completed with a recommended review first.")
    if booking.review_invited_at is not None:
        raise BookingRefused("The family was already invited.")
    booking.review_invited_at = timezone.now()
    booking.save(update_fields=["review_invited_at"])
    message_queue(
        to=booking.email,
        template="call_review_invitation",
        language=booking.mail_language,
        context={
            "department": booking.department,
            "service": service,
            "service_url": settings.SITE_URL
            + reverse("intake:service_detail", args=[service.slug]),
        },
    )
    return booking
