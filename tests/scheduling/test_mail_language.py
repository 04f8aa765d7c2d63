"""E-mails about a call are in the family's language: the page it booked on, and the
reminder a task sends days later with no page at all."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation
from icalendar import Calendar

from notifications.models import Message
from scheduling.services import reminders_send_due
from tests.scheduling.conftest import book, ny

pytestmark = pytest.mark.django_db


def test_a_call_booked_on_a_spanish_page_is_confirmed_in_spanish_with_a_spanish_invite(
    frozen_now, call_coordinator, department, coordinator
):
    department.name_es = "Ortopedia"
    department.save()

    with translation.override("es"):
        booking = book(department, ny(2026, 11, 18, 9))

    assert booking.language == "es"
    family = Message.objects.get(template="call_booked")
    assert family.language == "es"
    assert family.subject == "Su llamada informativa con Ortopedia está reservada"
    assert "miércoles 18 de noviembre de 2026 a las 9:00 AM" in family.body
    assert "Hola:" in family.body
    event = Calendar.from_ical(family.attachments[0]["content"]).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Llamada informativa · Ortopedia")
    # The coordinator's copy stays English.
    staff = Message.objects.get(template="call_booked_coordinator")
    assert staff.language == "en"
    assert (
        "Informational call"
        in Calendar.from_ical(staff.attachments[0]["content"]).walk("VEVENT")[0]["SUMMARY"]
    )


def test_the_reminder_a_task_sends_the_day_before_is_in_the_booking_s_language(
    frozen_now, call_coordinator, department
):
    with translation.override("es"):
        booking = book(department, ny(2026, 11, 18, 9))

    with (
        translation.override("en"),  # a worker has no page: English is active
        time_machine.travel(booking.starts_at - timedelta(hours=23), tick=False),
    ):
        reminders_send_due()

    reminder = Message.objects.get(template="call_reminder")
    assert reminder.language == "es"
    assert reminder.subject.startswith("Recordatorio: su llamada con")
