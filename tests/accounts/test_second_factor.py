from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from tests.factories import UserFactory
from tests.helpers import totp_code

pytestmark = pytest.mark.django_db


def enter_code(client, code, view="accounts:otp_verify", next_url=None):
    data = {"token": code}
    if next_url:
        data["next"] = next_url
    return client.post(reverse(view), data)


def test_the_right_code_opens_the_admin(client, coordinator):
    client.force_login(coordinator)
    device = TOTPDevice.objects.get(user=coordinator)

    response = enter_code(client, totp_code(device), next_url=reverse("admin:index"))

    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_is_refused_with_an_explanation(client, coordinator):
    client.force_login(coordinator)

    response = enter_code(client, "000000")

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("accounts:otp_verify"))


def test_letters_are_refused_before_any_check(client, coordinator):
    client.force_login(coordinator)

    response = enter_code(client, "12a456")

    assert "Enter the 6 digits" in response.content.decode()


def test_a_code_that_was_already_used_is_refused(client, coordinator):
    device = TOTPDevice.objects.get(user=coordinator)
    with time_machine.travel(timezone.now(), tick=False):
        code = totp_code(device)
        client.force_login(coordinator)
        assert enter_code(client, code).status_code == 302
        client.logout()
        client.force_login(coordinator)

        replay = enter_code(client, code)

    assert replay.status_code == 200
    assert "already been used" in replay.content.decode()


def test_after_several_wrong_codes_even_the_right_one_waits(client, coordinator):
    device = TOTPDevice.objects.get(user=coordinator)
    client.force_login(coordinator)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(4):
            enter_code(client, "000000")
        assert enter_code(client, totp_code(device)).status_code == 200

    with time_machine.travel(start + timedelta(seconds=40), tick=False):
        assert enter_code(client, totp_code(device)).status_code == 302


def test_first_sign_in_shows_a_qr_code_and_the_key_and_a_code_confirms_the_app(client):
    newcomer = UserFactory(role=Role.REVIEWER)
    client.force_login(newcomer)

    page = client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=newcomer)
    reloaded = client.get(reverse("accounts:otp_setup"))
    response = enter_code(client, totp_code(device), view="accounts:otp_setup")

    assert "<svg" in page.content.decode()
    assert page.context["secret"] == reloaded.context["secret"]  # a reload keeps the same key
    assert response["Location"] == reverse("accounts:home")
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("reviews:my_reviews")).status_code == 200


def test_a_wrong_code_during_enrolment_leaves_the_app_unconfirmed(client):
    newcomer = UserFactory(role=Role.COORDINATOR)
    client.force_login(newcomer)
    client.get(reverse("accounts:otp_setup"))

    response = enter_code(client, "000000", view="accounts:otp_setup")

    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()


def test_someone_already_enrolled_cannot_enrol_a_second_app(client, coordinator):
    client.force_login(coordinator)

    response = client.get(reverse("accounts:otp_setup"))

    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    assert TOTPDevice.objects.filter(user=coordinator).count() == 1


def test_a_reset_second_factor_takes_effect_on_the_very_next_page(client, coordinator, admin_user):
    from tests.conftest import sign_in

    sign_in(client, coordinator)
    assert client.get(reverse("admin:index")).status_code == 200
    admin_client = sign_in(type(client)(), admin_user)

    admin_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [coordinator.pk]},
    )

    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    assert client.get(reverse("admin:index"))["Location"].startswith(reverse("accounts:otp_setup"))


def test_the_next_address_after_the_code_must_be_on_this_site(client, coordinator):
    client.force_login(coordinator)
    device = TOTPDevice.objects.get(user=coordinator)

    response = enter_code(client, totp_code(device), next_url="https://evil.example/phish")

    assert response["Location"] == reverse("accounts:home")


def test_a_code_typed_with_a_space_as_apps_show_it_is_accepted(client, coordinator):
    client.force_login(coordinator)
    code = totp_code(TOTPDevice.objects.get(user=coordinator))

    response = enter_code(client, f"{code[:3]} {code[3:]}")

    assert response.status_code == 302
