"""Every write of appointments: setting one up, its checklist, moving and cancelling it.

A move or a cancellation locks the appointment's row, checks ``APPOINTMENT_TRANSITIONS``,
appends an ``AppointmentChange`` and e-mails the family the calendar event again (same UID,
higher SEQUENCE), all in one transaction. E-mails name the department, the time and where to
look, never the child, the diagnosis or the reason for a cancellation.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Role, User
from notifications.services import message_queue
from scheduling import calendar
from scheduling.models import (
    APPOINTMENT_TRANSITIONS,
    Appointment,
    AppointmentChange,
    AppointmentLocation,
    wall_clock,
)


class AppointmentRefused(Exception):
    """The appointment cannot change this way. The message is for the coordinator."""


@transaction.atomic
def appointment_create(*, actor: User, **fields) -> Appointment:
    """Set up an in-person or virtual visit; the family is e-mailed its calendar invite, and
    sees it on its account page when it has one (the booking's, or one with that address)."""
    appointment = Appointment(created_by=actor, **fields)
    if appointment.family is None:
        # Only the account of this e-mail address: a mistyped booking never shows the visit
        # to another family.
        booking = appointment.booking
        same_family = (
            booking and booking.family and booking.email.lower() == appointment.email.lower()
        )
        appointment.family = (
            booking.family
            if same_family
            else User.objects.filter(email__iexact=appointment.email, role=Role.FAMILY).first()
        )
    appointment.full_clean()
    appointment.save()
    _tell_family(appointment, "appointment_scheduled")
    return appointment


@transaction.atomic
def appointment_update_checklist(
    *, appointment: Appointment, actor: User, **checklist
) -> Appointment:
    """Tick or untick the coordination checklist."""
    for name, value in checklist.items():
        setattr(appointment, name, value)
    appointment.save(update_fields=list(checklist))
    return appointment


@transaction.atomic
def appointment_move(
    *,
    appointment: Appointment,
    starts_at: datetime,
    actor: User,
    location: AppointmentLocation | None = None,
    video_link: str | None = None,
) -> Appointment:
    """Give a scheduled visit a new time, and a new place (in person) or video link
    (virtual); ``None`` keeps the current one. Refused for a cancelled visit, a time that has
    passed and a move that changes nothing. The family gets the updated invite: the same
    event, a higher SEQUENCE."""
    appointment = _locked(appointment)
    _check_transition(appointment, Appointment.Status.SCHEDULED)
    if starts_at <= timezone.now():
        raise AppointmentRefused(
            "That time has already passed. Enter a time in the future "
            f"(in the hospital's time zone, {settings.TIME_ZONE})."
        )
    before = _time_and_place(appointment)
    appointment.starts_at = starts_at
    if appointment.kind == Appointment.Kind.IN_PERSON:
        appointment.location = location or appointment.location
    else:
        appointment.video_link = (video_link or appointment.video_link).strip()
    after = _time_and_place(appointment)
    if after == before:
        raise AppointmentRefused("That is the visit's current time and place: nothing changed.")
    appointment.ical_sequence += 1
    appointment.save(update_fields=["starts_at", "location", "video_link", "ical_sequence"])
    AppointmentChange.objects.create(
        appointment=appointment,
        kind=AppointmentChange.Kind.MOVED,
        actor=actor,
        before=before,
        after=after,
    )
    previous = datetime.fromisoformat(before["starts_at"])
    _tell_family(appointment, "appointment_moved", previous_time=_local(appointment, previous))
    return appointment


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, reason: str, actor: User) -> Appointment:
    """Cancel a scheduled visit that has not started, keeping the reason on the appointment
    (for the team: the family's e-mail does not carry it). The family gets the calendar's
    cancellation of the same event, with a higher SEQUENCE."""
    appointment = _locked(appointment)
    _check_transition(appointment, Appointment.Status.CANCELLED)
    reason = reason.strip()
    if not reason:
        raise AppointmentRefused("Say why the visit is cancelled (the family is not told).")
    now = timezone.now()
    if appointment.starts_at <= now:
        raise AppointmentRefused(
            "This visit's time has come, so it can no longer be cancelled. Move it to a new "
            "time if it did not take place."
        )
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = actor
    appointment.cancellation_reason = reason
    appointment.ical_sequence += 1
    appointment.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancellation_reason",
            "ical_sequence",
        ]
    )
    AppointmentChange.objects.create(
        appointment=appointment,
        kind=AppointmentChange.Kind.CANCELLED,
        actor=actor,
        before=_time_and_place(appointment),
    )
    _tell_family(appointment, "appointment_cancelled")
    return appointment


def _locked(appointment: Appointment) -> Appointment:
    """The appointment read again with only its own row locked (PostgreSQL cannot lock the
    nullable side of an outer join, such as the location)."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("department", "location")
        .get(pk=appointment.pk)
    )


def _check_transition(appointment: Appointment, to_status: str) -> None:
    if to_status not in APPOINTMENT_TRANSITIONS[Appointment.Status(appointment.status)]:
        raise AppointmentRefused(
            f"This visit is {appointment.get_status_display().lower()}: it can no longer be "
            "moved or cancelled. Set up a new appointment instead."
        )


def _time_and_place(appointment: Appointment) -> dict:
    place = appointment.location.name if appointment.location else appointment.video_link
    return {"starts_at": appointment.starts_at.isoformat(), "place": place}


def _local(appointment: Appointment, instant: datetime) -> datetime:
    return wall_clock(instant, ZoneInfo(appointment.department.time_zone))


def _tell_family(appointment: Appointment, template: str, **context) -> None:
    """The family's e-mail: the department, the time and where to look; the invite attached;
    both in the family's language."""
    language = appointment.mail_language
    with translation.override(language):
        invite = calendar.appointment_invite(appointment)
    message_queue(
        to=appointment.email,
        language=language,
        template=template,
        context={
            "appointment": appointment,
            "department": appointment.department,
            "local_time": _local(appointment, appointment.starts_at),
            "my_calls_url": settings.SITE_URL + reverse("scheduling:my_calls"),
            **context,
        },
        attachments=[calendar.attachment(invite, "appointment.ics")],
    )
