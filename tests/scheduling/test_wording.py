"""What the call pages and e-mails say (issue 17): the article before "coordinator", not
before the department's name, and time zones named as the pages name them ("Eastern Time"),
never by their database name ("America/New_York")."""

import pytest
from django.urls import reverse
from django.utils import translation

from notifications.models import Message
from scheduling.forms import format_start
from scheduling.services import appointment_create, booking_create
from tests.scheduling.conftest import DETAILS, book, ny

pytestmark = pytest.mark.django_db


def test_the_booked_page_says_a_coordinator_from_the_department_s_team_will_call(
    client, frozen_now, department, call_coordinator
):
    data = {**DETAILS, "start": format_start(ny(2026, 11, 18, 9)), "tz": "America/New_York"}
    data["consent_to_contact"] = "on"
    client.post(reverse("scheduling:book", args=[department.slug]), data)

    page = client.get(reverse("scheduling:booked")).content.decode()

    assert "A Orthopedics" not in page
    assert "A coordinator from the Orthopedics team will call you at the number you gave" in page


def test_call_e_mails_name_the_time_zone_as_the_page_does(frozen_now, department, call_coordinator):
    book(department, ny(2026, 11, 18, 9))
    with translation.override("es"):
        book(department, ny(2026, 11, 19, 9), email="padre@example.org")

    english = Message.objects.get(template="call_booked", to="parent@example.org")
    spanish = Message.objects.get(template="call_booked", to="padre@example.org")
    staff = Message.objects.filter(template="call_booked_coordinator").first()
    for message in (english, spanish, staff):
        assert "America/New_York" not in message.body
    assert "(Eastern Time)" in english.body
    assert "(hora del Este)" in spanish.body
    assert "(Eastern Time)" in staff.body


def test_a_call_in_another_zone_names_both_zones_in_words(frozen_now, department, call_coordinator):
    booking_create(
        department=department,
        starts_at=ny(2026, 11, 18, 9),
        details=DETAILS,
        family_time_zone="America/Los_Angeles",
    )

    body = " ".join(Message.objects.get(template="call_booked").body.split())
    assert "6:00 AM (Pacific Time)" in body
    assert "That is 9:00 AM in Eastern Time, where the team is." in body


def test_appointment_e_mails_name_the_department_s_zone_in_words(
    frozen_now, department, call_coordinator, coordinator
):
    booking = book(department, ny(2026, 11, 18, 9))

    appointment_create(
        actor=coordinator,
        booking=booking,
        department=department,
        parent_name=booking.parent_name,
        email=booking.email,
        child_first_name=booking.child_first_name,
        provider="Dr. Avery Chen",
        starts_at=ny(2026, 12, 2, 10),
        kind="virtual",
        video_link="https://video.example.org/room-1",
    )

    body = Message.objects.get(template="appointment_scheduled").body
    assert "(Eastern Time)" in body
    assert "America/New_York" not in body
