"""The people a request is shared with, against every family-facing page of the request: a
second guardian who accepted the family's invitation, one whose access was removed, whoever
holds the pediatrician's upload link, and whoever holds a link that expired or was withdrawn.

A second guardian follows the request like the family (status, timeline, files, the wizard,
uploads) but does not decide who else shares it. A removed one finds nothing any more. A link
holder has no account: the upload page is all they reach."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake import services
from intake.links import invitation_url
from intake.models import Invitation, RequestEvent, SharedAccess
from records.models import AccessLog, Document
from records.services import PEDIATRICIAN_LINK_ROLE, document_upload
from tests import samples
from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN, OK, FORBIDDEN, NOT_FOUND, GONE = "login", 200, 403, 404, 410
BACK = "back"  # sent back to the request's status page

SECOND = "casey.rivera@example.org"
REMOVED = "morgan.lee@example.org"
PENDING = "pending.guardian@example.org"
PEDIATRICIAN = "dr.ortiz@pediatrics.example.org"
CHILD = {
    "first_name": "Mirabel",
    "last_name": "Quistgaard",
    "prior_diagnosis": "Adolescent idiopathic scoliosis",
    "questions": "Does she need surgery?",
}
PHONE = "404-555-0199"  # the department's, from the factory


def path_of(invitation: Invitation) -> str:
    return invitation_url(invitation).removeprefix("http://testserver")


def join(review_request, user, legal_name: str) -> None:
    """The family invites ``user``, who accepts through the e-mailed link, signed in."""
    invitation = services.invitation_send(
        review_request=review_request,
        kind="guardian",
        email=user.email,
        actor=review_request.family,
    )
    browser = sign_in(Client(), user)
    form = browser.get(path_of(invitation))
    assert form.status_code == OK
    response = browser.post(
        path_of(invitation),
        {"legal_name": legal_name, "relationship": "father", "has_legal_authority": "on"},
    )
    assert response["Location"] == reverse("intake:request_detail", args=[review_request.reference])


@pytest.fixture
def shared(family, family_request, family_draft, settings):
    """Both of the family's requests (the one in review, with its PDF, and the draft, with the
    child's details and a file) shared with a second guardian, and with another one since
    removed; a guardian's invitation still open on the request in review; and the
    pediatrician's upload link to the draft."""
    settings.STRIPE_SECRET_KEY = "sk_test_portal"  # so that Pay answers, not a 404 for all
    settings.STRIPE_WEBHOOK_SECRET = "whsec_portal"
    services.child_save(review_request=family_draft, fields=CHILD)
    document_upload(
        review_request=family_draft,
        kind="record",
        upload=samples.upload(samples.pdf(), "family-scan.pdf"),
        actor=family,
        ip_address="203.0.113.7",
    )
    second = UserFactory(email=SECOND, full_name="Casey Rivera")
    removed = UserFactory(email=REMOVED, full_name="Morgan Lee")
    for request in (family_request, family_draft):
        join(request, second, "Casey Rivera")
        join(request, removed, "Morgan Lee")
        services.shared_access_remove(
            access=request.shared_accesses.get(user=removed), actor=family
        )
    pending = services.invitation_send(
        review_request=family_request, kind="guardian", email=PENDING, actor=family
    )
    link = services.invitation_send(
        review_request=family_draft, kind="pediatrician", email=PEDIATRICIAN, actor=family
    )
    return {
        "request": family_request,
        "draft": family_draft,
        "second": second,
        "removed": removed,
        "pending": pending,
        "link": link,
    }


# --- Every page against every persona ------------------------------------------------------

PERSONAS = (
    "second_guardian",
    "removed_guardian",
    "pediatrician_link",
    "expired_link",
    "revoked_link",
)
SEES = (OK, NOT_FOUND, LOGIN, LOGIN, LOGIN)
USES = (BACK, NOT_FOUND, LOGIN, LOGIN, LOGIN)
PRIMARY_ONLY = (NOT_FOUND, NOT_FOUND, LOGIN, LOGIN, LOGIN)

