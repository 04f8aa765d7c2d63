"""Two moves of one request at the same instant, on PostgreSQL (SQLite has no row locks)."""

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from intake.lifecycle import Status
from intake.models import ReviewRequest
from intake.services import InvalidTransition, review_request_transition
from tests.factories import review_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(pk, moves):
    """Start every move while the row is locked, so all of them queue on the lock; release
    it and let them run. Returns what each move did."""
    outcomes = {}
    started = threading.Barrier(len(moves) + 1)

    def attempt(name, target, note):
        started.wait()
        try:
            review_request_transition(
                review_request=ReviewRequest.objects.get(pk=pk),
                to_status=target,
                actor=None,
                note=note,
            )
            outcomes[name] = "moved"
        except InvalidTransition as refused:
            outcomes[name] = str(refused)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=attempt, args=move) for move in moves]
    with transaction.atomic():
        ReviewRequest.objects.select_for_update().get(pk=pk)
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.3)  # both are now waiting for the lock this transaction holds
    for thread in threads:
        thread.join(timeout=10)
    return outcomes


def test_two_payments_at_once_move_the_request_once_and_start_the_clock_once(family):
    request = review_request(family=family, status=Status.AWAITING_PAYMENT)

    outcomes = race(request.pk, [("a", Status.SUBMITTED, ""), ("b", Status.SUBMITTED, "")])

    assert sorted(outcome == "moved" for outcome in outcomes.values()) == [False, True]
    loser = next(outcome for outcome in outcomes.values() if outcome != "moved")
    assert "is submitted" in loser  # the loser judged the state the winner left
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    assert request.events.filter(to_status=Status.SUBMITTED).count() == 1


def test_starting_the_review_and_asking_for_information_at_once_cannot_both_happen(family):
    request = review_request(family=family, status=Status.SUBMITTED)

    outcomes = race(
        request.pk,
        [("review", Status.IN_REVIEW, ""), ("ask", Status.NEEDS_INFO, "Send the CT report.")],
    )

    request.refresh_from_db()
    winner = next(name for name, outcome in outcomes.items() if outcome == "moved")
    assert list(outcomes.values()).count("moved") == 1
    assert request.status == {"review": Status.IN_REVIEW, "ask": Status.NEEDS_INFO}[winner]
    assert request.events.exclude(to_status__in=PATH_STATUSES).count() == 1


PATH_STATUSES = [Status.DRAFT, Status.AWAITING_PAYMENT, Status.SUBMITTED]
