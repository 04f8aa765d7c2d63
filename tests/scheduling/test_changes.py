"""Moving and cancelling a call by the links in the e-mail, and what the links refuse."""

from datetime import time, timedelta

import icalendar
import pytest
import time_machine
from django.urls import reverse

from notifications.models import Message
from scheduling.forms import format_start
from scheduling.links import booking_token
from scheduling.models import Booking
from tests.scheduling.conftest import NOW, ny

pytestmark = pytest.mark.django_db

THURSDAY_10_20 = ny(2026, 11, 19, 10, 20)


def url(booking, purpose, token=None):
    return reverse(f"scheduling:{purpose}", args=[token or booking_token(booking, purpose)])


def last_invite(to):
    message = Message.objects.filter(to=to).latest("pk")
    return message, icalendar.Calendar.from_ical(message.attachments[0]["content"])


def test_the_move_page_lists_open_times_and_moves_the_call(client, booking):
    page = client.get(url(booking, "reschedule"))
    assert page.status_code == 200
    assert "Pick a new time" in page.content.decode()

    response = client.post(
        url(booking, "reschedule"),
        {"start": format_start(THURSDAY_10_20), "tz": "America/New_York"},
    )

    assert response["Location"] == reverse("scheduling:booked")
    booking.refresh_from_db()
    new = booking.rescheduled_to
    assert booking.status == Booking.Status.MOVED
    assert (new.status, new.starts_at, new.coordinator) == (
        Booking.Status.BOOKED,
        THURSDAY_10_20,
        booking.coordinator,
    )
    assert (new.parent_name, new.email, new.child_first_name) == (
        booking.parent_name,
        booking.email,
        booking.child_first_name,
    )


def test_a_moved_call_updates_the_same_calendar_event(client, booking):
    client.post(url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)})

    message, calendar = last_invite("parent@example.org")
    event = calendar.walk("VEVENT")[0]
    assert message.template == "call_moved"
    assert str(event["uid"]) == booking.ical_uid
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == THURSDAY_10_20


def test_the_old_time_is_free_again_after_a_move(client, booking):
    from scheduling.slots import slot_at

    client.post(url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)})

    assert slot_at(department=booking.department, starts_at=booking.starts_at, now=NOW)


def test_moving_inside_the_minimum_notice_is_refused_with_the_departments_phone(client, booking):
    with time_machine.travel(booking.starts_at - timedelta(hours=23), tick=False):
        page = client.get(url(booking, "reschedule"))
        posted = client.post(url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)})

    for response in (page, posted):
        assert response.status_code == 409
        assert "can no longer be moved online" in response.content.decode()
        assert "404-555-0110" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_a_time_taken_meanwhile_keeps_the_call_where_it_was(client, booking):
    from tests.scheduling.conftest import book

    book(booking.department, THURSDAY_10_20, email="other@example.org")

    response = client.post(
        url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)}, follow=True
    )

    assert "just taken" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_cancelling_frees_the_time_and_sends_both_sides_a_cancellation(
    client, booking, coordinator
):
    assert "Cancel my call" in client.get(url(booking, "cancel")).content.decode()

    response = client.post(url(booking, "cancel"))

    assert "Your call is cancelled" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    for to in ("parent@example.org", coordinator.email):
        _, calendar = last_invite(to)
        event = calendar.walk("VEVENT")[0]
        assert str(calendar["method"]) == "CANCEL"
        assert str(event["status"]) == "CANCELLED"
        assert str(event["uid"]) == booking.ical_uid


def test_a_used_cancel_link_explains_and_changes_nothing(client, booking):
    client.post(url(booking, "cancel"))

    again = client.post(url(booking, "cancel"))

    assert again.status_code == 409
    assert "already cancelled" in again.content.decode()
    assert Message.objects.filter(template="call_cancelled").count() == 1


def test_the_old_links_of_a_moved_call_point_to_the_newest_e_mail(client, booking):
    client.post(url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)})

    response = client.get(url(booking, "cancel"))

    assert response.status_code == 409
    assert "moved to another time" in response.content.decode()


def test_a_tampered_link_is_refused(client, booking):
    token = booking_token(booking, "cancel")

    response = client.get(url(booking, "cancel", token=token[:-2] + "xx"))

    assert response.status_code == 404
    assert "not complete or not one we sent" in response.content.decode()


def test_a_link_works_only_for_its_own_purpose(client, booking):
    cancel_token = booking_token(booking, "cancel")

    assert client.get(url(booking, "reschedule", token=cancel_token)).status_code == 404
    assert client.post(url(booking, "precall", token=cancel_token)).status_code == 404


def test_an_old_link_has_expired(client, booking, settings):
    settings.SCHEDULING_LINK_DAYS = 1
    token = booking_token(booking, "cancel")

    with time_machine.travel(NOW + timedelta(days=1, minutes=1), tick=False):
        response = client.post(url(booking, "cancel", token=token))

    assert response.status_code == 410
    assert "too old" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.BOOKED


def test_a_call_that_has_started_cannot_be_cancelled(client, booking):
    with time_machine.travel(booking.starts_at + timedelta(minutes=1), tick=False):
        response = client.post(url(booking, "cancel"))

    assert response.status_code == 409
    assert "already taken place" in response.content.decode()


def test_a_link_names_no_patient_data(booking):
    import base64

    token = booking_token(booking, "reschedule")
    payload = token.split(":")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()

    assert decoded == f'"{booking.public_id}"'


def test_a_move_keeps_the_pre_call_form_and_its_link_follows_the_call(client, booking):
    from scheduling.services import booking_precall_answer

    booking_precall_answer(booking=booking, answers={"hopes": "A plan"})
    precall = url(booking, "precall")

    client.post(url(booking, "reschedule"), {"start": format_start(THURSDAY_10_20)})

    new = Booking.objects.get(status=Booking.Status.BOOKED)
    assert new.precall_answers == {"hopes": "A plan"}
    client.post(precall, {"hopes": "A better plan"})
    new.refresh_from_db()
    assert new.precall_answers["hopes"] == "A better plan"


def test_the_old_coordinators_cancellation_outranks_the_first_invite(booking, coordinator):
    from accounts.models import Role
    from scheduling.services import booking_reschedule
    from tests.factories import staff_user
    from tests.scheduling.conftest import add_coordinator

    riley = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(booking.department, riley, hours=((time(13), time(14)),))

    new = booking_reschedule(booking=booking, starts_at=ny(2026, 11, 19, 13))

    assert new.coordinator == riley
    _, cancelled = last_invite(coordinator.email)
    assert str(cancelled["method"]) == "CANCEL"
    assert cancelled.walk("VEVENT")[0]["sequence"] == 1


@pytest.mark.parametrize("start", ["0001-01-01T00:00Z", "9999-12-31T23:59-12:00", "garbage"])
def test_an_impossible_time_in_the_address_is_refused_without_an_error(client, booking, start):
    page = client.get(reverse("scheduling:book", args=[booking.department.slug]), {"start": start})
    moved = client.post(url(booking, "reschedule"), {"start": start})

    assert page.status_code == 302  # back to the list of times
    assert moved.status_code == 200
    assert "Pick a time from the list" in moved.content.decode()
