import pytest
from django.urls import reverse

from tests.conftest import sign_in
from tests.helpers import ScriptAudit

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_strict_content_security_policy(client):
    response = client.get(reverse("intake:catalogue"))

    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_browsers_are_told_not_to_sniff_frame_or_leak_the_address(client):
    response = client.get(reverse("intake:catalogue"))

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"


def test_pages_of_a_signed_in_person_are_never_stored(client, family, family_request):
    sign_in(client, family)

    response = client.get(reverse("intake:request_detail", args=[family_request.reference]))

    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control


def test_the_public_front_page_may_be_cached(client):
    response = client.get(reverse("intake:catalogue"))

    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("persona", "view"),
    [
        ("anonymous", "intake:catalogue"),
        ("anonymous", "accounts:login"),
        ("anonymous", "accounts:sign_up"),
        ("anonymous", "accounts:password_reset"),
        ("family", "intake:my_requests"),
        ("family", "intake:request_detail"),
        ("assigned_reviewer", "reviews:my_reviews"),
        ("coordinator", "admin:index"),
        ("coordinator", "admin:intake_reviewrequest_change"),
        ("coordinator", "admin:intake_reviewrequest_move"),
        ("admin_user", "admin:intake_reviewservice_add"),
    ],
)
def test_no_page_relies_on_inline_script(request, client, family_request, persona, view):
    sign_in(client, request.getfixturevalue(persona))
    args = {
        "intake:request_detail": [family_request.reference],
        "admin:intake_reviewrequest_change": [family_request.pk],
        "admin:intake_reviewrequest_move": [family_request.pk],
    }.get(view, [])
    response = client.get(reverse(view, args=args))
    audit = ScriptAudit()

    audit.feed(response.content.decode())

    assert response.status_code == 200
    assert audit.inline_scripts == 0
    assert audit.handlers == []


def test_the_enrolment_page_draws_its_qr_code_without_script(client):
    from accounts.models import Role
    from tests.factories import UserFactory

    client.force_login(UserFactory(role=Role.COORDINATOR))
    audit = ScriptAudit()

    audit.feed(client.get(reverse("accounts:otp_setup")).content.decode())

    assert audit.inline_scripts == 0
