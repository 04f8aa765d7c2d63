from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from intake.lifecycle import COORDINATOR_MOVES, TRANSITIONS, Status
from intake.models import RequestEvent, ReviewRequest
from intake.services import InvalidTransition, review_request_transition
from tests.factories import PATH_TO, review_request

pytestmark = pytest.mark.django_db

ALLOWED = sorted((source, target) for source, targets in TRANSITIONS.items() for target in targets)
FORBIDDEN = sorted(
    (source, target) for source in Status for target in Status if target not in TRANSITIONS[source]
)


def note_for(target):
    return "Please send the MRI report." if target in {Status.NEEDS_INFO, Status.CANCELLED} else ""


@pytest.mark.parametrize(("source", "target"), ALLOWED)
def test_every_allowed_move_changes_status_stamps_it_and_records_an_event(family, source, target):
    request = review_request(family=family, status=source)
    if source == Status.CANCELLED and target == Status.REFUNDED:
        # Only a cancelled request that had been paid can be refunded.
        request = review_request(family=family, status=Status.SUBMITTED)
        request = review_request_transition(
            review_request=request,
            to_status=Status.CANCELLED,
            actor=family,
            note="Changed our minds.",
        )
    events_before = request.events.count()

    moved = review_request_transition(
        review_request=request, to_status=target, actor=family, note=note_for(target)
    )

    moved.refresh_from_db()
    assert moved.status == target
    assert getattr(moved, f"{target}_at") is not None
    assert moved.events.count() == events_before + 1
    event = moved.events.latest("pk")
    assert (event.from_status, event.to_status, event.actor) == (source, target, family)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_every_forbidden_move_is_refused_and_changes_nothing(family, source, target):
    request = review_request(family=family, status=source)
    before = ReviewRequest.objects.values().get(pk=request.pk)
    events_before = RequestEvent.objects.filter(request=request).count()

    with pytest.raises(InvalidTransition) as refused:
        review_request_transition(
            review_request=request, to_status=target, actor=family, note="A reason."
        )

    assert request.reference in str(refused.value)
    assert source.label.lower() in str(refused.value)
    assert ReviewRequest.objects.values().get(pk=request.pk) == before
    assert RequestEvent.objects.filter(request=request).count() == events_before


def test_the_table_covers_every_status_and_every_status_is_reachable():
    assert set(TRANSITIONS) == set(Status)
    reachable = {target for targets in TRANSITIONS.values() for target in targets}
    assert reachable | {Status.DRAFT} == set(Status)
    assert all(PATH_TO[status] == [] or PATH_TO[status][-1] == status for status in Status)


def test_coordinator_moves_are_all_legal_moves():
    assert all(target in TRANSITIONS[source] for source, target in COORDINATOR_MOVES)


@pytest.mark.parametrize("target", [Status.NEEDS_INFO, Status.CANCELLED])
def test_asking_for_information_or_cancelling_needs_a_note(family, coordinator, target):
    request = review_request(family=family, status=Status.SUBMITTED)

    with pytest.raises(InvalidTransition, match="needs a note"):
        review_request_transition(
            review_request=request, to_status=target, actor=coordinator, note="  "
        )

    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_a_request_cancelled_before_payment_cannot_be_refunded(family):
    request = review_request(family=family, status=Status.CANCELLED)

    with pytest.raises(InvalidTransition, match="never paid"):
        review_request_transition(review_request=request, to_status=Status.REFUNDED, actor=None)


def test_the_event_keeps_the_note_and_a_portal_move_has_no_actor(family):
    request = review_request(family=family, status=Status.AWAITING_PAYMENT)

    review_request_transition(
        review_request=request, to_status=Status.SUBMITTED, actor=None, note="  Paid online.  "
    )

    event = request.events.latest("pk")
    assert event.actor is None
    assert event.note == "Paid online."


def test_a_new_request_starts_as_a_draft_with_one_event_and_an_unguessable_reference(family):
    first = review_request(family=family)
    second = review_request(family=family)

    assert first.status == Status.DRAFT
    assert list(first.events.values_list("to_status", flat=True)) == [Status.DRAFT]
    assert first.reference != second.reference
    assert first.reference.startswith("SO-")
    assert len(first.reference) == 12
    assert not set(first.reference[3:].replace("-", "")) & set("01IO")


# --- The review clock ----------------------------------------------------------------------


