"""Moving and cancelling an appointment after it was set up: the services, the admin pages,
the family's e-mails with their calendar invites, and the family's page. The clock is Monday
16 November 2026, 8:00 in New York; the visit is on Wednesday 2 December at 10:00."""

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse

from notifications.models import Message
from scheduling.models import (
    APPOINTMENT_TRANSITIONS,
    Appointment,
    AppointmentChange,
    AppointmentLocation,
    AppointmentStatus,
)
from scheduling.services import (
    AppointmentRefused,
    appointment_cancel,
    appointment_create,
    appointment_move,
)
from tests.conftest import sign_in
from tests.scheduling.conftest import NOW, ny

pytestmark = pytest.mark.django_db

FIRST_TIME = ny(2026, 12, 2, 10)
NEW_TIME = ny(2026, 12, 9, 14, 30)
ROOM = "https://video.example.org/room-1"
NEW_ROOM = "https://video.example.org/room-2"
REASON = "Dr. Chen is away; the family asked to wait for the MRI of Alex"


@pytest.fixture
def main_campus(db):
    return AppointmentLocation.objects.create(
        name="Main campus", address="1 Main St", parking="Deck 2"
    )


@pytest.fixture
def north_clinic(db):
    return AppointmentLocation.objects.create(name="North clinic", address="9 North Ave")


def set_up(booking, coordinator, **fields):
    return appointment_create(
        actor=coordinator,
        booking=booking,
        department=booking.department,
        parent_name=booking.parent_name,
        email=booking.email,
        child_first_name=booking.child_first_name,
        provider="Dr. Avery Chen",
        starts_at=FIRST_TIME,
        **fields,
    )


@pytest.fixture
def virtual(booking, coordinator, family):
    """A virtual visit of the family (its account has the booking's address)."""
    family.email = booking.email
    family.save(update_fields=["email"])
    return set_up(booking, coordinator, kind="virtual", video_link=ROOM)


@pytest.fixture
def in_person(booking, coordinator, main_campus):
    return set_up(booking, coordinator, kind="in_person", location=main_campus)


def invite(message):
    calendar = icalendar.Calendar.from_ical(message.attachments[0]["content"])
    return calendar, calendar.walk("VEVENT")[0]


def mails(template):
    return list(Message.objects.filter(template=template).order_by("pk"))


# --- The services ------------------------------------------------------------------------------


def test_moving_a_virtual_visit_changes_its_time_and_link_and_records_what_changed(
    virtual, coordinator
):
    moved = appointment_move(
        appointment=virtual, starts_at=NEW_TIME, video_link=NEW_ROOM, actor=coordinator
    )

    virtual.refresh_from_db()
    assert (virtual.starts_at, virtual.video_link, virtual.status) == (
        NEW_TIME,
        NEW_ROOM,
        AppointmentStatus.SCHEDULED,
    )
    assert moved.ical_sequence == virtual.ical_sequence == 1
    change = AppointmentChange.objects.get()
    assert (change.kind, change.actor) == (AppointmentChange.Kind.MOVED, coordinator)
    assert change.before == {"starts_at": FIRST_TIME.isoformat(), "place": ROOM}
    assert change.after == {"starts_at": NEW_TIME.isoformat(), "place": NEW_ROOM}


def test_moving_an_in_person_visit_can_change_its_location(in_person, coordinator, north_clinic):
    appointment_move(
        appointment=in_person, starts_at=FIRST_TIME, location=north_clinic, actor=coordinator
    )

    in_person.refresh_from_db()
    assert (in_person.starts_at, in_person.location) == (FIRST_TIME, north_clinic)
    assert AppointmentChange.objects.get().after["place"] == "North clinic"


@pytest.mark.parametrize("when", [NOW - timedelta(minutes=1), NOW], ids=["past", "now"])
def test_moving_to_a_time_that_has_passed_is_refused_and_changes_nothing(
    virtual, coordinator, when
):
    with pytest.raises(AppointmentRefused, match="already passed"):
        appointment_move(appointment=virtual, starts_at=when, actor=coordinator)

    virtual.refresh_from_db()
    assert (virtual.starts_at, virtual.ical_sequence) == (FIRST_TIME, 0)
    assert not AppointmentChange.objects.exists()
    assert not mails("appointment_moved")


