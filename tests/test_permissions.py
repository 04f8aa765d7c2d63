"""Every page against every persona: who gets it, who is sent to sign in, who gets a 404.

A page that is not yours answers 404, exactly like a page that does not exist.
"""

from datetime import timedelta

import pytest
from django.urls import Resolver404, resolve, reverse

from tests.conftest import PERSONAS, sign_in

pytestmark = pytest.mark.django_db

LOGIN = "login"
OK = 200
FORBIDDEN = 403
NOT_FOUND = 404

# persona → outcome, in the order of PERSONAS:
# anonymous, family, other_family, coordinator, admin_user, assigned_reviewer, unassigned_reviewer
EVERYONE = (OK,) * 7
GET_NOT_ALLOWED = (405,) * 7  # POST-only (or webhook) pages
STAFF = (LOGIN, NOT_FOUND, NOT_FOUND, OK, OK, NOT_FOUND, NOT_FOUND)
OWN_DRAFT = (LOGIN, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
SEES_THE_REQUEST = (LOGIN, OK, NOT_FOUND, OK, OK, OK, NOT_FOUND)
# The reviewer workspace: only a reviewer on the request's panel now.
PANEL_ONLY = (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)
SECOND_FACTOR = (LOGIN, NOT_FOUND, NOT_FOUND, "done", "done", "done", "done")
SIGNED_OUT_ONLY = (OK, "done", "done", "done", "done", "done", "done")
# Pages reached by the token of an e-mailed link: whoever holds the link, signed in or not. An
# invitation is for one address, and none of the personas is the invited guardian: signed in
# to another account (staff included) it is a 403 and nothing is attached. The link's other
# states (expired, revoked, tampered) are in test_token_pages below.
INVITED_ADDRESS_ONLY = (OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)

MATRIX = {
    "intake:catalogue": EVERYONE,
    "healthz": EVERYONE,
    "intake:my_requests": (LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "intake:request_detail": SEES_THE_REQUEST,
    "reviews:my_reviews": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK),
    "reviews:case": PANEL_ONLY,
    "reviews:opinion": PANEL_ONLY,
    "reviews:decline": PANEL_ONLY,
    "reviews:final": PANEL_ONLY,  # the assigned reviewer leads the family's panel
    "reviews:autosave": GET_NOT_ALLOWED,
    "reviews:amend": GET_NOT_ALLOWED,
    "reviews:follow_up_answer": GET_NOT_ALLOWED,
    "reviews:follow_up_ask": GET_NOT_ALLOWED,
    # The imaging viewer and the panel's measurements and key images on a study.
    "reviews:viewer": PANEL_ONLY,
    "reviews:measurements": PANEL_ONLY,
    "reviews:measurement_delete": GET_NOT_ALLOWED,
    "reviews:key_images": GET_NOT_ALLOWED,
    "admin:reviews_panel": STAFF,
    "admin:reviews_deliver": STAFF,
    "admin:index": STAFF,
    "admin:intake_reviewrequest_changelist": STAFF,
    "admin:intake_reviewrequest_change": STAFF,
    "admin:intake_reviewrequest_move": STAFF,
    "admin:accounts_user_changelist": STAFF,
    "admin:intake_reviewservice_changelist": STAFF,
    "admin:notifications_message_changelist": STAFF,
    "accounts:otp_setup": SECOND_FACTOR,
    "accounts:otp_verify": SECOND_FACTOR,
    "accounts:home": (
        LOGIN,
        "intake:my_requests",
        "intake:my_requests",
        "admin:index",
        "admin:index",
        "reviews:my_reviews",
        "reviews:my_reviews",
    ),
    # The family's path. Only the family fills in its own draft; staff read, never edit it.
    "intake:service_detail": EVERYONE,
    "intake:start": GET_NOT_ALLOWED,
    # After signing in from an eligibility result: into the request the sign-in started, or
    # (nothing started in this session, as here) back to the service's page.
    "intake:start_continue": (LOGIN,) + ("service page",) * 6,
    # "Not sent yet: continue": the family's own draft, at its first unfinished step.
    "intake:wizard_resume": (LOGIN, "a wizard step") + (NOT_FOUND,) * 5,
    "intake:request_answer": GET_NOT_ALLOWED,
    "intake:wizard_guardian": OWN_DRAFT,
    "intake:wizard_child": OWN_DRAFT,
    "intake:wizard_questionnaire": OWN_DRAFT,
    "intake:wizard_consent": OWN_DRAFT,
    "intake:wizard_review": OWN_DRAFT,
    "records:wizard_referral": OWN_DRAFT,
    "records:wizard_documents": OWN_DRAFT,
    "records:upload": GET_NOT_ALLOWED,
    # The upload panel as it is now, for the page's script: the family's own request only.
    "records:upload_status": (LOGIN, OK) + (NOT_FOUND,) * 5,
    "records:remove": GET_NOT_ALLOWED,
    # A report held aside from the family's imaging CD (posted: tests/records/test_held_files.py).
    "records:held_add": GET_NOT_ALLOWED,
    "records:held_discard": GET_NOT_ALLOWED,
    # Sharing the request: POST-only, its primary guardian only (see POSTED).
    "intake:request_invite": GET_NOT_ALLOWED,
    "intake:request_link_revoke": GET_NOT_ALLOWED,
    "intake:request_access_remove": GET_NOT_ALLOWED,
    # Links e-mailed to a second guardian and to the pediatrician (upload only).
    "intake:invitation": INVITED_ADDRESS_ONLY,
    "records:pediatrician_upload": EVERYONE,
    # Everyone who may see the request may read its files; the rest get a 404 (and a log line).
    "records:document_file": SEES_THE_REQUEST,
    "records:preview": SEES_THE_REQUEST,
    # The imaging viewer's images: the panel and the coordinators, never the family. An image
    # URL carries the key of the person who opened the series (here the assigned reviewer);
    # coordinators fetch with their own key (tests/records/test_frames.py).
    "records:series_open": (LOGIN, NOT_FOUND, NOT_FOUND, OK, OK, OK, NOT_FOUND),
    "records:series_image": (NOT_FOUND,) * 5 + (OK, NOT_FOUND),
    # Payments: only the family pays; whoever may see the request may see its receipt.
    "billing:pay": GET_NOT_ALLOWED,
    "billing:paid": SEES_THE_REQUEST,
    "billing:receipt": SEES_THE_REQUEST,
    "billing:stripe_webhook": GET_NOT_ALLOWED,
    # Public pages. Signed-in people are sent on from sign-in and sign-up.
    "accounts:login": SIGNED_OUT_ONLY,
    "accounts:sign_up": SIGNED_OUT_ONLY,
    "accounts:logout": GET_NOT_ALLOWED,
    "accounts:language": GET_NOT_ALLOWED,
    "accounts:check_email": EVERYONE,
    "accounts:resend_verification": EVERYONE,
    "accounts:verify_email": (NOT_FOUND,) * 7,
    "accounts:password_reset": EVERYONE,
    "accounts:password_reset_done": EVERYONE,
    "accounts:password_reset_confirm": EVERYONE,
    "accounts:password_reset_complete": EVERYONE,
    # Informational calls: booked without an account; changed by whoever holds the link.
    "scheduling:start": EVERYONE,
    "scheduling:slots": EVERYONE,
    "scheduling:book": EVERYONE,
    "scheduling:booked": ("/calls/",) * 7,  # only the browser that booked sees its call
    "scheduling:booked_invite": ("/calls/",) * 7,
    "scheduling:reschedule": EVERYONE,
    "scheduling:cancel": EVERYONE,
    "scheduling:precall": EVERYONE,
    "scheduling:my_calls": (LOGIN, OK, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "scheduling:booking_invite": OWN_DRAFT,  # the family's own call only
    "scheduling:appointment_invite": OWN_DRAFT,
    "admin:scheduling_booking_changelist": STAFF,
    "admin:scheduling_booking_change": STAFF,
    "admin:scheduling_booking_outcome": STAFF,
    "admin:scheduling_booking_step": STAFF,
    "admin:scheduling_booking_overview": STAFF,
    "admin:scheduling_appointment_add": STAFF,
    "admin:scheduling_appointment_change": STAFF,
    "admin:scheduling_appointment_move": STAFF,
    "admin:scheduling_appointment_cancel": STAFF,
}

CASES = [
    (view, persona, expected)
    for view, outcomes in MATRIX.items()
    for persona, expected in zip(PERSONAS, outcomes, strict=True)
]


WIZARD = {
    "intake:wizard_guardian",
    "intake:wizard_child",
    "intake:wizard_questionnaire",
    "intake:wizard_consent",
    "intake:wizard_review",
    "records:wizard_referral",
    "records:wizard_documents",
    "records:upload",
    "records:upload_status",
    "intake:wizard_resume",
}


@pytest.fixture
def family_call(family, coordinator):
    """A call the family booked while signed in, and an appointment set up after it."""
    from datetime import time

    from django.utils import timezone

    from scheduling.models import Appointment
    from scheduling.services import booking_create
    from scheduling.slots import slots_open
    from tests.factories import DepartmentFactory
    from tests.scheduling.conftest import DETAILS, add_coordinator

    department = DepartmentFactory(minimum_notice_hours=1)
    add_coordinator(department, coordinator, hours=((time(0), time(23, 59)),), weekdays=range(7))
    start = slots_open(department=department, now=timezone.now())[0].starts_at
    booking = booking_create(
        department=department,
        starts_at=start,
        details=DETAILS,
        family_time_zone="UTC",
        family=family,
    )
    appointment = Appointment.objects.create(
        booking=booking,
        department=department,
        family=family,
        parent_name="Jordan Rivera",
        email=family.email,
        child_first_name="Alex",
        kind="virtual",
        video_link="https://video.example.org/room",
        provider="Dr. Chen",
        starts_at=start + timedelta(days=3),
        created_by=coordinator,
    )
    return booking, appointment


def scheduling_url(view, family_call):
    from scheduling.forms import format_start
    from scheduling.links import booking_token

    booking, appointment = family_call
    if view in {"scheduling:reschedule", "scheduling:cancel", "scheduling:precall"}:
        return reverse(view, args=[booking_token(booking, view.split(":")[1])])
    if view == "scheduling:slots":
        return reverse(view, args=[booking.department.slug])
    if view == "scheduling:book":
        start = format_start(booking.starts_at + timedelta(hours=2))
        return f"{reverse(view, args=[booking.department.slug])}?start={start}"
    if view == "scheduling:booking_invite":
        return reverse(view, args=[booking.public_id])
    if view == "scheduling:appointment_invite":
        return reverse(view, args=[appointment.public_id])
    if view == "admin:scheduling_booking_step":
        return reverse(view, args=[booking.pk, "precall"])
    if view in {"admin:scheduling_booking_change", "admin:scheduling_booking_outcome"}:
        return reverse(view, args=[booking.pk])
    if view in {
        "admin:scheduling_appointment_change",
        "admin:scheduling_appointment_move",
        "admin:scheduling_appointment_cancel",
    }:
        return reverse(view, args=[appointment.pk])
    return reverse(view)


SECOND_GUARDIAN = "second.guardian@example.org"
INVITED_GUARDIAN = "invited.guardian@example.org"
PEDIATRICIAN = "dr.ortiz@pediatrics.example.org"
SHARING = {"intake:request_invite", "intake:request_link_revoke", "intake:request_access_remove"}


def people_on(family_request):
    """The family shared its request: a second guardian joined (their access), and another
    guardian's invitation is still open (the link)."""
    from intake import services
    from tests.factories import UserFactory

    second = UserFactory(email=SECOND_GUARDIAN, full_name="Casey Rivera")
    joined = services.invitation_send(
        review_request=family_request,
        kind="guardian",
        email=SECOND_GUARDIAN,
        actor=family_request.family,
    )
    services.invitation_accept(
        invitation=joined,
        user=second,
        details={"legal_name": "Casey Rivera", "relationship": "father"},
    )
    link = services.invitation_send(
        review_request=family_request,
        kind="guardian",
        email=INVITED_GUARDIAN,
        actor=family_request.family,
    )
    return joined.access, link


def sharing_url(view, family_request):
    access, link = people_on(family_request)
    if view == "intake:request_invite":
        return reverse(view, args=[family_request.reference, "guardian"])
    if view == "intake:request_link_revoke":
        return reverse(view, args=[family_request.reference, link.pk])
    return reverse(view, args=[family_request.reference, access.pk])


def token_url(view, family_request, family_draft):
    """The link as e-mailed: a guardian's invitation to the family's request, or the
    pediatrician's upload link to the family's draft (the only kind of request it opens for)."""
    from intake import services
    from intake.links import invitation_url

    if view == "intake:invitation":
        _, link = people_on(family_request)
    else:
        link = services.invitation_send(
            review_request=family_draft,
            kind="pediatrician",
            email=PEDIATRICIAN,
            actor=family_draft.family,
        )
    return invitation_url(link).removeprefix("http://testserver")


def url_for(view, family_request, family_draft=None, family_call=None):
    if "scheduling" in view:
        return scheduling_url(view, family_call)
    if view in SHARING:
        return sharing_url(view, family_request)
    if view in {"intake:invitation", "records:pediatrician_upload"}:
        return token_url(view, family_request, family_draft)
    if view in WIZARD:
        return reverse(view, args=[family_draft.reference])
    if view in {"intake:request_answer", "billing:pay", "billing:paid", "billing:receipt"}:
        return reverse(view, args=[family_request.reference])
    if view in {"intake:service_detail", "intake:start", "intake:start_continue"}:
        return reverse(view, args=[family_draft.service.slug])
    if view in {"records:held_add", "records:held_discard"}:
        from uuid import uuid4

        return reverse(view, args=[family_draft.reference, uuid4()])
    if view == "records:remove":
        return reverse(view, args=[family_request.reference, family_request.documents.get().pk])
    if view == "records:document_file":
        return reverse(view, args=[family_request.documents.get().pk])
    if view == "records:preview":
        return reverse(view, args=[family_request.documents.get().previews.get().pk])
    if view in IMAGING_PAGES:
        return imaging_url(view, family_request)
    if view == "accounts:verify_email":
        return reverse(view, args=["not-a-real-token"])
    if view == "accounts:password_reset_confirm":
        return reverse(view, args=["MQ", "not-a-real-token"])
    if view == "intake:request_detail":
        return reverse(view, args=[family_request.reference])
    if view in {
        "admin:intake_reviewrequest_change",
        "admin:intake_reviewrequest_move",
        "admin:reviews_panel",
    }:
        return reverse(view, args=[family_request.pk])
    if view.startswith("reviews:") and view != "reviews:my_reviews":
        return reviews_url(view, family_request)
    if view == "admin:reviews_deliver":
        signed_opinion(family_request)
        return reverse(view, args=[family_request.pk])
    return reverse(view)


IMAGING_PAGES = {
    "records:series_open",
    "records:series_image",
    "reviews:viewer",
    "reviews:measurements",
    "reviews:measurement_delete",
    "reviews:key_images",
}


def imaging_url(view, family_request):
    """A DICOM image on the family's request; an image URL as its panel member got it."""
    from django.core import signing

    from records.frame_views import KEY_SALT
    from tests.records.imaging import stored_imaging, with_patient

    document = stored_imaging(family_request, with_patient())
    if view == "records:series_open":
        return reverse(view, args=[document.pk, 1])
    if view == "reviews:measurement_delete":
        from uuid import uuid4

        return reverse(view, args=[family_request.reference, document.pk, uuid4()])
    if view.startswith("reviews:"):
        return reverse(view, args=[family_request.reference, document.pk])
    reviewer = family_request.assignments.get().reviewer_id
    key = signing.dumps([str(document.pk), 1, reviewer], salt=KEY_SALT, compress=True)
    return reverse(view, args=[key, 1])


def reviews_url(view, family_request):
    if view == "reviews:follow_up_answer":
        return reverse(view, args=[family_request.reference, 1])
    return reverse(view, args=[family_request.reference])


def signed_opinion(family_request):
    """The assigned reviewer (the family's panel of one) submits and signs: ready to deliver."""
    from intake.models import ReviewService
    from reviews import services
    from tests.reviews.panel_setup import FINAL, OPINION

    ReviewService.objects.filter(pk=family_request.service_id).update(reviewers_required=1)
    family_request.service.reviewers_required = 1
    lead = family_request.assignments.get().reviewer
    services.opinion_submit(review_request=family_request, fields=OPINION, actor=lead)
    services.final_opinion_sign(
        review_request=family_request, fields=FINAL, signed_name=lead.full_name, actor=lead
    )


# POST-only pages of the review workspace, the family's question and the sharing of the
# request, posted by everyone. Only the primary guardian shares the request (a second guardian
# gets a 404 too: tests/intake/test_shared_permissions.py).
PRIMARY_ONLY = (LOGIN, "back", NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
POSTED = {
    "reviews:autosave": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND),
    "reviews:amend": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, "opinion", NOT_FOUND),
    "reviews:follow_up_ask": (LOGIN, "back", NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
    "intake:request_invite": PRIMARY_ONLY,
    "intake:request_link_revoke": PRIMARY_ONLY,
    "intake:request_access_remove": PRIMARY_ONLY,
    # Sent as form data, not the JSON the viewer sends: refused as unreadable (400), and
    # a measurement that is not there is a 404, even to the panel.
    "reviews:measurements": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, 400, NOT_FOUND),
    "reviews:key_images": (LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, 400, NOT_FOUND),
    "reviews:measurement_delete": (LOGIN,) + (NOT_FOUND,) * 6,
}
NEW_GUARDIAN = "new.guardian@example.org"


def sharing_changes(family_request) -> int:
    """What the sharing pages changed: invitations sent to NEW_GUARDIAN, links withdrawn
    (sending one withdraws the open one), second guardians removed."""
    return (
        family_request.invitations.filter(email=NEW_GUARDIAN).count()
        + family_request.invitations.filter(revoked_at__isnull=False).count()
        + family_request.shared_accesses.filter(removed_at__isnull=False).count()
    )


@pytest.mark.parametrize(
    ("view", "persona", "expected"),
    [
        (view, persona, expected)
        for view, outcomes in POSTED.items()
        for persona, expected in zip(PERSONAS, outcomes, strict=True)
    ],
)
def test_posted_pages(request, client, family_request, view, persona, expected):
    if view in SHARING:
        url = sharing_url(view, family_request)
    elif view in IMAGING_PAGES:
        url = imaging_url(view, family_request)
    else:
        url = reverse(view, args=[family_request.reference])
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        url,
        {"findings": "Seen.", "question": "Is surgery needed?", "guardian-email": NEW_GUARDIAN},
    )

    if response.status_code == 302 and expected == "opinion":
        assert response["Location"] == reverse("reviews:opinion", args=[family_request.reference])
    elif response.status_code == 302 and expected == "back":
        location = reverse("intake:request_detail", args=[family_request.reference])
        assert response["Location"] == location
    else:
        assert outcome(response) == expected
    if view in SHARING:
        # Nothing changes unless the primary guardian posted.
        assert bool(sharing_changes(family_request)) == (expected == "back")


