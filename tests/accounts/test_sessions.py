from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def signed_out(response):
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )


def test_staff_are_signed_out_after_fifteen_idle_minutes(client, coordinator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, coordinator)
        assert client.get(reverse("admin:index")).status_code == 200

    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):
        response = client.get(reverse("admin:index"))

    assert signed_out(response)
    assert "next=%2Fadmin%2F" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_staff_who_keep_working_stay_signed_in(client, coordinator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, coordinator)
    for minutes in (10, 20, 30, 40):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("admin:index")).status_code == 200


def test_staff_are_signed_out_twelve_hours_after_signing_in_even_when_busy(client, coordinator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, coordinator)
    for minutes in range(10, 12 * 60, 10):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("admin:index")).status_code == 200

    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert signed_out(client.get(reverse("admin:index")))


def test_a_parent_reading_for_half_an_hour_stays_signed_in(client, family):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, family)

    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert client.get(reverse("intake:my_requests")).status_code == 200


def test_a_parent_is_signed_out_twelve_hours_after_signing_in(client, family):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, family)
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        assert client.get(reverse("intake:my_requests")).status_code == 200

    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert signed_out(client.get(reverse("intake:my_requests")))


def test_signing_out_deletes_the_session_on_the_server(client, family):
    sign_in(client, family)
    key = client.session.session_key
    stolen_cookie = client.cookies["sessionid"].value

    response = client.post(reverse("accounts:logout"))

    assert response["Location"] == reverse("intake:catalogue")
    assert not Session.objects.filter(session_key=key).exists()
    client.cookies["sessionid"] = stolen_cookie
    assert signed_out(client.get(reverse("intake:my_requests")))


def test_signing_out_takes_a_post_so_a_link_cannot_sign_anyone_out(client, family):
    sign_in(client, family)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("intake:my_requests")).status_code == 200


def test_a_session_without_a_start_stamp_starts_counting_at_its_next_request(client, family):
    from accounts.signals import SESSION_STARTED_AT

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, family)
        session = client.session
        del session[SESSION_STARTED_AT]
        session.save()
        assert client.get(reverse("intake:my_requests")).status_code == 200
        assert client.session[SESSION_STARTED_AT] == int(start.timestamp())