def test_a_move_that_changes_nothing_is_refused(virtual, coordinator):
    with pytest.raises(AppointmentRefused, match="nothing changed"):
        appointment_move(
            appointment=virtual, starts_at=FIRST_TIME, video_link=ROOM, actor=coordinator
        )

    assert not mails("appointment_moved")


def test_cancelling_keeps_the_reason_who_and_when_on_the_appointment(virtual, coordinator):
    appointment_cancel(appointment=virtual, reason=f"  {REASON} ", actor=coordinator)

    virtual.refresh_from_db()
    assert virtual.status == AppointmentStatus.CANCELLED
    assert (virtual.cancelled_at, virtual.cancelled_by) == (NOW, coordinator)
    assert virtual.cancellation_reason == REASON
    assert virtual.ical_sequence == 1
    change = AppointmentChange.objects.get()
    assert change.kind == AppointmentChange.Kind.CANCELLED
    assert change.before == {"starts_at": FIRST_TIME.isoformat(), "place": ROOM}


def test_a_cancellation_needs_a_reason(virtual, coordinator):
    with pytest.raises(AppointmentRefused, match="Say why"):
        appointment_cancel(appointment=virtual, reason="   ", actor=coordinator)

    virtual.refresh_from_db()
    assert virtual.status == AppointmentStatus.SCHEDULED


def test_a_cancelled_visit_can_be_neither_moved_nor_cancelled_again(virtual, coordinator):
    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)

    with pytest.raises(AppointmentRefused, match="cancelled: it can no longer be moved"):
        appointment_move(appointment=virtual, starts_at=NEW_TIME, actor=coordinator)
    with pytest.raises(AppointmentRefused, match="cancelled: it can no longer be moved"):
        appointment_cancel(appointment=virtual, reason="Again", actor=coordinator)

    virtual.refresh_from_db()
    assert (virtual.starts_at, virtual.ical_sequence) == (FIRST_TIME, 1)
    assert AppointmentChange.objects.count() == 1
    assert len(mails("appointment_cancelled")) == 1


def test_a_visit_whose_time_has_come_cannot_be_cancelled_but_can_be_moved(virtual, coordinator):
    with time_machine.travel(FIRST_TIME + timedelta(minutes=5), tick=False):
        with pytest.raises(AppointmentRefused, match="can no longer be cancelled"):
            appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)
        appointment_move(appointment=virtual, starts_at=NEW_TIME, actor=coordinator)

    virtual.refresh_from_db()
    assert (virtual.status, virtual.starts_at) == (AppointmentStatus.SCHEDULED, NEW_TIME)


def test_the_transition_table_names_every_status_and_lets_nothing_leave_cancelled():
    assert set(APPOINTMENT_TRANSITIONS) == set(AppointmentStatus)
    assert APPOINTMENT_TRANSITIONS[AppointmentStatus.CANCELLED] == frozenset()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "cancelled"},  # no when, who or why
        {"status": "cancelled", "cancelled_at": NOW, "cancellation_reason": "x"},  # no who
        {"cancelled_at": NOW},  # scheduled, yet stamped cancelled
        {"cancellation_reason": "Left over"},
    ],
)
def test_the_database_keeps_cancellations_complete(virtual, changes):
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.filter(pk=virtual.pk).update(**changes)


# --- The family's e-mails --------------------------------------------------------------------


