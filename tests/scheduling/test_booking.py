"""Booking a call as a family does, and every way it can be refused."""

from datetime import time, timedelta

import icalendar
import pytest
from django.urls import reverse

from accounts.models import Role
from notifications.models import Message
from scheduling import services
from scheduling.forms import format_start
from scheduling.models import Booking
from tests.factories import staff_user
from tests.scheduling.conftest import DETAILS, NOW, add_coordinator, book, ny

pytestmark = pytest.mark.django_db

WEDNESDAY_9 = ny(2026, 11, 18, 9)


def form_data(start=WEDNESDAY_9, **changes):
    data = {**DETAILS, "start": format_start(start), "tz": "America/Chicago", **changes}
    data["consent_to_contact"] = "on" if data["consent_to_contact"] else ""
    return data


def post(client, department, **changes):
    return client.post(reverse("scheduling:book", args=[department.slug]), form_data(**changes))


def invite(message):
    calendar = icalendar.Calendar.from_ical(message.attachments[0]["content"])
    return calendar, calendar.walk("VEVENT")[0]


def test_a_family_books_without_an_account_and_sees_the_confirmation(
    client, frozen_now, department, call_coordinator, coordinator
):
    response = post(client, department)

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:booked")
    assert (booking.starts_at, booking.ends_at) == (
        WEDNESDAY_9,
        WEDNESDAY_9 + timedelta(minutes=30),
    )
    assert booking.coordinator == coordinator
    assert booking.family is None
    assert booking.family_time_zone == "America/Chicago"
    assert booking.phone == "+14045550123"
    page = client.get(response["Location"]).content.decode()
    assert "Your call is booked" in page
    assert "Wednesday, November 18, 2026 at 8:00 AM" in page  # in Chicago
    assert "9:00 AM in Eastern Time" in page


def test_the_confirmation_has_a_calendar_invite_and_working_links(
    client, frozen_now, booking, coordinator
):
    family_mail = Message.objects.get(to="parent@example.org")
    calendar, event = invite(family_mail)

    assert family_mail.template == "call_booked"
    assert str(calendar["method"]) == "REQUEST"
    assert event.decoded("dtstart") == WEDNESDAY_9
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "America/New_York"
    assert str(event["attendee"]) == "mailto:parent@example.org"
    assert str(event["organizer"]).startswith("mailto:")
    assert event.walk("VALARM")[0].decoded("trigger") == -timedelta(minutes=30)
    assert str(event["uid"]) == booking.ical_uid
    for purpose in ("reschedule", "cancel"):
        link = next(
            line
            for line in family_mail.body.splitlines()
            if "/calls/" in line
            and ("/move/" in line if purpose == "reschedule" else "/cancel/" in line)
        )
        url = link.split(": ", 1)[1].removeprefix("http://testserver")
        assert client.get(url).status_code == 200
    coordinator_mail = Message.objects.get(to=coordinator.email)
    assert invite(coordinator_mail)[1].decoded("dtstart") == WEDNESDAY_9


def test_no_e_mail_or_invite_names_the_child_or_the_reason(frozen_now, booking):
    for message in Message.objects.all():
        text = message.subject + message.body + "".join(a["content"] for a in message.attachments)
        for private in ("Alex", "Scoliosis", "Savannah Pediatrics", "surgery", "+14045550123"):
            assert private not in text, (message.template, private)