# page → (method, outcomes in the order of PERSONAS)
PAGES = {
    "intake:my_requests": ("get", (OK, OK, LOGIN, LOGIN, LOGIN)),
    "intake:request_detail": ("get", SEES),
    "intake:wizard_guardian": ("get", SEES),
    "intake:wizard_child": ("get", SEES),
    "intake:wizard_questionnaire": ("get", SEES),
    "intake:wizard_consent": ("get", SEES),
    "intake:wizard_review": ("get", SEES),
    "records:wizard_referral": ("get", SEES),
    "records:wizard_documents": ("get", SEES),
    "records:upload": ("post", USES),
    "records:remove": ("post", USES),
    "records:document_file": ("get", SEES),
    "records:preview": ("get", SEES),
    "intake:request_answer": ("post", USES),
    "billing:pay": ("post", USES),  # in review, already paid: told so, on the status page
    "billing:paid": ("get", SEES),
    "billing:receipt": ("get", SEES),
    "reviews:follow_up_ask": ("post", USES),  # no opinion yet: told so, on the status page
    "intake:request_invite": ("post", PRIMARY_ONLY),
    "intake:request_link_revoke": ("post", PRIMARY_ONLY),
    "intake:request_access_remove": ("post", PRIMARY_ONLY),
}
ON_THE_DRAFT = {
    "intake:wizard_guardian",
    "intake:wizard_child",
    "intake:wizard_questionnaire",
    "intake:wizard_consent",
    "intake:wizard_review",
    "records:wizard_referral",
    "records:wizard_documents",
    "records:upload",
    "records:remove",
}


def page_url(view: str, shared: dict) -> str:
    request, draft = shared["request"], shared["draft"]
    if view == "intake:my_requests":
        return reverse(view)
    if view == "records:remove":
        return reverse(view, args=[draft.reference, draft.documents.get().pk])
    if view in ON_THE_DRAFT:
        return reverse(view, args=[draft.reference])
    if view == "records:document_file":
        return reverse(view, args=[request.documents.get().pk])
    if view == "records:preview":
        return reverse(view, args=[request.documents.get().previews.get().pk])
    if view == "intake:request_invite":
        return reverse(view, args=[request.reference, "guardian"])
    if view == "intake:request_link_revoke":
        return reverse(view, args=[request.reference, shared["pending"].pk])
    if view == "intake:request_access_remove":
        access = request.shared_accesses.get(user=shared["second"])
        return reverse(view, args=[request.reference, access.pk])
    return reverse(view, args=[request.reference])


def become(persona: str, client, shared: dict):
    """``client`` as the persona: signed in, or an anonymous browser that opened its link."""
    link = shared["link"]
    if persona == "second_guardian":
        return sign_in(client, shared["second"])
    if persona == "removed_guardian":
        return sign_in(client, shared["removed"])
    if persona == "expired_link":
        Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    elif persona == "revoked_link":
        services.invitation_revoke(invitation=link, actor=shared["draft"].family)
    opened = client.get(path_of(link))
    assert opened.status_code == (OK if persona == "pediatrician_link" else GONE)
    return client


def outcome(response, shared: dict):
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("accounts:login")):
        return LOGIN
    references = (shared["request"].reference, shared["draft"].reference)
    if location in {reverse("intake:request_detail", args=[ref]) for ref in references}:
        return BACK
    return location


def footprint(shared: dict) -> dict:
    """What a page could change on either request."""
    requests = [shared["request"].pk, shared["draft"].pk]
    return {
        "documents": set(Document.objects.filter(request__in=requests).values_list("pk")),
        "invitations": set(
            Invitation.objects.filter(request__in=requests).values_list("pk", "revoked_at")
        ),
        "accesses": set(
            SharedAccess.objects.filter(request__in=requests).values_list("pk", "removed_at")
        ),
        "events": RequestEvent.objects.filter(request__in=requests).count(),
    }


@pytest.mark.parametrize(
    ("view", "persona", "expected"),
    [
        (view, persona, expected)
        for view, (_, outcomes) in PAGES.items()
        for persona, expected in zip(PERSONAS, outcomes, strict=True)
    ],
)
def test_every_page_of_a_shared_request(client, shared, view, persona, expected):
    method, _ = PAGES[view]
    url = page_url(view, shared)
    become(persona, client, shared)
    before = footprint(shared)

    if method == "get":
        response = client.get(url)
    else:
        response = client.post(
            url,
            {
                "kind": "record",
                "file": samples.upload(samples.pdf(), "from-the-second-guardian.pdf"),
                "text": "She wears the brace at night.",
                "question": "Is surgery needed?",
                "guardian-email": "a.third.guardian@example.org",
            },
        )
    if response.streaming:
        # Read to the end: the test client then closes the file (and leaves the database be).
        b"".join(response.streaming_content)

    assert outcome(response, shared) == expected
    if expected in (NOT_FOUND, LOGIN):
        assert footprint(shared) == before  # nothing changed


# --- A second guardian ---------------------------------------------------------------------