def test_a_moved_visit_updates_the_same_calendar_event_with_a_higher_sequence(virtual, coordinator):
    first_calendar, first = invite(mails("appointment_scheduled")[0])

    appointment_move(
        appointment=virtual, starts_at=NEW_TIME, video_link=NEW_ROOM, actor=coordinator
    )
    appointment_move(
        appointment=virtual, starts_at=NEW_TIME + timedelta(hours=1), actor=coordinator
    )

    moves = mails("appointment_moved")
    assert [message.to for message in moves] == ["parent@example.org"] * 2
    calendar, event = invite(moves[0])
    assert str(calendar["method"]) == str(first_calendar["method"]) == "REQUEST"
    assert str(event["uid"]) == str(first["uid"])
    assert event["sequence"] > first["sequence"]
    assert event.decoded("dtstart") == NEW_TIME
    assert str(event["url"]) == NEW_ROOM
    _, later = invite(moves[1])
    assert str(later["uid"]) == str(first["uid"])
    assert later["sequence"] > event["sequence"]
    body = moves[0].body
    assert "Wednesday, December 9, 2026 at 2:30 PM" in body
    assert "instead of Wednesday, December 2 at 10:00 AM" in body
    assert "/calls/mine/" in body


def test_a_cancelled_visit_sends_a_cancel_of_the_same_event_with_a_higher_sequence(
    virtual, coordinator
):
    _, first = invite(mails("appointment_scheduled")[0])
    appointment_move(appointment=virtual, starts_at=NEW_TIME, actor=coordinator)

    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)

    message = mails("appointment_cancelled")[0]
    calendar, event = invite(message)
    assert message.to == "parent@example.org"
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == str(first["uid"])
    assert event["sequence"] == 2  # above the move's 1
    assert "is cancelled" in message.body


def test_appointment_e_mails_name_neither_the_child_nor_the_diagnosis_nor_the_reason(
    virtual, coordinator
):
    appointment_move(appointment=virtual, starts_at=NEW_TIME, actor=coordinator)
    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)

    sent = Message.objects.filter(template__startswith="appointment_")
    assert sent.count() == 3
    for message in sent:
        text = message.subject + message.body + "".join(a["content"] for a in message.attachments)
        for private in ("Alex", "Scoliosis", "Savannah Pediatrics", "surgery", "MRI", "away"):
            assert private not in text, (message.template, private)


# --- The admin pages -------------------------------------------------------------------------


@pytest.fixture
def staff(client, coordinator):
    return sign_in(client, coordinator)


def page(name, appointment):
    return reverse(f"admin:scheduling_appointment_{name}", args=[appointment.pk])


def test_the_appointment_page_offers_move_and_cancel_while_it_is_scheduled(
    staff, virtual, coordinator
):
    scheduled = staff.get(page("change", virtual)).content.decode()
    assert page("move", virtual) in scheduled
    assert page("cancel", virtual) in scheduled

    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)
    cancelled = staff.get(page("change", virtual)).content.decode()

    assert page("move", virtual) not in cancelled
    assert page("cancel", virtual) not in cancelled
    assert REASON in cancelled  # the reason is on the appointment, for the team
    assert "Cancelled on" in cancelled


def test_the_move_page_starts_from_the_visit_and_moves_it(staff, virtual):
    form = staff.get(page("move", virtual)).context["form"]
    assert set(form.fields) == {"starts_at", "video_link"}  # virtual: no location
    assert form.initial["video_link"] == ROOM

    response = staff.post(
        page("move", virtual),
        {"starts_at_0": "2026-12-09", "starts_at_1": "14:30", "video_link": NEW_ROOM},
    )

    assert response.status_code == 302
    assert response["Location"] == page("change", virtual)
    virtual.refresh_from_db()
    assert (virtual.starts_at, virtual.video_link) == (NEW_TIME, NEW_ROOM)
    assert len(mails("appointment_moved")) == 1
    history = staff.get(page("change", virtual)).content.decode()
    assert "Moved on Nov 16, 2026 08:00 AM by" in history
    assert f"Dec 02, 2026 10:00 AM, {ROOM} → Dec 09, 2026 02:30 PM, {NEW_ROOM}" in history


