"""Open Checkout pages of a request that is paid or cancelled are closed at Stripe by a worker
after commit, never in the web request; a task the broker could not take is done by the sweep."""

import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment, PaymentStatus
from billing.services import checkouts_expire_leftover, payment_record_phone
from billing.tasks import expire_leftover_checkouts_task, expire_open_checkouts_task
from intake.lifecycle import Status
from intake.services import review_request_transition
from tests.billing.conftest import open_checkout
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def expire_calls(standin) -> list[dict]:
    return [r for r in standin.requests if r["path"].endswith("/expire")]


def pay_by_phone(request, coordinator):
    return payment_record_phone(
        review_request=request, amount_cents=50000, reference="4242", note="", actor=coordinator
    )


def test_paying_by_phone_in_the_admin_calls_no_stripe_and_hands_the_closing_to_a_task(
    client, awaiting, family, coordinator, standin, django_capture_on_commit_callbacks
):
    checkout = open_checkout(awaiting, family)
    sign_in(client, coordinator)

    with (
        mock.patch.object(expire_open_checkouts_task, "delay") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("admin:billing_payment_add"),
            {"request": awaiting.pk, "amount": "500.00", "reference": "4242", "note": ""},
        )

    assert response.status_code == 302
    assert expire_calls(standin) == []
    assert standin.sessions[checkout.stripe_checkout_session_id]["status"] == "open"
    enqueued.assert_called_once_with(request_id=awaiting.pk)


def test_cancelling_a_request_calls_no_stripe_and_hands_the_closing_to_a_task(
    awaiting, family, coordinator, standin, django_capture_on_commit_callbacks
):
    open_checkout(awaiting, family)

    with (
        mock.patch.object(expire_open_checkouts_task, "delay") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        review_request_transition(
            review_request=awaiting,
            to_status=Status.CANCELLED,
            actor=coordinator,
            note="Withdrawn.",
        )

    assert expire_calls(standin) == []
    enqueued.assert_called_once_with(request_id=awaiting.pk)


def test_a_request_that_never_went_to_stripe_enqueues_nothing(
    awaiting, coordinator, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(expire_open_checkouts_task, "delay") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        pay_by_phone(awaiting, coordinator)

    enqueued.assert_not_called()


def test_the_task_closes_the_open_checkout_pages_of_the_paid_request(
    awaiting, family, coordinator, standin
):
    checkout = open_checkout(awaiting, family)
    pay_by_phone(awaiting, coordinator)

    expire_open_checkouts_task.apply(kwargs={"request_id": awaiting.pk}).get()

    checkout.refresh_from_db()
    assert standin.sessions[checkout.stripe_checkout_session_id]["status"] == "expired"
    assert checkout.status == PaymentStatus.FAILED


def test_running_the_task_twice_asks_stripe_once_and_changes_nothing_more(
    awaiting, family, coordinator, standin
):
    checkout = open_checkout(awaiting, family)
    pay_by_phone(awaiting, coordinator)

    expire_open_checkouts_task.apply(kwargs={"request_id": awaiting.pk}).get()
    expire_open_checkouts_task.apply(kwargs={"request_id": awaiting.pk}).get()

    assert len(expire_calls(standin)) == 1
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.FAILED
    assert Payment.objects.get(method="phone").status == PaymentStatus.SUCCEEDED


def test_with_the_broker_down_the_payment_is_kept_and_the_sweep_closes_the_page_later(
    awaiting, family, coordinator, standin, broker_down, django_capture_on_commit_callbacks, caplog
):
    checkout = open_checkout(awaiting, family)

    with django_capture_on_commit_callbacks(execute=True):
        pay_by_phone(awaiting, coordinator)

    assert f"Closing the Checkout pages of request {awaiting.pk} not enqueued" in caplog.text
    awaiting.refresh_from_db()
    assert awaiting.status == Status.SUBMITTED
    assert standin.sessions[checkout.stripe_checkout_session_id]["status"] == "open"

    expire_leftover_checkouts_task.apply().get()

    checkout.refresh_from_db()
    assert standin.sessions[checkout.stripe_checkout_session_id]["status"] == "expired"
    assert checkout.status == PaymentStatus.FAILED


def test_the_sweep_leaves_the_pages_of_a_request_that_still_owes_its_fee(awaiting, family, standin):
    checkout = open_checkout(awaiting, family)

    assert checkouts_expire_leftover() == 0

    assert expire_calls(standin) == []
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.PENDING


def test_the_sweep_leaves_pages_stripe_has_already_closed_after_a_day(
    awaiting, family, coordinator, standin
):
    checkout = open_checkout(awaiting, family)
    pay_by_phone(awaiting, coordinator)
    Payment.objects.filter(pk=checkout.pk).update(created_at=timezone.now() - timedelta(hours=25))

    assert checkouts_expire_leftover() == 0

    assert expire_calls(standin) == []


def test_without_stripe_keys_the_sweep_does_nothing(
    awaiting, family, coordinator, standin, settings
):
    open_checkout(awaiting, family)
    pay_by_phone(awaiting, coordinator)
    standin_calls = len(standin.requests)
    settings.STRIPE_SECRET_KEY = ""

    assert checkouts_expire_leftover() == 0

    assert len(standin.requests) == standin_calls


def test_the_sweep_is_on_the_beat_schedule_every_five_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["expire-leftover-checkouts"]

    assert entry["task"] == expire_leftover_checkouts_task.name
    assert entry["schedule"].total_seconds() == 300


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_closes_the_page_after_the_payment_commits(
    awaiting, family, coordinator, standin
):
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    checkout = open_checkout(awaiting, family)
    session = standin.sessions[checkout.stripe_checkout_session_id]

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        pay_by_phone(awaiting, coordinator)  # its own transaction: committed, then enqueued
        deadline = time.monotonic() + 15
        # Wait on the stand-in, not the database (SQLite and two threads).
        while time.monotonic() < deadline and session["status"] != "expired":
            time.sleep(0.1)

    assert session["status"] == "expired"
    checkout.refresh_from_db()
    assert checkout.status == PaymentStatus.FAILED