def outcome(response):
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("accounts:login")):
        return LOGIN
    if location == reverse("accounts:home"):
        return "done"  # the second factor is already passed: nothing to do there
    for name in ("intake:my_requests", "admin:index", "reviews:my_reviews"):
        if location == reverse(name):
            return name
    try:
        view = resolve(location.split("?")[0]).view_name
    except Resolver404:
        return location
    if view == "intake:service_detail":
        return "service page"
    if view.startswith(("intake:wizard_", "records:wizard_")):
        return "a wizard step"
    return location


@pytest.mark.parametrize(("view", "persona", "expected"), CASES)
def test_page_access(
    request, client, family_request, family_draft, family_call, view, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))

    response = client.get(url_for(view, family_request, family_draft, family_call))
    response.close()  # a file response holds its file open until closed

    assert outcome(response) == expected


# The e-mailed links in each state, for every persona. A genuine open link works for whoever
# holds it (an invitation only for its own address); an expired or withdrawn one says what
# happened and how to get a new one (410); a tampered one is no link of ours (404).
CLOSED = (410,) * 7
TAMPERED = (NOT_FOUND,) * 7
TOKEN_PAGES = {
    "intake:invitation": {
        "open": INVITED_ADDRESS_ONLY,
        "expired": CLOSED,
        "revoked": CLOSED,
        "tampered": TAMPERED,
    },
    "records:pediatrician_upload": {
        "open": EVERYONE,
        "expired": CLOSED,
        "revoked": CLOSED,
        "tampered": TAMPERED,
    },
}
HEADINGS = {
    FORBIDDEN: "This invitation is for another e-mail address",
    410: "This link no longer works",
    NOT_FOUND: "This link does not work",
}


