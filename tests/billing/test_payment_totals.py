"""The daily payment totals the dashboard reads (``PaymentDay``): every payment service
keeps them in its own transaction, so they always equal what the payments add up to."""

from datetime import UTC, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from billing.models import Payment, PaymentDay
from billing.selectors import payment_totals
from billing.services import payment_record_phone, payment_refund
from billing.services.totals import payment_days_rebuild
from intake.lifecycle import Status
from tests.billing.conftest import charge_refunded, deliver, event, open_checkout
from tests.factories import review_request

pytestmark = pytest.mark.django_db

# 23:30 in New York on 30 November, already 1 December in UTC: the hospital's day counts.
LATE_EVENING = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)


def kept() -> set[tuple]:
    return set(
        PaymentDay.objects.exclude(count=0, net_cents=0).values_list(
            "date", "currency", "count", "net_cents"
        )
    )


def assert_kept_equals_the_payments():
    before = kept()
    payment_days_rebuild()
    assert kept() == before


def phone_paid(family, coordinator, amount=50000):
    return payment_record_phone(
        review_request=review_request(family=family, status=Status.AWAITING_PAYMENT),
        amount_cents=amount,
        reference="4242",
        note="",
        actor=coordinator,
    )


def test_a_phone_payment_counts_on_the_hospitals_day_it_was_taken(family, coordinator):
    with time_machine.travel(LATE_EVENING, tick=False):
        phone_paid(family, coordinator)
        totals = payment_totals()

    assert kept() == {(datetime(2026, 11, 30).date(), "usd", 1, 50000)}
    assert [row[1:] for row in totals["daily"]] == [(1, "$500.00")]
    assert [row[0].month for row in totals["monthly"]] == [11]
    assert_kept_equals_the_payments()


def test_partial_and_full_refunds_lower_the_day_the_payment_was_taken(family, coordinator):
    partly, fully, _ = (phone_paid(family, coordinator) for _ in range(3))

    payment_refund(payment=partly, amount_cents=10000, reason="Goodwill.", actor=coordinator)
    payment_refund(payment=fully, amount_cents=50000, reason="Cancelled.", actor=coordinator)

    assert {row[2:] for row in kept()} == {(3, 90000)}
    assert_kept_equals_the_payments()


def test_online_payments_and_their_refunds_keep_the_totals(awaiting, family, standin):
    paid = open_checkout(awaiting, family)
    completed = standin.complete(paid.stripe_checkout_session_id)
    deliver(event("checkout.session.completed", completed))
    deliver(charge_refunded(completed["payment_intent"], 10000))

    assert {row[2:] for row in kept()} == {(1, 40000)}
    assert_kept_equals_the_payments()


def test_money_taken_that_cannot_pay_is_not_counted_even_once_refunded_in_part(
    awaiting, family, standin
):
    paid = open_checkout(awaiting, family)
    completed = standin.complete(paid.stripe_checkout_session_id, amount_total=100)
    deliver(event("checkout.session.completed", completed))
    assert kept() == set()  # set aside, not taken

    deliver(charge_refunded(completed["payment_intent"], 100))

    assert Payment.objects.get().status == "to_refund"
    assert kept() == set()
    assert_kept_equals_the_payments()


def test_a_refund_before_the_payment_arrived_never_counts(awaiting, family, standin):
    paid = open_checkout(awaiting, family)
    completed = standin.complete(paid.stripe_checkout_session_id)
    deliver(charge_refunded(completed["payment_intent"], 50000, charge_id="ch_test_1"))
    deliver(event("checkout.session.completed", completed))

    assert kept() == set()
    assert_kept_equals_the_payments()


def test_the_command_computes_the_totals_again_from_the_payments(family, coordinator):
    phone_paid(family, coordinator)
    PaymentDay.objects.all().delete()
    out = StringIO()

    call_command("rebuild_payment_totals", stdout=out)

    assert {row[2:] for row in kept()} == {(1, 50000)}
    assert "1 day(s) of payment totals written." in out.getvalue()