def test_a_signed_in_family_finds_the_call_on_its_page(
    client, frozen_now, department, call_coordinator, family
):
    client.force_login(family)

    post(client, department)

    assert Booking.objects.get().family == family
    page = client.get(reverse("scheduling:my_calls")).content.decode()
    assert "Orthopedics" in page
    assert "Wednesday, November 18, 2026, 8:00 AM CST" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phone": "12"}, "phone", "Enter a valid phone number"),
        ({"email": "parent@"}, "email", "Enter a valid email address"),
        ({"parent_name": ""}, "parent_name", "This field is required"),
        ({"child_first_name": ""}, "child_first_name", "This field is required"),
        ({"child_age": "-1"}, "child_age", "whole years"),
        ({"child_age": "40"}, "child_age", "up to 25"),
        ({"consent_to_contact": False}, "consent_to_contact", "tick the box"),
        ({"start": "yesterday"}, "start", "Pick a time from the list"),
    ],
)
def test_bad_input_is_explained_and_what_was_typed_is_kept(
    client, frozen_now, department, call_coordinator, changes, field, message
):
    response = client.post(
        reverse("scheduling:book", args=[department.slug]),
        {**form_data(), **changes} if "start" in changes else form_data(**changes),
    )

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    page = response.content.decode()
    assert "Nothing was booked yet" in page
    assert 'value="Savannah Pediatrics"' in page
    assert not Booking.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("start", "message"),
    [
        (NOW - timedelta(hours=1), "already passed"),
        (ny(2026, 11, 16, 11), "at least 24 hours ahead"),
        (ny(2026, 12, 28, 9), "up to 30 days ahead"),
        (ny(2026, 11, 18, 9, 5), "just taken"),  # not a slot at all
    ],
)
def test_a_time_that_cannot_be_booked_is_refused_with_the_reason(
    client, frozen_now, department, call_coordinator, start, message
):
    response = post(client, department, start=start)

    assert message in " ".join(response.context["form"].errors["start"])
    assert not Booking.objects.exists()


def test_a_time_taken_meanwhile_offers_the_other_times_of_that_day_and_keeps_the_details(
    client, frozen_now, department, call_coordinator
):
    book(department, WEDNESDAY_9, email="first@example.org")

    response = post(client, department)

    form = response.context["form"]
    assert "just taken" in form.errors["start"][0]
    offered = [value for value, _ in form.fields["start"].choices]
    assert format_start(WEDNESDAY_9) not in offered
    assert format_start(ny(2026, 11, 18, 9, 40)) in offered
    assert 'value="Jordan Rivera"' in response.content.decode()

    retry = post(client, department, start=ny(2026, 11, 18, 9, 40))

    assert retry.status_code == 302
    assert Booking.objects.count() == 2


def test_bookings_take_turns_between_the_coordinators_free_at_that_time(
    frozen_now, department, call_coordinator, coordinator
):
    riley = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(department, riley)

    first = book(department, ny(2026, 11, 18, 9))
    second = book(department, ny(2026, 11, 18, 9, 40))
    third = book(department, ny(2026, 11, 18, 10, 20))
    fourth = book(department, ny(2026, 11, 18, 11))

    assert [b.coordinator for b in (first, second, third, fourth)] == [
        coordinator,
        riley,
        coordinator,
        riley,
    ]


def test_a_time_only_one_coordinator_has_free_goes_to_that_coordinator(
    frozen_now, department, call_coordinator, coordinator
):
    riley = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(department, riley, hours=((time(13), time(14)),))
    book(department, ny(2026, 11, 18, 9))  # Casey's turn used

    afternoon = book(department, ny(2026, 11, 18, 13))
    morning = book(department, ny(2026, 11, 18, 9, 40))

    assert (afternoon.coordinator, morning.coordinator) == (riley, coordinator)


def test_the_database_refuses_two_calls_at_the_same_time_for_one_coordinator(frozen_now, booking):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            department=booking.department,
            coordinator=booking.coordinator,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            family_time_zone="UTC",
            ical_uid="x",
            **DETAILS,
        )


def test_the_slots_page_shows_times_in_the_chosen_zone_and_names_the_departments(
    client, frozen_now, department, call_coordinator
):
    page = client.get(
        reverse("scheduling:slots", args=[department.slug]), {"tz": "America/Los_Angeles"}
    ).content.decode()

    assert "Times shown in" in page
    assert 'value="America/Los_Angeles" selected' in page
    assert "6:00 AM" in page  # 9:00 in New York
    assert "Orthopedics is in Eastern Time (America/New_York)" in page


