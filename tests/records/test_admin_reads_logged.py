"""Staff reading a request's records in the admin leave a line in the access log, as a
reviewer's case page does; lists and refusals of the page do not claim a read."""

import pytest
from django.urls import reverse

from records.models import AccessLog
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["coordinator", "admin_user"])
def test_opening_a_requests_admin_page_is_logged(client, family_request, persona, request):
    user = request.getfixturevalue(persona)
    sign_in(client, user)
    AccessLog.objects.all().delete()

    page = client.get(reverse("admin:intake_reviewrequest_change", args=[family_request.pk]))

    assert page.status_code == 200
    log = AccessLog.objects.get()
    assert (log.user, log.role, log.request_id, log.document_id, log.action, log.outcome) == (
        user,
        user.role,
        family_request.pk,
        None,
        AccessLog.Action.VIEW,
        AccessLog.Outcome.ALLOWED,
    )


def test_the_list_and_a_missing_request_write_no_read(client, family_request, coordinator):
    sign_in(client, coordinator)
    AccessLog.objects.all().delete()

    listed = client.get(reverse("admin:intake_reviewrequest_changelist"))
    missing = client.get(
        reverse("admin:intake_reviewrequest_change", args=[family_request.pk + 999])
    )

    assert listed.status_code == 200
    assert missing.status_code == 302  # the admin's "does not exist" back to the list
    assert not AccessLog.objects.exists()


def test_a_family_reaching_the_admin_page_reads_nothing_and_logs_nothing(
    client, family_request, family
):
    sign_in(client, family)
    AccessLog.objects.all().delete()

    page = client.get(reverse("admin:intake_reviewrequest_change", args=[family_request.pk]))

    assert page.status_code == 404  # the admin does not exist for families
    assert not AccessLog.objects.exists()
