"""Two people acting on one review at the same instant, on PostgreSQL (SQLite has no row
locks): the request row's lock puts them one after the other."""

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction

from intake.models import ReviewRequest
from notifications.models import Message
from reviews import services
from reviews.models import FinalOpinion, Opinion
from tests.reviews.panel_setup import OPINION, pool_reviewer, sign, submit_opinions

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(pk, **steps):
    """Start every step while the request row is locked, so all of them queue on the lock;
    release it and let them run. Returns what each step did ("done" or the error)."""
    outcomes = {}
    started = threading.Barrier(len(steps) + 1)

    def attempt(name, step):
        started.wait()
        try:
            step()
            outcomes[name] = "done"
        except (services.ReviewClosed, services.PanelError, services.Incomplete) as refused:
            outcomes[name] = str(refused)
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
    return outcomes


def test_the_last_two_members_submitting_at_once_tell_the_lead_once(panel):
    request, (lead, second, third) = panel
    submit_opinions(request, [lead])

    outcomes = race(
        request.pk,
        second=lambda: services.opinion_submit(
            review_request=request, fields=OPINION, actor=second
        ),
        third=lambda: services.opinion_submit(review_request=request, fields=OPINION, actor=third),
    )

    assert outcomes == {"second": "done", "third": "done"}
    assert Opinion.objects.filter(submitted_at__isnull=False).count() == 3
    assert list(Message.objects.filter(template="panel_complete").values_list("to", flat=True)) == [
        lead.email
    ]


def test_a_letter_signed_while_a_member_amends_never_quotes_an_outdated_opinion(submitted):
    request, (lead, second, _) = submitted

    def amend():
        services.opinion_amend(review_request=request, actor=second)
        services.opinion_submit(
            review_request=request,
            fields={"agrees_with_plan": "no", "amendment_reason": "New X-ray."},
            actor=second,
        )

    outcomes = race(request.pk, sign=lambda: sign(request, lead), amend=amend)

    final = FinalOpinion.objects.get()
    amended = Opinion.objects.filter(
        assignment__reviewer=second, version=2, submitted_at__isnull=False
    ).exists()
    assert not (final.signed_at and amended), outcomes
    assert "done" in outcomes.values()


def test_a_decline_and_a_panel_change_at_once_leave_one_consistent_panel(panel, coordinator):
    request, (lead, second, third) = panel
    newcomer = pool_reviewer(request.service, "Newcomer")

    outcomes = race(
        request.pk,
        decline=lambda: services.assignment_decline(
            assignment=request.assignments.get(reviewer=third),
            reason="unavailable",
            note="",
            actor=third,
        ),
        change=lambda: services.panel_set(
            review_request=request,
            reviewers=[lead, second, newcomer],
            lead=lead,
            actor=coordinator,
            reason="Third reviewer away.",
        ),
    )

    # Whichever came first, the panel change stands and the third reviewer is off it.
    assert outcomes["change"] == "done"
    assert outcomes["decline"] in {"done", "This assignment is no longer open."}
    active = set(
        request.assignments.filter(removed_at__isnull=True).values_list("reviewer", flat=True)
    )
    assert active == {lead.pk, second.pk, newcomer.pk}
    assert request.assignments.filter(reviewer=third, removed_at__isnull=True).count() == 0