def test_an_unknown_zone_falls_back_to_the_departments(
    client, frozen_now, department, call_coordinator
):
    response = client.get(
        reverse("scheduling:slots", args=[department.slug]), {"tz": "Mars/Olympus"}
    )

    assert response.context["tz"] == "America/New_York"
    assert "9:00 AM" in response.content.decode()


def test_the_department_drop_down_leads_to_its_times(
    client, frozen_now, department, call_coordinator
):
    page = client.get(reverse("scheduling:start")).content.decode()
    assert "Select a department" in page
    assert "Orthopedics" in page

    response = client.get(reverse("scheduling:start"), {"department": "orthopedics"})

    assert response["Location"] == reverse("scheduling:slots", args=["orthopedics"])


def test_a_department_without_coordinators_says_to_call(client, frozen_now, department):
    page = client.get(reverse("scheduling:slots", args=[department.slug])).content.decode()

    assert "No times are open" in page
    assert department.phone in page


def test_the_invite_download_of_the_booking_browser(
    client, frozen_now, department, call_coordinator
):
    post(client, department)

    response = client.get(reverse("scheduling:booked_invite"))

    assert response["Content-Type"].startswith("text/calendar")
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == WEDNESDAY_9


def test_services_refuse_an_unknown_start_with_the_family_message(
    frozen_now, department, call_coordinator
):
    with pytest.raises(services.SlotTaken, match="just taken"):
        book(department, ny(2026, 11, 18, 12))


def test_moving_a_call_does_not_cost_its_coordinator_a_turn(
    frozen_now, department, call_coordinator, coordinator
):
    riley = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(department, riley)
    first = book(department, ny(2026, 11, 18, 9))  # Casey's turn
    book(department, ny(2026, 11, 18, 9, 40))  # Riley's turn
    moved = services.booking_reschedule(booking=first, starts_at=ny(2026, 11, 19, 9))

    third = book(department, ny(2026, 11, 18, 10, 20))

    assert moved.coordinator == coordinator
    assert third.coordinator == coordinator  # still Casey's turn: the move was not a new call


@pytest.mark.parametrize(
    ("setting", "second_email"),
    [
        ("CALL_BOOKINGS_PER_EMAIL_PER_HOUR", "PARENT@example.org"),  # the same address
        ("CALL_BOOKINGS_PER_CONNECTION_PER_HOUR", "someone.else@example.org"),
    ],
)
def test_bookings_past_the_hours_allowance_are_refused_with_the_phone_and_the_form_kept(
    client, frozen_now, department, call_coordinator, settings, setting, second_email
):
    setattr(settings, setting, 1)
    assert post(client, department).status_code == 302

    refused = post(client, department, start=WEDNESDAY_9 + timedelta(hours=1), email=second_email)

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "Several calls were booked from here or for this e-mail address" in page
    assert department.phone in page
    assert f'value="{second_email}"' in page
    assert Booking.objects.count() == 1
    assert Message.objects.filter(template="call_booked").count() == 1


def test_a_link_to_a_time_booked_meanwhile_says_so_before_anything_is_typed(
    client, frozen_now, department, call_coordinator
):
    page_url = reverse("scheduling:book", args=[department.slug])
    query = {"start": format_start(WEDNESDAY_9), "tz": "America/New_York"}
    free = client.get(page_url, query).content.decode()
    book(department, WEDNESDAY_9)

    gone = client.get(page_url, query).content.decode()

    assert "The time you chose is no longer open." not in free
    assert "The time you chose is no longer open. Please pick another time." in gone


def test_a_time_refused_does_not_use_up_the_hours_allowance(
    client, frozen_now, department, call_coordinator, settings
):
    settings.CALL_BOOKINGS_PER_EMAIL_PER_HOUR = 1
    book(department, WEDNESDAY_9, email="someone.else@example.org")

    taken = post(client, department)  # the time went to someone else meanwhile
    booked = post(client, department, start=ny(2026, 11, 19, 9))

    assert taken.status_code == 200
    assert "Several calls were booked" not in taken.content.decode()
    assert booked.status_code == 302
    assert Booking.objects.filter(email="parent@example.org").count() == 1