def test_a_second_guardian_sees_the_request_its_timeline_and_files(client, shared):
    request = shared["request"]
    sign_in(client, shared["second"])

    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    assert "Casey Rivera joined this request as a second guardian." in page
    assert "Morgan Lee no longer has access to this request." in page
    assert "school-report.pdf" in page
    assert reverse("records:document_file", args=[request.documents.get().pk]) in page
    assert "Jordan Rivera · primary guardian" in page
    assert "second guardian (you)" in page
    # Who shares the request is the primary guardian's to decide: no invite, withdraw, remove.
    assert reverse("intake:request_invite", args=[request.reference, "guardian"]) not in page
    assert "Remove access" not in page
    assert "Withdraw link" not in page


def test_a_second_guardian_finds_both_requests_in_their_list(client, shared):
    sign_in(client, shared["second"])

    page = client.get(reverse("intake:my_requests")).content.decode()

    assert shared["request"].reference in page
    assert shared["draft"].reference in page


def test_a_second_guardian_adds_files_through_the_wizard(client, shared):
    draft = shared["draft"]
    sign_in(client, shared["second"])

    response = client.post(
        reverse("records:upload", args=[draft.reference]),
        {"kind": "imaging", "file": samples.upload(samples.dicom(), "ct.dcm")},
        headers={"accept": "application/json"},
    )

    assert response.status_code == 201
    document = draft.documents.get(original_name="ct.dcm")
    assert document.uploaded_by == shared["second"]
    log = AccessLog.objects.get(document_id=document.pk)
    assert log.user == shared["second"]
    assert log.outcome == AccessLog.Outcome.ALLOWED


def test_a_second_guardian_cannot_share_the_request_further(shared):
    with pytest.raises(ValidationError, match="Only the primary guardian"):
        services.invitation_send(
            review_request=shared["request"],
            kind="guardian",
            email="a.third.guardian@example.org",
            actor=shared["second"],
        )
    with pytest.raises(ValidationError, match="Only the primary guardian"):
        services.shared_access_remove(
            access=shared["request"].shared_accesses.get(user=shared["second"]),
            actor=shared["second"],
        )


# --- A removed second guardian ---------------------------------------------------------------


def test_a_removed_guardian_no_longer_has_the_requests_in_their_list(client, shared):
    sign_in(client, shared["removed"])

    page = client.get(reverse("intake:my_requests")).content.decode()

    assert shared["request"].reference not in page
    assert shared["draft"].reference not in page
    assert "You have no requests yet." in page


def test_a_removed_guardians_try_at_a_file_is_refused_and_logged(client, shared):
    document = shared["request"].documents.get()
    sign_in(client, shared["removed"])

    response = client.get(reverse("records:document_file", args=[document.pk]))

    assert response.status_code == NOT_FOUND
    log = AccessLog.objects.filter(document_id=document.pk).latest("pk")
    assert log.user == shared["removed"]
    assert log.outcome == AccessLog.Outcome.DENIED


def test_a_removed_guardian_cannot_rejoin_with_the_used_invitation(client, shared):
    """Their old link explains it was used (as for anyone but a current guardian) instead of
    sending them to a request that is now missing for them; nothing is granted again."""
    request = shared["request"]
    used = request.shared_accesses.get(user=shared["removed"]).invitation
    sign_in(client, shared["removed"])

    response = client.get(path_of(used))

    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert not request.shared_accesses.filter(
        user=shared["removed"], removed_at__isnull=True
    ).exists()


# --- The pediatrician's upload link ------------------------------------------------------------


def test_the_link_holder_sees_only_the_files_sent_through_the_link(client, shared):
    link, draft = shared["link"], shared["draft"]

    response = client.post(
        path_of(link),
        {"kind": "referral", "file": samples.upload(samples.pdf(), "referral-letter.pdf")},
    )
    assert response.status_code == 302
    page = client.get(path_of(link)).content.decode()

    assert "referral-letter.pdf" in page
    assert "family-scan.pdf" not in page  # the family's own file on the same request
    for detail in (*CHILD.values(), "Jordan Rivera", "Casey Rivera", "Morgan Lee"):
        assert detail not in page
    sent = draft.documents.get(original_name="referral-letter.pdf")
    assert sent.upload_link == link
    assert sent.uploaded_by is None
    log = AccessLog.objects.get(document_id=sent.pk)
    assert log.role == PEDIATRICIAN_LINK_ROLE
    assert log.outcome == AccessLog.Outcome.ALLOWED


def test_the_link_holder_cannot_open_what_they_sent(client, shared):
    """Not even their own upload: the files are read on the portal, by those who sign in."""
    link = shared["link"]
    client.post(path_of(link), {"kind": "referral", "file": samples.upload(samples.pdf())})
    sent = shared["draft"].documents.get(upload_link=link)

    response = client.get(reverse("records:document_file", args=[sent.pk]))

    assert outcome(response, shared) == LOGIN


