import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from notifications.models import Message
from tests.conftest import sign_in
from tests.helpers import link_in

pytestmark = pytest.mark.django_db


def uid_of(user):
    return f"/{urlsafe_base64_encode(force_bytes(user.pk))}/"


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
    assert "works for 60 minutes" in message.body
    page = client.get(link_in(message, containing=uid_of(reviewer)), follow=True)
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


@pytest.fixture
def superuser(db):
    from tests.factories import staff_user

    user = staff_user(Role.ADMIN, email="root@example.org")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def test_an_admin_cannot_change_a_superuser_or_reset_their_second_factor(
    client, admin_user, superuser
):
    sign_in(client, admin_user)

    page = client.get(reverse("admin:accounts_user_change", args=[superuser.pk]))
    client.post(
        reverse("admin:accounts_user_change", args=[superuser.pk]),
        {"full_name": "Taken over", "role": Role.ADMIN, "is_active": "on"},
    )
    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [superuser.pk]},
    )

    assert 'name="full_name"' not in page.content.decode()  # shown read-only
    superuser.refresh_from_db()
    assert superuser.full_name != "Taken over"
    assert TOTPDevice.objects.filter(user=superuser).exists()


def test_an_address_cannot_be_changed_in_the_admin(client, admin_user, coordinator):
    sign_in(client, admin_user)

    client.post(
        reverse("admin:accounts_user_change", args=[coordinator.pk]),
        {
            "email": "attacker@example.org",
            "full_name": "Casey",
            "role": Role.COORDINATOR,
            "is_active": "on",
        },
    )

    coordinator.refresh_from_db()
    assert coordinator.email == "coordinator@example.org"


def test_a_second_factor_reset_is_recorded_in_the_admin_history(client, admin_user, coordinator):
    from django.contrib.admin.models import LogEntry

    sign_in(client, admin_user)

    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [coordinator.pk]},
    )

    entry = LogEntry.objects.get(object_id=str(coordinator.pk))
    assert (entry.user, entry.change_message) == (admin_user, "Reset the second factor.")


def test_invited_staff_whose_link_expired_get_a_new_one_from_forgot_password(client, admin_user):
    from accounts.services import staff_user_create

    reviewer = staff_user_create(
        email="dr.late@example.org", full_name="Dr. Late", role=Role.REVIEWER
    )
    Message.objects.all().delete()

    client.post(reverse("accounts:password_reset"), {"email": "dr.late@example.org"})

    message = Message.objects.get()
    assert message.template == "password_reset"
    assert uid_of(reviewer) in message.body


def test_an_admin_resends_an_invitation_only_to_staff_without_a_password(
    client, admin_user, coordinator
):
    from accounts.services import staff_user_create

    newcomer = staff_user_create(
        email="dr.new@example.org", full_name="Dr. New", role=Role.REVIEWER
    )
    Message.objects.all().delete()
    sign_in(client, admin_user)

    client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "resend_invitation", "_selected_action": [newcomer.pk, coordinator.pk]},
    )

    assert list(Message.objects.values_list("to", "template")) == [(newcomer.email, "staff_invite")]
