"""An invitation used twice at the same instant, on PostgreSQL (SQLite has no row locks): the
request row's lock puts the attempts one after the other, and the later one is told why it
no longer works."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, transaction
from django.test import Client
from django.urls import reverse

from intake import services
from intake.models import Invitation, RequestEvent, ReviewRequest
from notifications.models import Message
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.intake.invitation_setup import (
    CHILD_BIRTH_DATE,
    FAMILY_EMAIL,
    KNOWN,
    phone_request_invited,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(pk, **steps):
    """Start every step while the request row is locked, so all of them queue on the lock;
    release it and let them run. Returns what each step returned, or the error it raised."""
    outcomes = {}
    started = threading.Barrier(len(steps) + 1)

    def attempt(name, step):
        started.wait()
        try:
            outcomes[name] = step()
        except Exception as error:  # any error is an outcome to look at
            outcomes[name] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=attempt, args=item) for item in steps.items()]
    with transaction.atomic():
        ReviewRequest.objects.select_for_update().get(pk=pk)
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.3)  # every step is now waiting for the lock this transaction holds
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def accept_events(request) -> int:
    return RequestEvent.objects.filter(request=request, kind=RequestEvent.Kind.ACCESS).count()


def test_the_same_invitation_accepted_in_two_tabs_at_once_is_used_once(
    coordinator, published_service
):
    request, invitation, _ = phone_request_invited(coordinator, published_service)
    family = UserFactory(email=FAMILY_EMAIL)

    outcomes = race(
        request.pk,
        first=lambda: services.invitation_accept(invitation=invitation, user=family, details=KNOWN),
        second=lambda: services.invitation_accept(
            invitation=invitation, user=family, details=KNOWN
        ),
    )

    accepted = [o for o in outcomes.values() if isinstance(o, ReviewRequest)]
    refused = [o for o in outcomes.values() if not isinstance(o, ReviewRequest)]
    assert len(accepted) == 1
    assert len(refused) == 1
    assert isinstance(refused[0], services.InvitationClosed)
    assert refused[0].state == "accepted"
    assert "already been used" in str(refused[0])
    request.refresh_from_db()
    assert request.family == family
    invitation.refresh_from_db()
    assert invitation.accepted_by == family
    assert accept_events(request) == 1


def test_two_browsers_of_the_invited_person_posting_the_form_at_once(
    coordinator, published_service
):
    request, invitation, link = phone_request_invited(coordinator, published_service)
    family = UserFactory(email=FAMILY_EMAIL)
    browsers = [sign_in(Client(), family) for _ in range(2)]
    for browser in browsers:
        assert browser.get(link).status_code == 200  # the form is on both screens

    outcomes = race(
        request.pk,
        one=lambda: browsers[0].post(link, {"child_date_of_birth": CHILD_BIRTH_DATE}),
        two=lambda: browsers[1].post(link, {"child_date_of_birth": CHILD_BIRTH_DATE}),
    )

    codes = sorted(response.status_code for response in outcomes.values())
    assert codes == [302, 410]
    [done] = [r for r in outcomes.values() if r.status_code == 302]
    [late] = [r for r in outcomes.values() if r.status_code == 410]
    assert done.url == reverse("intake:wizard_guardian", args=[request.reference])
    assert "This invitation has already been used" in late.content.decode()
    request.refresh_from_db()
    assert request.family == family
    invitation.refresh_from_db()
    assert invitation.accepted_by == family
    assert accept_events(request) == 1


def test_the_family_accepting_while_the_coordinator_sends_a_new_link(
    coordinator, published_service
):
    request, invitation, _ = phone_request_invited(coordinator, published_service)
    family = UserFactory(email=FAMILY_EMAIL)

    outcomes = race(
        request.pk,
        accept=lambda: services.invitation_accept(
            invitation=invitation, user=family, details=KNOWN
        ),
        resend=lambda: services.invitation_send(
            review_request=request, kind="family", email=FAMILY_EMAIL, actor=coordinator
        ),
    )

    request.refresh_from_db()
    family_invitations = Invitation.objects.filter(request=request, kind="family")
    if isinstance(outcomes["accept"], ReviewRequest):
        # The family was first: the new link is refused, nothing is sent.
        assert isinstance(outcomes["resend"], ValidationError)
        assert outcomes["resend"].messages == ["The family has already joined this request."]
        assert request.family == family
        assert family_invitations.count() == 1
        assert accept_events(request) == 1
        assert Message.objects.filter(template="invitation_family").count() == 1
    else:
        # The coordinator was first: the old link was replaced, and says so.
        assert isinstance(outcomes["accept"], services.InvitationClosed)
        assert outcomes["accept"].state == "revoked"
        assert isinstance(outcomes["resend"], Invitation)
        assert request.family is None
        assert family_invitations.filter(revoked_at__isnull=True).get() == outcomes["resend"]
        assert accept_events(request) == 0
        assert Message.objects.filter(template="invitation_family").count() == 2
    # Either way: one open or used link, never two, and no other error.
    assert family_invitations.filter(revoked_at__isnull=True).count() == 1
