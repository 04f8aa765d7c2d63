"""Edges of the phone-led path found in review: the order in which people may join, a
withdrawn invitation, a refunded advance payment, the status page's forms keeping input."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.services import payment_record_phone, payment_refund
from intake import services
from intake.lifecycle import Status
from intake.models import Invitation, RequestEvent
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.intake.invitation_setup import (
    FAMILY_EMAIL,
    KNOWN,
    phone_request,
    phone_request_invited,
    sign_up_through,
)

pytestmark = pytest.mark.django_db


def test_nobody_else_is_invited_before_the_family_has_joined(
    client, coordinator, published_service
):
    request = phone_request(coordinator, published_service)
    sign_in(client, coordinator)

    page = client.post(
        reverse("admin:intake_reviewrequest_invite", args=[request.pk, "guardian"]),
        {"email": "second.parent@example.org"},
    )

    assert page.status_code == 200
    assert "Invite the family first" in page.content.decode()
    assert 'value="second.parent@example.org"' in page.content.decode()
    assert not Invitation.objects.filter(kind="guardian").exists()
    with pytest.raises(ValidationError, match="Invite the family first"):
        services.invitation_send(
            review_request=request, kind="pediatrician", email="dr@example.org", actor=coordinator
        )


def test_a_request_without_its_family_cannot_be_sent(coordinator, published_service):
    request = phone_request(coordinator, published_service)

    with pytest.raises(services.RequestLocked, match="waits for its family"):
        services.review_request_submit(review_request=request, actor=coordinator)
    request.refresh_from_db()
    assert request.status == Status.DRAFT


def test_the_family_cannot_withdraw_its_own_invitation_from_the_status_page(
    client, coordinator, published_service
):
    request, invitation, link = phone_request_invited(coordinator, published_service)
    sign_up_through(client, link)
    request.refresh_from_db()

    response = client.post(
        reverse("intake:request_link_revoke", args=[request.reference, invitation.pk])
    )

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_refunded_advance_payment_is_on_the_timeline_and_the_fee_is_due_again(
    client, coordinator, published_service
):
    request = phone_request(coordinator, published_service)
    payment = payment_record_phone(
        review_request=request, amount_cents=50000, reference="4242", note="", actor=coordinator
    )

    payment_refund(
        payment=payment, amount_cents=50000, reason="Family changed plans.", actor=coordinator
    )

    lines = list(
        RequestEvent.objects.filter(request=request, kind="payment")
        .order_by("pk")
        .values_list("note", flat=True)
    )
    assert len(lines) == 2
    assert "refunded in full" in lines[1]
    request.refresh_from_db()
    assert request.status == Status.DRAFT


def test_a_wrong_address_on_the_status_page_keeps_what_was_typed(
    client, coordinator, published_service
):
    request, invitation, _ = phone_request_invited(coordinator, published_service)
    services.invitation_accept(
        invitation=invitation,
        user=UserFactory(email=FAMILY_EMAIL),
        details=KNOWN,
    )
    request.refresh_from_db()
    sign_in(client, request.family)

    response = client.post(
        reverse("intake:request_invite", args=[request.reference, "guardian"]),
        {"guardian-email": FAMILY_EMAIL},  # the family's own address
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "already a guardian on this request" in text
    assert f'value="{FAMILY_EMAIL}"' in text
    assert not Invitation.objects.filter(kind="guardian").exists()


def test_a_coordinator_opening_the_familys_link_does_not_count_as_opened(
    client, coordinator, published_service
):
    _, invitation, link = phone_request_invited(coordinator, published_service)
    sign_in(client, coordinator)

    page = client.get(link)

    assert page.status_code == 403
    invitation.refresh_from_db()
    assert invitation.opened_at is None