def test_the_links_are_not_interchangeable(client, shared):
    """The pediatrician's link is no invitation, and a guardian's invitation uploads nothing."""
    pediatrician_token = path_of(shared["link"]).rstrip("/").rsplit("/", 1)[1]
    guardian_token = path_of(shared["pending"]).rstrip("/").rsplit("/", 1)[1]

    as_invitation = client.get(reverse("intake:invitation", args=[pediatrician_token]))
    as_upload = client.post(
        reverse("records:pediatrician_upload", args=[guardian_token]),
        {"kind": "record", "file": samples.upload(samples.pdf(), "sneaked-in.pdf")},
    )

    assert as_invitation.status_code == NOT_FOUND
    assert as_upload.status_code == NOT_FOUND
    assert not Document.objects.filter(original_name="sneaked-in.pdf").exists()


# --- Links that expired or were withdrawn ----------------------------------------------------


def close(link: Invitation, state: str, actor) -> None:
    if state == "expired":
        Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        services.invitation_revoke(invitation=link, actor=actor)


WHAT_HAPPENED = {"expired": "This link expired on", "revoked": "This link was withdrawn"}


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_a_closed_upload_link_explains_and_refuses_uploads_with_a_log_line(client, shared, state):
    link, draft = shared["link"], shared["draft"]
    close(link, state, draft.family)
    documents = draft.documents.count()

    page = client.get(path_of(link))
    response = client.post(
        path_of(link),
        {"kind": "referral", "file": samples.upload(samples.pdf(), "too-late.pdf")},
    )

    assert page.status_code == GONE
    text = page.content.decode()
    assert WHAT_HAPPENED[state] in text
    assert f"Ask the family for a new link, or call {PHONE}." in text
    assert response.status_code == GONE
    assert draft.documents.count() == documents
    log = AccessLog.objects.latest("pk")
    assert log.role == PEDIATRICIAN_LINK_ROLE
    assert log.outcome == AccessLog.Outcome.DENIED
    assert log.action == AccessLog.Action.UPLOAD
    assert log.request_id == draft.pk
    assert log.user is None


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_a_closed_invitation_explains_and_attaches_nobody(client, shared, state):
    pending = shared["pending"]
    invited = UserFactory(email=PENDING, full_name="Pat Pending")
    close(pending, state, shared["request"].family)
    sign_in(client, invited)

    page = client.get(path_of(pending))
    response = client.post(path_of(pending), {"legal_name": "Pat Pending", "relationship": "other"})

    assert page.status_code == GONE
    text = page.content.decode()
    assert WHAT_HAPPENED[state] in text
    assert f"Call your coordinator at {PHONE} for a new one." in text
    assert response.status_code == GONE
    assert not SharedAccess.objects.filter(user=invited).exists()


def test_the_upload_link_stops_at_the_moment_it_expires(client, shared):
    link = shared["link"]

    with time_machine.travel(link.expires_at - timedelta(minutes=1), tick=False):
        before = client.post(
            path_of(link), {"kind": "referral", "file": samples.upload(samples.pdf(), "a.pdf")}
        )
    with time_machine.travel(link.expires_at + timedelta(minutes=1), tick=False):
        after = client.post(
            path_of(link), {"kind": "referral", "file": samples.upload(samples.pdf(), "b.pdf")}
        )

    assert before.status_code == 302
    assert after.status_code == GONE
    sent = set(shared["draft"].documents.filter(upload_link=link).values_list("original_name"))
    assert sent == {("a.pdf",)}


# --- Tampered links ----------------------------------------------------------------------


def tampered(path: str, position: int) -> str:
    """``path`` with one character of its token changed (in the key, or in the signature)."""
    prefix, token = path.rstrip("/").rsplit("/", 1)
    index = position % len(token)
    changed = "1" if token[index] == "0" else "0"
    return f"{prefix}/{token[:index]}{changed}{token[index + 1 :]}/"


@pytest.mark.parametrize("position", [0, -1], ids=["key", "signature"])
@pytest.mark.parametrize("kind", ["pediatrician", "guardian"])
def test_a_tampered_link_does_not_work(client, shared, kind, position):
    link = shared["link"] if kind == "pediatrician" else shared["pending"]
    url = tampered(path_of(link), position)

    page = client.get(url)
    posted = client.post(
        url, {"kind": "referral", "file": samples.upload(samples.pdf(), "forged.pdf")}
    )

    assert page.status_code == NOT_FOUND
    assert "This link does not work" in page.content.decode()
    assert posted.status_code == NOT_FOUND
    assert not Document.objects.filter(original_name="forged.pdf").exists()
    link.refresh_from_db()
    assert link.opened_at is None  # a tampered link is not the link