def link_in_state(url: str, state: str) -> str:
    """The link of ``url`` (the latest one sent) made expired, revoked or tampered with."""
    from django.utils import timezone

    from intake.models import Invitation
    from intake.services import invitation_revoke

    link = Invitation.objects.latest("pk")
    if state == "expired":
        Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    elif state == "revoked":
        invitation_revoke(invitation=link, actor=link.request.family)
    elif state == "tampered":
        prefix, token = url.rstrip("/").rsplit("/", 1)
        token = ("1" if token[0] == "0" else "0") + token[1:]  # one character of the key
        return f"{prefix}/{token}/"
    return url


@pytest.mark.parametrize(
    ("view", "state", "persona", "expected"),
    [
        (view, state, persona, expected)
        for view, states in TOKEN_PAGES.items()
        for state, outcomes in states.items()
        for persona, expected in zip(PERSONAS, outcomes, strict=True)
    ],
)
def test_token_pages(request, client, family_request, family_draft, view, state, persona, expected):
    from intake.models import Invitation, SharedAccess

    url = link_in_state(token_url(view, family_request, family_draft), state)
    link = Invitation.objects.latest("pk")
    user = request.getfixturevalue(persona)
    sign_in(client, user)

    response = client.get(url)

    assert outcome(response) == expected
    if expected in HEADINGS:
        assert HEADINGS[expected] in response.content.decode()
    if view == "intake:invitation" and user is not None:
        # Stating a second guardian's details does not attach anyone else either.
        posted = client.post(url, {"legal_name": user.full_name, "relationship": "father"})
        assert posted.status_code == expected
        link.refresh_from_db()
        assert link.accepted_at is None
        assert not SharedAccess.objects.filter(invitation=link).exists()


