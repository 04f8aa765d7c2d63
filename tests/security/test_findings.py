"""What the probe of the web surface found, one test each (docs/security.md, "Probe of the
web surface"). Each failed before its fix: on PostgreSQL the reference, department and
autocomplete cases with a NUL were server errors, on SQLite they answered as if nothing was
wrong; the admin's searches answered 200 and are refused now like every NUL in an address.
The last two were server errors on SQLite only (the embedded default)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

REFUSED = "We could not read that request"


def test_a_reference_with_a_nul_character_is_refused_not_a_server_error(client, family):
    # PostgreSQL refuses NUL in text: the lookup of such a reference used to fail with a 500.
    sign_in(client, family)

    response = client.get("/requests/SO-%00-0000/")

    assert response.status_code == 400
    assert REFUSED in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("anonymous", "/calls/?department=%00"),
        ("admin_user", "/admin/intake/reviewrequest/?q=SO-%00"),
        ("admin_user", "/admin/accounts/user/?q=%00"),
        (
            "admin_user",
            "/admin/autocomplete/?app_label=intake&model_name=department&field_name=program_lead&term=%00",
        ),
        ("assigned_reviewer", "/reviews/cases/SO-%00/"),
    ],
)
def test_a_nul_character_in_a_query_or_search_is_refused(request, persona, url):
    client = sign_in(Client(raise_request_exception=False), request.getfixturevalue(persona))

    response = client.get(url)

    assert response.status_code == 400


def test_a_content_length_that_is_not_a_number_is_refused(client):
    # Django's own reading of the body raised ValueError on it: a 500 on every form.
    response = client.post(
        reverse("accounts:login"),
        b"username=a%40example.org",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="12x",
    )

    assert response.status_code == 400


def test_a_nul_character_typed_in_a_form_is_shown_next_to_its_field(client, family, family_draft):
    sign_in(client, family)
    url = reverse("intake:wizard_child", args=[family_draft.reference])

    response = client.post(url, {"first_name": "Al\x00ex", "last_name": "Rivera", "go": "stay"})

    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()
    assert 'value="Rivera"' in response.content.decode()  # what was typed is kept


@pytest.mark.parametrize("next_url", ["a b", "NaN", "2026-02-30"])
def test_a_next_that_is_a_bare_word_returns_to_the_status_page(client, family_request, next_url):
    # ``redirect`` took the word for the name of a view: NoReverseMatch, a 500.
    sign_in(client, family_request.family)
    url = reverse("intake:request_invite", args=[family_request.reference, "guardian"])

    response = client.post(url, {"guardian-email": "second@example.org", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == reverse("intake:request_detail", args=[family_request.reference])


@pytest.mark.parametrize("chosen", ["abc", "2026-02-30", "1.5", "1e400"])
def test_the_phone_payment_page_ignores_a_request_that_is_not_a_number(client, admin_user, chosen):
    # The page filtered requests by "?request=" as given: ValueError, a 500.
    sign_in(client, admin_user)

    response = client.get(reverse("admin:billing_payment_add"), {"request": chosen})

    assert response.status_code == 200


def test_the_request_page_survives_a_post_naming_links_that_do_not_exist(coordinator, world):
    # The read-only list of links drew a blank row for each link posted but missing, and a
    # blank row's state compared a missing expiry date: TypeError, a 500.
    from tests.security.walk import page_forms

    client = sign_in(Client(raise_request_exception=False), coordinator)
    url = reverse("admin:intake_reviewrequest_change", args=[world.request.pk])
    form = page_forms(client.get(url).content.decode(), url)[0]
    # The list's row ids and counts tampered with (links that do not exist).
    claimed = {name: "9" * 20 for name in form.names if name.startswith("invitations-")}

    response = client.post(url, {**form.fields, **claimed})

    assert response.status_code == 200


def test_the_delivery_page_of_an_id_beyond_the_databases_integers_is_not_found(client, admin_user):
    # SQLite raised OverflowError looking it up through the foreign key: a 500.
    sign_in(client, admin_user)

    response = client.get(reverse("admin:reviews_deliver", args=[int("9" * 23)]))

    assert response.status_code == 404


def test_a_reviewer_pool_naming_a_service_id_beyond_the_databases_integers_is_refused(
    client, admin_user, assigned_reviewer
):
    # SQLite raised OverflowError checking the chosen services: a 500.
    sign_in(client, admin_user)

    response = client.post(
        reverse("admin:reviews_reviewerprofile_add"),
        {"user": assigned_reviewer.pk, "services": "9" * 23, "credentials": "MD"},
    )

    assert response.status_code == 200
    assert "is not one of the available choices" in response.content.decode()
