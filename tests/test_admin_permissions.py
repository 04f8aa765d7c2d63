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


@pytest.fixture
def appointment(coordinator):
    """A virtual visit on Wednesday 2 December 2026 (the clock: Monday 16 November)."""
    from scheduling.models import Appointment
    from tests.factories import DepartmentFactory
    from tests.scheduling.conftest import ny

    return Appointment.objects.create(
        department=DepartmentFactory(),
        parent_name="Jordan Rivera",
        email="parent@example.org",
        child_first_name="Alex",
        kind="virtual",
        video_link="https://video.example.org/room",
        provider="Dr. Chen",
        starts_at=ny(2026, 12, 2, 10),
        created_by=coordinator,
    )


# page → (what is posted, what the appointment is after it when the post is allowed)
APPOINTMENT_POSTS = {
    "move": (
        {
            "starts_at_0": "2026-12-09",
            "starts_at_1": "14:30",
            "video_link": "https://v.example.org/2",
        },
        ("scheduled", "https://v.example.org/2"),
    ),
    "cancel": (
        {"reason": "The family asked to wait"},
        ("cancelled", "https://video.example.org/room"),
    ),
}


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, (LOGIN, NOT_FOUND, NOT_FOUND, 302, 302, NOT_FOUND, NOT_FOUND), strict=True)),
)
@pytest.mark.parametrize("page", list(APPOINTMENT_POSTS))
def test_only_coordinators_and_admins_can_move_or_cancel_an_appointment(
    request, client, appointment, page, persona, expected
):
    import time_machine

    from notifications.models import Message
    from tests.scheduling.conftest import NOW

    data, allowed = APPOINTMENT_POSTS[page]
    with time_machine.travel(NOW, tick=False):
        sign_in(client, request.getfixturevalue(persona))

        response = client.post(
            reverse(f"admin:scheduling_appointment_{page}", args=[appointment.pk]), data
        )

    appointment.refresh_from_db()
    assert outcome(response) == expected
    after = (appointment.status, appointment.video_link)
    assert after == (
        allowed if expected == 302 else ("scheduled", "https://video.example.org/room")
    )
    assert Message.objects.filter(to="parent@example.org").exists() is (expected == 302)


# --- The pages of requests started by phone, and of who shares a request ----------------------

NEW_ADDRESS = "new.address@example.org"
ON_THE_PHONE = {
    "state": "GA",
    "zip_code": "31401",
    "patient_age": "12",
    "hospitalized": "no",
    "legal_name": "Avery Jordan Parker",
    "email": "avery.parent@example.org",
    "phone": "(912) 555-0143",
    "relationship": "mother",
    "first_name": "Mia",
    "last_name": "Parker",
    "date_of_birth": "2014-05-30",
}


@pytest.fixture
def phone_led(coordinator):
    """A draft a coordinator started on the phone (the family has joined it), a second
    guardian who joined it, the pediatrician's open upload link, and another phone-led draft
    whose family has not been invited yet: (request, access, link, uninvited)."""
    from datetime import date

    from intake import services
    from intake.eligibility import EligibilityAnswers
    from tests.factories import ReviewServiceFactory, UserFactory

    request = services.review_request_start_for_family(
        service=ReviewServiceFactory(),
        eligibility=EligibilityAnswers(
            state="GA", zip_code="31401", patient_age=12, hospitalized=False
        ),
        guardian={"legal_name": "Avery Jordan Parker", "email": "avery.parent@example.org"},
        child={"first_name": "Mia", "last_name": "Parker", "date_of_birth": date(2014, 5, 30)},
        actor=coordinator,
    )
    family = services.invitation_send(
        review_request=request, kind="family", email="avery.parent@example.org", actor=coordinator
    )
    services.invitation_accept(
        invitation=family,
        user=UserFactory(email="avery.parent@example.org"),
        details={"child_date_of_birth": date(2014, 5, 30)},
    )
    second = UserFactory(email="casey.parker@example.org", full_name="Casey Parker")
    invitation = services.invitation_send(
        review_request=request, kind="guardian", email=second.email, actor=coordinator
    )
    services.invitation_accept(
        invitation=invitation,
        user=second,
        details={"legal_name": "Casey Parker", "relationship": "father"},
    )
    link = services.invitation_send(
        review_request=request,
        kind="pediatrician",
        email="dr.ortiz@pediatrics.example.org",
        actor=coordinator,
    )
    uninvited = services.review_request_start_for_family(
        service=request.service,
        eligibility=EligibilityAnswers(
            state="GA", zip_code="31401", patient_age=12, hospitalized=False
        ),
        guardian={"legal_name": "Robin Lee", "email": "robin.lee@example.org"},
        child={"first_name": "Noa", "last_name": "Lee", "date_of_birth": date(2015, 1, 2)},
        actor=coordinator,
    )
    return request, invitation.access, link, uninvited


