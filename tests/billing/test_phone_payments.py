"""The hospital's own practice: a coordinator takes the fee over the phone."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentMethod, PaymentStatus
from billing.services import PaymentRefused, payment_record_phone
from intake.lifecycle import Status
from tests.conftest import sign_in
from tests.factories import review_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def awaiting(family):
    return review_request(family=family, status=Status.AWAITING_PAYMENT)


def record(request, actor, amount=50000):
    return payment_record_phone(
        review_request=request,
        amount_cents=amount,
        reference="4242",
        note="Taken on the phone.",
        actor=actor,
    )


def test_a_phone_payment_is_recorded_and_starts_the_review_clock(awaiting, coordinator):
    payment = record(awaiting, coordinator)

    awaiting.refresh_from_db()
    assert (payment.method, payment.status, payment.amount_cents, payment.currency) == (
        PaymentMethod.PHONE,
        PaymentStatus.SUCCEEDED,
        50000,
        "usd",
    )
    assert (payment.recorded_by, payment.reference, payment.attention) == (coordinator, "4242", "")
    assert awaiting.status == Status.SUBMITTED
    assert awaiting.due_target_at is not None
    event = awaiting.events.latest("pk")
    assert (event.actor, event.note_text) == (coordinator, "Fee of $500.00 paid by phone.")


def test_the_fee_is_the_one_of_the_day_the_request_was_sent(awaiting, coordinator):
    awaiting.service.fee_cents = 99900
    awaiting.service.save(update_fields=["fee_cents"])

    payment = record(awaiting, coordinator, amount=50000)

    assert payment.attention == ""
    awaiting.refresh_from_db()
    assert awaiting.fee_cents == 50000


def test_a_different_amount_is_recorded_and_flagged(awaiting, coordinator):
    payment = record(awaiting, coordinator, amount=40000)

    assert payment.attention == "Taken $400.00; the fee was $500.00."


@pytest.mark.parametrize(
    "status", [Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.CANCELLED]
)
def test_only_a_request_awaiting_payment_can_be_paid(family, coordinator, status):
    request = review_request(family=family, status=status)

    with pytest.raises(PaymentRefused, match="not awaiting payment"):
        record(request, coordinator)

    assert not Payment.objects.exists()


def test_a_request_is_never_paid_twice(awaiting, coordinator):
    record(awaiting, coordinator)

    with pytest.raises(PaymentRefused):
        record(awaiting, coordinator)

    assert Payment.objects.count() == 1


def test_the_database_keeps_one_taken_payment_per_request(awaiting, coordinator):
    from django.db import IntegrityError, transaction

    record(awaiting, coordinator)

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            request=awaiting,
            method=PaymentMethod.CHECKOUT,
            status=PaymentStatus.SUCCEEDED,
            amount_cents=50000,
            currency="usd",
        )


@pytest.fixture
def coordinator_client(client, coordinator):
    return sign_in(client, coordinator)


def test_the_coordinator_records_it_in_the_admin_with_the_fee_filled_in(
    coordinator_client, coordinator, awaiting
):
    form = coordinator_client.get(reverse("admin:billing_payment_add") + f"?request={awaiting.pk}")

    response = coordinator_client.post(
        reverse("admin:billing_payment_add"),
        {
            "request": awaiting.pk,
            "amount": "500.00",
            "reference": "4242",
            "note": "",
        },
    )

    assert form.context["form"]["amount"].value() == 500
    assert response["Location"] == reverse("admin:intake_reviewrequest_change", args=[awaiting.pk])
    awaiting.refresh_from_db()
    assert awaiting.status == Status.SUBMITTED
    assert Payment.objects.get().recorded_by == coordinator


def test_the_request_page_offers_the_phone_payment_while_it_is_due(coordinator_client, awaiting):
    page = coordinator_client.get(reverse("admin:intake_reviewrequest_change", args=[awaiting.pk]))

    assert f"/admin/billing/payment/add/?request={awaiting.pk}" in page.content.decode()


def test_a_bad_entry_is_explained_and_kept(coordinator_client, awaiting):
    response = coordinator_client.post(
        reverse("admin:billing_payment_add"),
        {
            "request": awaiting.pk,
            "amount": "five hundred",
            "reference": "",
            "note": "Call at 3pm",
        },
    )

    assert response.status_code == 200
    assert "Enter a number." in response.content.decode()
    assert "Call at 3pm" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_request_no_longer_awaiting_payment_cannot_be_chosen(
    coordinator_client, family, coordinator
):
    paid = review_request(family=family, status=Status.SUBMITTED)

    response = coordinator_client.post(
        reverse("admin:billing_payment_add"),
        {
            "request": paid.pk,
            "amount": "500",
            "reference": "4242",
            "note": "",
        },
    )

    assert "Select a valid choice" in response.content.decode()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", "login"),
        ("family", 404),
        ("other_family", 404),
        ("coordinator", 302),
        ("admin_user", 302),
        ("assigned_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_coordinators_and_admins_record_phone_payments(
    request, client, awaiting, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(
        reverse("admin:billing_payment_add"),
        {
            "request": awaiting.pk,
            "amount": "500",
            "reference": "4242",
            "note": "",
        },
    )

    outcome = (
        "login"
        if response.status_code == 302 and "/accounts/sign-in/" in response["Location"]
        else response.status_code
    )
    assert outcome == expected
    assert Payment.objects.count() == (1 if expected == 302 else 0)


def test_the_family_sees_it_paid_and_when_the_opinion_is_due(client, family, awaiting, coordinator):
    record(awaiting, coordinator)
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[awaiting.reference])).content.decode()

    assert "Your request is complete and paid. The review clock is running." in page
    due = timezone.localtime(awaiting.events.latest("pk").created_at + timedelta(days=7))
    assert due.strftime("%B") in page


def test_the_payments_list_costs_a_fixed_number_of_queries(
    coordinator_client, family, coordinator, django_assert_max_num_queries
):
    # The totals per day and month moved to the coordinators' dashboard (tests/dashboard).
    for _ in range(3):
        record(review_request(family=family, status=Status.AWAITING_PAYMENT), coordinator)
    url = reverse("admin:billing_payment_changelist")
    with django_assert_max_num_queries(40) as few:
        page = coordinator_client.get(url)
    baseline = len(few.captured_queries)
    for _ in range(5):
        record(review_request(family=family, status=Status.AWAITING_PAYMENT), coordinator)

    with django_assert_max_num_queries(baseline):
        again = coordinator_client.get(url)

    assert page.context["cl"].result_count == 3
    assert again.context["cl"].result_count == 8
