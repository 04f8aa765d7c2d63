"""Calendar invites (RFC 5545) for calls and appointments, written with icalendar.

An invite names the department and the time, never the child or the reason for the call:
it travels by e-mail and ends up in shared calendars. A moved call keeps its UID and raises
its SEQUENCE, so calendar programs update the event instead of adding a second one.
"""

import uuid
from datetime import timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from intake.models.catalogue import localized
from scheduling.models import Appointment, Booking

MIMETYPE = "text/calendar"
ALARM_BEFORE = timedelta(minutes=30)


def booking_invite(
    booking: Booking, *, attendee_email: str, attendee_name: str, cancelled: bool = False
) -> str:
    department = booking.department
    name = localized(department, "name")
    if cancelled:
        description = _("This call was cancelled.")
    else:
        description = _(
            "A free informational call with the %(name)s second-opinion team of %(hospital)s. "
            "We call you at the number you gave. To change or cancel it, use the links in your "
            "confirmation e-mail or call %(phone)s."
        ) % {"name": name, "hospital": settings.HOSPITAL_NAME, "phone": department.phone}
    event = _event(
        uid=booking.ical_uid,
        sequence=booking.ical_sequence,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        zone=booking.department_zone,
        summary=_("Informational call · %(name)s, %(hospital)s")
        % {"name": name, "hospital": settings.HOSPITAL_NAME},
        description=description,
        location=_("Phone call"),
        cancelled=cancelled,
    )
    event.add("attendee", _address(attendee_email, attendee_name, role="REQ-PARTICIPANT"))
    return _calendar(event, cancelled=cancelled)


def appointment_invite(appointment: Appointment) -> str:
    """The appointment as it is now: moved ones carry a higher SEQUENCE than every invite
    before, and a cancelled one is a CANCEL of the same event."""
    cancelled = appointment.status == Appointment.Status.CANCELLED
    where = (
        f"{appointment.location.name}, {appointment.location.address}"
        if appointment.location
        else appointment.video_link
    )
    event = _event(
        uid=appointment_uid(appointment),
        sequence=appointment.ical_sequence,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        zone=ZoneInfo(appointment.department.time_zone),
        summary=(
            f"{appointment.get_kind_display()} second-opinion visit · "
            f"{appointment.department.name}, {settings.HOSPITAL_NAME}"
        ),
        description=(
            f"{'This visit was cancelled' if cancelled else f'With {appointment.provider}'}. "
            f"Questions: call {appointment.department.phone}."
        ),
        location=where,
        cancelled=cancelled,
    )
    event.add(
        "attendee",
        _address(appointment.email, appointment.parent_name, role="REQ-PARTICIPANT"),
    )
    if appointment.video_link and not cancelled:
        event.add("url", appointment.video_link)
    return _calendar(event, cancelled=cancelled)


def _event(
    *, uid, sequence, starts_at, ends_at, zone, summary, description, location, cancelled
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", starts_at.astimezone(zone))
    event.add("dtend", ends_at.astimezone(zone))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add(
        "organizer", _address(_organizer_email(), f"{settings.HOSPITAL_NAME} second opinions")
    )
    if not cancelled:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    return event


def _calendar(event: Event, *, cancelled: bool) -> str:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.HOSPITAL_NAME}//Second opinions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    calendar.add_component(event)
    calendar.add_missing_timezones()  # a VTIMEZONE for the TZID the times are written in
    return calendar.to_ical().decode()


def _address(email: str, name: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    if role:
        address.params["role"] = vText(role)
    return address


def _organizer_email() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "second-opinions@localhost"


def _domain() -> str:
    return _organizer_email().rpartition("@")[2] or "localhost"


def booking_uid() -> str:
    return f"call-{uuid.uuid4()}@{_domain()}"


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.public_id}@{_domain()}"


def attachment(content: str, filename: str) -> dict:
    """An invite as an outbox attachment."""
    return {"filename": filename, "content": content, "mimetype": MIMETYPE}
