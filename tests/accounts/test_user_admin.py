import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import Role, User
from notifications.models import Message
from tests.conftest import sign_in
from tests.helpers import link_in

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_reviewer_who_then_chooses_a_password(client, admin_user):
    sign_in(client, admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "Dr.New@Example.org", "full_name": "Dr. New", "role": Role.REVIEWER},
    )

    assert response.status_code == 302
    reviewer = User.objects.get(email="dr.new@example.org")
    assert reviewer.role == Role.REVIEWER
    assert list(reviewer.groups.all()) == [Group.objects.get(name="Reviewer")]
    assert not reviewer.has_usable_password()
    message = Message.objects.get(template="staff_invite")
    assert message.to == "dr.new@example.org"
    page = client.get(link_in(message), follow=True)
    assert "Choose a new password" in page.content.decode()


def test_the_admin_cannot_add_a_family_account(client, admin_user):
    sign_in(client, admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "parent2@example.org", "full_name": "A Parent", "role": Role.FAMILY},
    )

    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="parent2@example.org").exists()


def test_an_address_already_in_use_is_refused_whatever_its_case(client, admin_user, family):
    sign_in(client, admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "PARENT@example.org", "full_name": "Someone", "role": Role.COORDINATOR},
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_a_coordinator_may_look_up_accounts_but_not_add_them(client, coordinator):
    sign_in(client, coordinator)

    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_add")).status_code == 403


def test_changing_a_role_in_the_admin_moves_the_account_to_the_new_group(
    client, admin_user, assigned_reviewer
):
    sign_in(client, admin_user)

    client.post(
        reverse("admin:accounts_user_change", args=[assigned_reviewer.pk]),
        {
            "email": assigned_reviewer.email,
            "full_name": "Dr. Moved",
            "role": Role.COORDINATOR,
            "is_active": "on",
        },
    )

    assigned_reviewer.refresh_from_db()
    assert assigned_reviewer.role == Role.COORDINATOR
    assert list(assigned_reviewer.groups.values_list("name", flat=True)) == ["Coordinator"]
