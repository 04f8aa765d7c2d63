"""Every admin page of every registered model against every persona, and the one admin page
that changes a status (the move) posted by every persona."""

import pytest
from django.contrib import admin
from django.urls import reverse

from intake.lifecycle import Status
from tests.conftest import PERSONAS, sign_in
from tests.factories import review_request

pytestmark = pytest.mark.django_db

LOGIN, OK, FORBIDDEN, NOT_FOUND = "login", 200, 403, 404
OUTSIDERS = (LOGIN, NOT_FOUND, NOT_FOUND)  # anonymous, family, other family
REVIEWERS = (NOT_FOUND, NOT_FOUND)  # assigned and unassigned reviewer

# changelist → (coordinator, admin)
STAFF = {
    "accounts_user": (OK, OK),
    "auth_group": (FORBIDDEN, FORBIDDEN),
    "axes_accessattempt": (FORBIDDEN, OK),
    "axes_accessfailurelog": (FORBIDDEN, OK),
    "axes_accesslog": (FORBIDDEN, OK),
    "intake_consenttext": (OK, OK),
    "intake_department": (OK, OK),
    "intake_questionnaire": (OK, OK),
    "intake_requestevent": (OK, OK),
    "intake_reviewrequest": (OK, OK),
    "intake_reviewservice": (OK, OK),
    "notifications_message": (OK, OK),
    "reviews_reviewassignment": (OK, OK),
    "reviews_reviewerprofile": (OK, OK),
    "reviews_finalopinion": (OK, OK),
    "reviews_delivery": (OK, OK),
    "reviews_followupquestion": (OK, OK),
    "reviews_deadlinealert": (OK, OK),
    "records_accesslog": (OK, OK),
    "billing_payment": (OK, OK),
    "billing_refund": (OK, OK),
    "billing_stripeevent": (OK, OK),
    "billing_webhookattempt": (OK, OK),
    "scheduling_coordinator": (OK, OK),
    "scheduling_availabilityexception": (OK, OK),
    "scheduling_booking": (OK, OK),
    "scheduling_appointment": (OK, OK),
    "scheduling_appointmentlocation": (OK, OK),
}
CASES = [
    (page, persona, expected)
    for page, staff in STAFF.items()
    for persona, expected in zip(PERSONAS, (*OUTSIDERS, *staff, *REVIEWERS), strict=True)
]


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize(("page", "persona", "expected"), CASES)
def test_admin_list_pages(request, client, page, persona, expected):
    sign_in(client, request.getfixturevalue(persona))

    assert outcome(client.get(reverse(f"admin:{page}_changelist"))) == expected


def test_every_registered_model_is_in_the_table():
    registered = {
        f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry
    }

    assert registered == set(STAFF)


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, (LOGIN, NOT_FOUND, NOT_FOUND, 302, 302, NOT_FOUND, NOT_FOUND), strict=True)),
)
def test_only_coordinators_and_admins_can_post_a_move(request, client, family, persona, expected):
    target = review_request(family=family, status=Status.SUBMITTED)
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("admin:intake_reviewrequest_move", args=[target.pk]),
        {"to_status": Status.IN_REVIEW, "note": ""},
    )

    target.refresh_from_db()
    assert outcome(response) == expected
    assert target.status == (Status.IN_REVIEW if expected == 302 else Status.SUBMITTED)


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, (LOGIN, NOT_FOUND, NOT_FOUND, 302, 302, NOT_FOUND, NOT_FOUND), strict=True)),
)
def test_only_coordinators_and_admins_can_cancel_a_call_from_the_admin(
    request, client, persona, expected
):
    import time_machine

    from scheduling.models import Booking
    from tests.factories import DepartmentFactory
    from tests.scheduling.conftest import NOW, add_coordinator, book, ny

    department = DepartmentFactory()
    add_coordinator(department, request.getfixturevalue("coordinator"))
    with time_machine.travel(NOW, tick=False):
        call = book(department, ny(2026, 11, 18, 9))
        sign_in(client, request.getfixturevalue(persona))

        response = client.post(reverse("admin:scheduling_booking_step", args=[call.pk, "cancel"]))

    call.refresh_from_db()
    assert outcome(response) == expected
    assert call.status == (Booking.Status.CANCELLED if expected == 302 else Booking.Status.BOOKED)
