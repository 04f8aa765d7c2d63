"""The coordinator's side: the pre-call form, notes and outcome, the invitation to a document
review, appointments, and the overview of calls."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.urls import reverse

from notifications.models import Message
from scheduling.links import booking_token
from scheduling.models import Appointment, AppointmentLocation, Booking
from tests.conftest import sign_in
from tests.scheduling.conftest import book, ny

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, coordinator):
    return sign_in(client, coordinator)


def step(booking, name):
    return reverse("admin:scheduling_booking_step", args=[booking.pk, name])


def test_the_pre_call_form_is_sent_and_the_familys_answers_reach_the_call_page(
    staff, client, booking
):
    staff.post(step(booking, "precall"))

    message = Message.objects.get(template="call_precall")
    assert "/calls/before-your-call/" in message.body
    client.logout()
    token_url = reverse("scheduling:precall", args=[booking_token(booking, "precall")])
    refused = client.post(token_url, {"hopes": ""})
    assert "This field is required" in refused.content.decode()
    client.post(token_url, {"hopes": "Whether she needs surgery", "tests": "X-ray in May"})
    booking.refresh_from_db()
    assert booking.precall_answers["hopes"] == "Whether she needs surgery"
    assert booking.precall_answered_at is not None
    sign_in(client, booking.coordinator)
    page = client.get(reverse("admin:scheduling_booking_change", args=[booking.pk]))
    assert "Whether she needs surgery" in page.content.decode()


def test_notes_and_outcome_are_recorded_after_the_call(staff, booking, published_service):
    outcome_url = reverse("admin:scheduling_booking_outcome", args=[booking.pk])
    data = {
        "outcome": "completed",
        "call_notes": "Curve of 32 degrees, braced since March.",
        "programs_recommended": "Spine program, Dr. Chen",
        "next_step": "document_review",
        "recommended_service": published_service.pk,
    }
    too_early = staff.post(outcome_url, data)
    assert "has not started yet" in too_early.content.decode()

    with time_machine.travel(booking.starts_at + timedelta(minutes=35), tick=False):
        sign_in(staff, booking.coordinator)  # a new day, a new session
        response = staff.post(outcome_url, data)

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.COMPLETED
    assert booking.call_notes.startswith("Curve of 32")
    assert booking.recommended_service == published_service
    assert booking.outcome_recorded_by == booking.coordinator


def test_a_document_review_recommendation_needs_the_review(staff, booking):
    with time_machine.travel(booking.starts_at + timedelta(minutes=35), tick=False):
        sign_in(staff, booking.coordinator)
        response = staff.post(
            reverse("admin:scheduling_booking_outcome", args=[booking.pk]),
            {"outcome": "completed", "next_step": "document_review"},
        )

    assert "Choose the document review you recommend" in response.content.decode()


def test_a_no_show_is_recorded_and_listed_in_the_overview(staff, booking):
    with time_machine.travel(booking.starts_at + timedelta(minutes=35), tick=False):
        sign_in(staff, booking.coordinator)
        staff.post(
            reverse("admin:scheduling_booking_outcome", args=[booking.pk]), {"outcome": "no_show"}
        )
        page = staff.get(reverse("admin:scheduling_booking_overview")).content.decode()

    booking.refresh_from_db()
    assert booking.status == Booking.Status.NO_SHOW
    assert "No-shows in the last 30 days" in page
    assert "Jordan Rivera" in page


def test_one_click_invites_the_family_to_the_recommended_review(staff, booking, published_service):
    from scheduling.services import booking_record_outcome

    with time_machine.travel(booking.starts_at + timedelta(minutes=35), tick=False):
        booking_record_outcome(
            booking=booking,
            outcome="completed",
            call_notes="",
            programs_recommended="",
            next_step="document_review",
            recommended_service=published_service,
            actor=booking.coordinator,
        )
    change = staff.get(reverse("admin:scheduling_booking_change", args=[booking.pk]))
    assert "Invite to spine document review" in change.content.decode()

    staff.post(step(booking, "invite"))
    again = staff.post(step(booking, "invite"))

    message = Message.objects.get(template="call_review_invitation")
    assert message.to == "parent@example.org"
    assert "/services/spine-document-review/" in message.body
    assert "already invited" in again.content.decode()


def test_a_coordinator_can_cancel_a_call_from_its_page(staff, booking):
    staff.post(step(booking, "cancel"))

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_an_appointment_reaches_the_family_by_e_mail_and_on_its_page(
    staff, client, booking, family
):
    Booking.objects.filter(pk=booking.pk).update(family=family, status="completed")
    location = AppointmentLocation.objects.create(
        name="Main campus", address="1 Main St", parking="Deck 2, Clifton Road"
    )
    add = reverse("admin:scheduling_appointment_add")
    prefilled = staff.get(add, {"booking": booking.pk})
    assert prefilled.context["adminform"].form.initial["parent_name"] == "Jordan Rivera"

    response = staff.post(
        add,
        {
            "booking": booking.pk,
            "department": booking.department.pk,
            "kind": "in_person",
            "provider": "Dr. Avery Chen",
            "location": location.pk,
            "video_link": "",
            "starts_at_0": "2026-12-02",
            "starts_at_1": "10:00",
            "duration_minutes": 60,
            "parent_name": "Jordan Rivera",
            "email": "parent@example.org",
            "child_first_name": "Alex",
            "records_requested": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    appointment = Appointment.objects.get()
    assert appointment.family == family
    assert appointment.records_requested
    message = Message.objects.get(template="appointment_scheduled")
    event = icalendar.Calendar.from_ical(message.attachments[0]["content"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert "Main campus" in str(event["location"])
    sign_in(client, family)
    page = client.get(reverse("scheduling:my_calls")).content.decode()
    assert "Dr. Avery Chen" in page
    assert "Deck 2, Clifton Road" in page
    download = client.get(reverse("scheduling:appointment_invite", args=[appointment.public_id]))
    assert download["Content-Type"].startswith("text/calendar")


def test_a_virtual_appointment_needs_its_video_link(staff, booking):
    response = staff.post(
        reverse("admin:scheduling_appointment_add"),
        {
            "department": booking.department.pk,
            "kind": "virtual",
            "provider": "Dr. Avery Chen",
            "starts_at_0": "2026-12-02",
            "starts_at_1": "10:00",
            "duration_minutes": 60,
            "parent_name": "Jordan Rivera",
            "email": "parent@example.org",
            "child_first_name": "Alex",
        },
    )

    assert response.status_code == 200
    assert not Appointment.objects.exists()
    assert not Message.objects.filter(template="appointment_scheduled").exists()


def test_the_overview_costs_the_same_queries_whatever_the_number_of_calls(
    staff, frozen_now, department, call_coordinator, django_assert_max_num_queries
):
    for hour in (9, 10):
        book(department, ny(2026, 11, 18, hour) if hour == 9 else ny(2026, 11, 18, 10, 20))
    with django_assert_max_num_queries(20) as few:
        staff.get(reverse("admin:scheduling_booking_overview"))
    for day in (19, 20):
        for start in ((9, 0), (9, 40), (10, 20), (11, 0)):
            book(department, ny(2026, 11, day, *start))

    with django_assert_max_num_queries(len(few.captured_queries)):
        page = staff.get(reverse("admin:scheduling_booking_overview"))

    assert page.status_code == 200
    assert "Bookings per department per week" in page.content.decode()


def test_a_recommendation_changed_away_from_a_review_cannot_be_sent(
    staff, booking, published_service
):
    from scheduling.services import BookingRefused, booking_invite_to_review, booking_record_outcome

    with time_machine.travel(booking.starts_at + timedelta(minutes=35), tick=False):
        for next_step in ("document_review", "in_person"):
            booking = booking_record_outcome(
                booking=booking,
                outcome="completed",
                call_notes="",
                programs_recommended="",
                next_step=next_step,
                recommended_service=published_service,
                actor=booking.coordinator,
            )

    assert booking.recommended_service is None
    with pytest.raises(BookingRefused):
        booking_invite_to_review(booking=booking, actor=booking.coordinator)


def test_an_appointment_is_not_shown_to_the_account_of_a_call_with_another_address(
    booking, family, coordinator
):
    from scheduling.services import appointment_create

    Booking.objects.filter(pk=booking.pk).update(family=family)
    booking.refresh_from_db()

    appointment = appointment_create(
        actor=coordinator,
        booking=booking,
        department=booking.department,
        parent_name="Someone Else",
        email="someone.else@example.net",
        child_first_name="Kim",
        kind="virtual",
        video_link="https://video.example.org/room",
        provider="Dr. Chen",
        starts_at=booking.starts_at + timedelta(days=7),
    )

    assert appointment.family is None


def test_a_malformed_booking_in_the_appointment_address_is_ignored(staff):
    response = staff.get(reverse("admin:scheduling_appointment_add"), {"booking": "abc"})

    assert response.status_code == 200


def test_after_it_is_set_up_only_the_appointments_checklist_changes_in_the_admin(
    booking, staff, coordinator
):
    from scheduling.services import appointment_create

    appointment = appointment_create(
        actor=coordinator,
        booking=booking,
        department=booking.department,
        parent_name=booking.parent_name,
        email=booking.email,
        child_first_name=booking.child_first_name,
        kind="virtual",
        video_link="https://video.example.org/room",
        provider="Dr. Chen",
        starts_at=booking.starts_at + timedelta(days=7),
    )
    url = reverse("admin:scheduling_appointment_change", args=[appointment.pk])

    response = staff.post(
        url, {"records_requested": "on", "logistics_sent": "on", "provider": "Dr. Someone Else"}
    )

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.records_requested is True
    assert appointment.logistics_sent is True
    assert appointment.payment_discussed is False
    assert appointment.provider == "Dr. Chen"  # read-only once set up