def test_the_permission_matrix_names_every_page_of_the_portal():
    from django.urls import get_resolver

    portal_pages = {
        f"{namespace}:{name}"
        for namespace in ("intake", "records", "billing", "reviews", "accounts", "scheduling")
        for name in get_resolver().namespace_dict[namespace][1].reverse_dict
        if isinstance(name, str)
    }
    assert portal_pages <= set(MATRIX)


@pytest.mark.parametrize("persona", ["coordinator", "admin_user", "assigned_reviewer"])
@pytest.mark.parametrize(
    "view", ["admin:index", "intake:request_detail", "reviews:my_reviews", "intake:catalogue"]
)
def test_staff_who_have_not_passed_their_code_are_sent_to_enter_it(
    request, client, family_request, persona, view
):
    client.force_login(request.getfixturevalue(persona))  # password only, no code yet
    url = url_for(view, family_request)

    response = client.get(url)

    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('accounts:otp_verify')}?next={url.replace('/', '%2F')}"
    )


def test_staff_without_an_authenticator_are_sent_to_enrol(client, db):
    from accounts.models import Role
    from tests.factories import UserFactory

    newcomer = UserFactory(role=Role.COORDINATOR)
    client.force_login(newcomer)

    response = client.get(reverse("admin:index"))

    assert response["Location"].startswith(reverse("accounts:otp_setup"))


def test_the_admins_own_login_page_is_not_a_way_around_the_second_factor(client, coordinator):
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 302
    assert login_page["Location"].startswith(reverse("accounts:login"))

    client.force_login(coordinator)
    response = client.post(
        reverse("admin:login"), {"username": coordinator.email, "password": "whatever"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