def phone_led_url(page, phone_led):
    request, access, link, uninvited = phone_led
    if page == "invite_family":
        return reverse("admin:intake_reviewrequest_invite", args=[uninvited.pk, "family"])
    if page.startswith("invite_"):
        return reverse("admin:intake_reviewrequest_invite", args=[request.pk, page[7:]])
    if page == "revoke":
        return reverse("admin:intake_reviewrequest_revoke", args=[request.pk, link.pk])
    if page == "remove_access":
        return reverse("admin:intake_reviewrequest_remove_access", args=[request.pk, access.pk])
    return reverse(f"admin:intake_reviewrequest_{page}")


# page → what coordinators and admins get on GET (revoke and remove only POST: a GET leads to
# the request's page). Everyone else: sign in, or a 404.
PHONE_LED_PAGES = {
    "start": OK,
    "funnel": OK,
    "invite_family": OK,
    "invite_guardian": OK,
    "invite_pediatrician": OK,
    "revoke": 302,
    "remove_access": 302,
}


@pytest.mark.parametrize(
    ("page", "persona", "expected"),
    [
        (page, persona, expected)
        for page, staff in PHONE_LED_PAGES.items()
        for persona, expected in zip(PERSONAS, (*OUTSIDERS, staff, staff, *REVIEWERS), strict=True)
    ],
)
def test_phone_led_and_sharing_pages(request, client, phone_led, page, persona, expected):
    sign_in(client, request.getfixturevalue(persona))

    response = client.get(phone_led_url(page, phone_led))

    assert outcome(response) == expected
    if expected == 302:
        target = reverse("admin:intake_reviewrequest_change", args=[phone_led[0].pk])
        assert response["Location"] == target


def phone_led_changes(phone_led) -> dict:
    """What the pages may change: requests, links sent to NEW_ADDRESS, the upload link's
    withdrawal, the second guardian's access."""
    from intake.models import Invitation, ReviewRequest

    _, access, link, _ = phone_led
    link.refresh_from_db()
    access.refresh_from_db()
    return {
        "start": ReviewRequest.objects.count() > 2,
        "invite": Invitation.objects.filter(email=NEW_ADDRESS).exists(),
        "revoke": link.revoked_at is not None,
        "remove_access": access.removed_at is not None,
    }


# page posted → what it changes (a new upload link withdraws the open one).
EFFECTS = {
    "start": {"start"},
    "invite_family": {"invite"},
    "invite_guardian": {"invite"},
    "invite_pediatrician": {"invite", "revoke"},
    "revoke": {"revoke"},
    "remove_access": {"remove_access"},
}


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, (LOGIN, NOT_FOUND, NOT_FOUND, 302, 302, NOT_FOUND, NOT_FOUND), strict=True)),
)
@pytest.mark.parametrize("page", list(EFFECTS))
def test_only_coordinators_and_admins_can_start_invite_revoke_and_remove(
    request, client, phone_led, page, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))
    service = phone_led[0].service

    response = client.post(
        phone_led_url(page, phone_led),
        {**ON_THE_PHONE, "service": service.pk, "email": NEW_ADDRESS},
    )

    assert outcome(response) == expected
    changed = {name for name, made in phone_led_changes(phone_led).items() if made}
    assert changed == (EFFECTS[page] if expected == 302 else set())