def test_the_move_page_of_an_in_person_visit_asks_for_the_location(staff, in_person, north_clinic):
    form = staff.get(page("move", in_person)).context["form"]
    assert set(form.fields) == {"starts_at", "location"}

    staff.post(
        page("move", in_person),
        {"starts_at_0": "2026-12-02", "starts_at_1": "10:00", "location": north_clinic.pk},
    )

    in_person.refresh_from_db()
    assert in_person.location == north_clinic


def test_moving_to_the_past_in_the_admin_is_refused_and_keeps_what_was_typed(staff, virtual):
    response = staff.post(
        page("move", virtual),
        {"starts_at_0": "2026-11-02", "starts_at_1": "09:15", "video_link": NEW_ROOM},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "That time has already passed" in html
    assert 'value="2026-11-02"' in html
    assert 'value="09:15"' in html
    assert f'value="{NEW_ROOM}"' in html
    virtual.refresh_from_db()
    assert (virtual.starts_at, virtual.video_link) == (FIRST_TIME, ROOM)


def test_the_cancel_page_needs_a_reason_then_cancels(staff, virtual):
    empty = staff.post(page("cancel", virtual), {"reason": ""})
    assert empty.status_code == 200
    assert "This field is required" in empty.content.decode()

    response = staff.post(page("cancel", virtual), {"reason": REASON})

    assert response.status_code == 302
    virtual.refresh_from_db()
    assert (virtual.status, virtual.cancellation_reason) == (AppointmentStatus.CANCELLED, REASON)
    assert len(mails("appointment_cancelled")) == 1


def test_a_cancelled_visit_posted_a_move_by_hand_is_refused_on_the_page(
    staff, virtual, coordinator
):
    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)

    response = staff.post(
        page("move", virtual),
        {"starts_at_0": "2026-12-09", "starts_at_1": "14:30", "video_link": NEW_ROOM},
    )

    assert response.status_code == 200
    assert "it can no longer be moved" in response.content.decode()
    assert not mails("appointment_moved")


def test_the_admin_still_changes_only_the_checklist_of_a_moved_visit(staff, virtual, coordinator):
    appointment_move(appointment=virtual, starts_at=NEW_TIME, actor=coordinator)

    staff.post(
        page("change", virtual),
        {"records_requested": "on", "status": "cancelled", "cancellation_reason": "Typed"},
    )

    virtual.refresh_from_db()
    assert virtual.records_requested is True
    assert (virtual.status, virtual.cancellation_reason) == (AppointmentStatus.SCHEDULED, "")


# --- The family's page -------------------------------------------------------------------------


def test_the_familys_page_shows_the_new_time_and_the_one_it_replaced(
    client, virtual, coordinator, family
):
    appointment_move(
        appointment=virtual, starts_at=NEW_TIME, video_link=NEW_ROOM, actor=coordinator
    )
    sign_in(client, family)

    html = client.get(reverse("scheduling:my_calls")).content.decode()

    assert "Wednesday, December 9, 2026, 2:30 PM EST" in html
    assert "New time" in html
    assert "Moved from Wednesday, December 2, 10:00 AM." in html
    assert NEW_ROOM in html
    assert ROOM + '"' not in html
    download = client.get(reverse("scheduling:appointment_invite", args=[virtual.public_id]))
    event = icalendar.Calendar.from_ical(download.content).walk("VEVENT")[0]
    assert (event.decoded("dtstart"), event["sequence"]) == (NEW_TIME, 1)


def test_the_familys_page_says_a_visit_was_cancelled(client, virtual, coordinator, family):
    appointment_cancel(appointment=virtual, reason=REASON, actor=coordinator)
    sign_in(client, family)

    html = client.get(reverse("scheduling:my_calls")).content.decode()

    assert "Cancelled" in html
    assert "This visit was cancelled" in html
    assert "404-555-0110" in html
    assert ROOM not in html  # no link to join a visit that will not happen
    assert reverse("scheduling:appointment_invite", args=[virtual.public_id]) not in html
    assert REASON not in html
    download = client.get(reverse("scheduling:appointment_invite", args=[virtual.public_id]))
    assert str(icalendar.Calendar.from_ical(download.content)["method"]) == "CANCEL"