def pay_at(family, moment, **service_fields):
    from tests.factories import ReviewServiceFactory

    service = ReviewServiceFactory(**service_fields)
    request = review_request(family=family, status=Status.AWAITING_PAYMENT, service=service)
    with time_machine.travel(moment, tick=False):
        return review_request_transition(
            review_request=request, to_status=Status.SUBMITTED, actor=None
        )


def test_payment_starts_the_clock_with_the_services_target_and_limit(family):
    paid_at = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)

    request = pay_at(family, paid_at, target_days=7, limit_days=10)

    assert request.submitted_at == paid_at
    assert request.due_target_at == paid_at + timedelta(days=7)
    assert request.due_limit_at == paid_at + timedelta(days=10)
    assert request.clock_running


def test_days_are_counted_on_the_departments_clock_across_the_spring_change(family):
    # 10:00 in Atlanta on Thursday 5 March 2026 (EST); clocks go forward on Sunday 8 March.
    paid_at = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)

    request = pay_at(family, paid_at, target_days=7, limit_days=10)

    # Still 10:00 in Atlanta a week later, now EDT: 14:00 UTC, a 167-hour week.
    assert request.due_target_at == datetime(2026, 3, 12, 14, 0, tzinfo=UTC)
    assert request.due_limit_at == datetime(2026, 3, 15, 14, 0, tzinfo=UTC)


def test_days_are_counted_on_the_departments_clock_across_the_autumn_change(family):
    # 10:00 in Atlanta on Thursday 29 October 2026 (EDT); clocks go back on Sunday 1 November.
    paid_at = datetime(2026, 10, 29, 14, 0, tzinfo=UTC)

    request = pay_at(family, paid_at, target_days=7, limit_days=10)

    assert request.due_target_at == datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
    assert request.due_limit_at == datetime(2026, 11, 8, 15, 0, tzinfo=UTC)


def test_time_waiting_on_the_family_moves_both_due_dates(family, coordinator):
    paid_at = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    request = pay_at(family, paid_at)
    target, limit = request.due_target_at, request.due_limit_at

    with time_machine.travel(paid_at + timedelta(days=2), tick=False):
        request = review_request_transition(
            review_request=request,
            to_status=Status.NEEDS_INFO,
            actor=coordinator,
            note="Please send the X-ray report.",
        )
    assert request.clock_paused
    with time_machine.travel(paid_at + timedelta(days=5, hours=3), tick=False):
        request = review_request_transition(
            review_request=request, to_status=Status.SUBMITTED, actor=family
        )

    assert request.due_target_at == target + timedelta(days=3, hours=3)
    assert request.due_limit_at == limit + timedelta(days=3, hours=3)
    assert request.submitted_at == paid_at


def test_pauses_add_up_and_the_clock_start_never_moves(family, coordinator):
    paid_at = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    request = pay_at(family, paid_at)
    target = request.due_target_at

    for start_day, length in ((1, timedelta(hours=5)), (3, timedelta(days=1))):
        with time_machine.travel(paid_at + timedelta(days=start_day), tick=False):
            request = review_request_transition(
                review_request=request, to_status=Status.NEEDS_INFO, actor=coordinator, note="More."
            )
        with time_machine.travel(paid_at + timedelta(days=start_day) + length, tick=False):
            request = review_request_transition(
                review_request=request, to_status=Status.SUBMITTED, actor=family
            )

    assert request.due_target_at == target + timedelta(days=1, hours=5)
    assert request.submitted_at == paid_at


def test_the_clock_keeps_running_in_review_and_the_due_dates_stay(family, coordinator):
    paid_at = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)
    request = pay_at(family, paid_at)
    target = request.due_target_at

    with time_machine.travel(paid_at + timedelta(days=1), tick=False):
        request = review_request_transition(
            review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
        )

    assert request.clock_running
    assert request.due_target_at == target


def test_a_move_outside_the_given_set_is_refused_under_the_lock(family):
    from intake.lifecycle import COORDINATOR_MOVES

    request = review_request(family=family, status=Status.AWAITING_PAYMENT)

    with pytest.raises(InvalidTransition, match="cannot be moved to submitted"):
        review_request_transition(
            review_request=request,
            to_status=Status.SUBMITTED,
            actor=None,
            only_moves=COORDINATOR_MOVES,
        )

    request.refresh_from_db()
    assert request.status == Status.AWAITING_PAYMENT
