import pytest
from django.contrib.auth.models import Group

from accounts.models import Role
from accounts.roles import ROLE_PERMISSIONS, group_name
from accounts.services import user_set_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_a_group_with_exactly_the_permissions_of_the_table(role):
    group = Group.objects.get(name=group_name(role))

    granted = {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }

    assert granted == ROLE_PERMISSIONS[role]  # every label in the table names a real permission


def test_a_coordinator_works_on_requests_but_an_admin_edits_the_catalogue(coordinator, admin_user):
    assert coordinator.has_perm("intake.change_reviewrequest")
    assert not coordinator.has_perm("intake.add_reviewservice")
    assert admin_user.has_perm("intake.add_reviewservice")
    assert not admin_user.has_perm("intake.delete_reviewrequest")


def test_families_and_reviewers_have_no_admin_permissions_and_no_admin_access(
    family, assigned_reviewer
):
    for user in (family, assigned_reviewer):
        assert not user.get_all_permissions()
        assert not user.is_staff
    assert assigned_reviewer.is_staff_member


def test_changing_a_role_changes_the_group(family):
    user_set_role(user=family, role=Role.COORDINATOR)

    assert list(family.groups.values_list("name", flat=True)) == ["Coordinator"]
    assert family.is_staff


def test_a_deactivated_coordinator_loses_admin_access():
    user = UserFactory(role=Role.COORDINATOR, is_active=False)

    assert not user.is_staff
