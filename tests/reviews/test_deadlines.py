"""The deadline sweep: reviewer reminders, target, escalation and breach alerts, each sent once
at the first sweep after its threshold, to the right people, whatever crashes or stops.

The clock starts on Monday 2 March 2026 in New York (the clocks go forward on the 8th: the
thresholds are read from the stored due dates, so that week's 167 hours need no special case).
Thresholds are days left as the pages count them (calendar days in New York): the reminder
when the target has 2 days left, the target alert once it is overdue, the escalation when the
limit has 1 day left, the breach once the limit is overdue; each from midnight in New York.
Requests are moved through the lifecycle service; the sweep is called as the beat would."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from intake.lifecycle import Status, add_days
from intake.models import Child, ReviewRequest
from intake.services import review_request_transition
from notifications.models import Message
from notifications.services import messages_send_due
from reviews import deadlines
from reviews.deadlines import deadline_alert_send, deadline_alerts_send_due
from reviews.models import AlertKind, DeadlineAlert, Opinion
from reviews.services import review_assignment_add, review_assignment_remove
from reviews.tasks import send_due_deadline_alerts_task
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request, staff_user

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
ALERTS = "spine.alerts@example.org"
LEAD = "program.lead@example.org"
LEAD_AND_ALERTS = [LEAD, ALERTS]  # as sent_to sorts them
REMINDER, TARGET = AlertKind.REVIEWER_REMINDER, AlertKind.TARGET
ESCALATION, BREACH = AlertKind.ESCALATION, AlertKind.BREACH


def day(n: int, hour: int = 9, minute: int = 0) -> datetime:
    """``n`` days after Monday 2 March 2026, at that New York wall time, as a UTC instant."""
    local = datetime(2026, 3, 2, hour, minute, tzinfo=NEW_YORK) + timedelta(days=n)
    return local.astimezone(UTC)


def midnight(moment: datetime, days: int = 0) -> datetime:
    """The start, in New York, of the day ``days`` after the one ``moment`` falls on there."""
    local = moment.astimezone(NEW_YORK).date() + timedelta(days=days)
    return datetime.combine(local, time.min, tzinfo=NEW_YORK).astimezone(UTC)


def days_left_from(due_at: datetime, days: int) -> datetime:
    """When the pages start to show ``days`` days left to ``due_at``."""
    return midnight(due_at, -days)


def overdue_from(due_at: datetime) -> datetime:
    """When the pages start to show "Overdue by 1 day": the day after the due date."""
    return midnight(due_at, 1)


@pytest.fixture
def clock():
    with time_machine.travel(day(0, 8), tick=False) as traveller:
        yield traveller


@pytest.fixture
def program_lead(db):
    return staff_user(Role.ADMIN, email=LEAD)


@pytest.fixture
def department(program_lead):
    return DepartmentFactory(alerts_email=ALERTS, program_lead=program_lead)


@pytest.fixture
def service(department):
    return ReviewServiceFactory(department=department, name="Spine document review")


@pytest.fixture
def reviewers(db):
    return [staff_user(Role.REVIEWER, email=f"reviewer{n}@example.org") for n in (1, 2, 3)]


def submitted(service, family, *panel) -> ReviewRequest:
    """A request paid now; with a panel, confirmed and in review (the first one leads)."""
    request = review_request(family=family, status=Status.SUBMITTED, service=service)
    if panel:
        request = move(request, Status.IN_REVIEW)
    for n, reviewer in enumerate(panel):
        review_assignment_add(review_request=request, reviewer=reviewer, is_lead=n == 0)
    return request


def move(request, status, note=""):
    return review_request_transition(
        review_request=request, to_status=status, actor=None, note=note
    )


def submit_opinion(request, reviewer) -> Opinion:
    assignment = request.assignments.get(reviewer=reviewer, removed_at__isnull=True)
    return Opinion.objects.create(
        assignment=assignment,
        agrees_with_diagnosis="yes",
        agrees_with_plan="yes",
        submitted_at=timezone.now(),
    )


def alerts() -> set[tuple[str, str]]:
    return set(DeadlineAlert.objects.values_list("request__reference", "kind"))


def sent_to(request, kind) -> list[str]:
    """Who got ``kind`` for ``request``, one entry per e-mail."""
    messages = Message.objects.filter(template=f"deadline_{kind}", body__contains=request.reference)
    return sorted(messages.values_list("to", flat=True))


def deadline_messages():
    return Message.objects.filter(template__startswith="deadline_")


def assert_each_alert_has_its_messages_and_no_more(expected_recipients):
    """Every alert row has exactly its e-mails, and no e-mail exists without its alert row."""
    recorded = set(DeadlineAlert.objects.values_list("request__reference", "kind"))
    for (reference, kind), recipients in expected_recipients.items():
        messages = deadline_messages().filter(template=f"deadline_{kind}", body__contains=reference)
        if (reference, kind) in recorded:
            assert sorted(messages.values_list("to", flat=True)) == sorted(recipients)
        else:
            assert not messages.exists()
    assert deadline_messages().count() == sum(
        len(recipients)
        for (reference, kind), recipients in expected_recipients.items()
        if (reference, kind) in recorded
    )


# --- A month of sweeps -------------------------------------------------------------------------


def test_a_simulated_month_sends_every_alert_once_at_the_first_sweep_after_its_threshold(
    clock, service, family, reviewers
):
    r1, r2, r3 = reviewers
    cases = {}
    events = [
        # A: late in review; r1 submits, r2 never does.
        (day(0, 9, 17), lambda: cases.update(a=submitted(service, family, r1, r2))),
        (day(3, 15), lambda: submit_opinion(cases["a"], r1)),
        # F: opinion ready before its target, delivered after it.
        (day(1, 11, 52), lambda: cases.update(f=submitted(service, family, r2))),
        (day(5, 10), lambda: submit_opinion(cases["f"], r2)),
        (day(5, 10, 30), lambda: cases.update(f=move(cases["f"], Status.OPINION_READY))),
        (day(8, 14), lambda: cases.update(f=move(cases["f"], Status.DELIVERED))),
        # B: waits three days on the family across its original target (day 9).
        (day(2, 10, 41), lambda: cases.update(b=submitted(service, family))),
        (day(8, 15), lambda: cases.update(b=move(cases["b"], Status.NEEDS_INFO, "The MRI."))),
        (day(11, 15), lambda: cases.update(b=move(cases["b"], Status.SUBMITTED))),
        # C: reminded, then delivered before its target.
        (day(4, 9, 5), lambda: cases.update(c=submitted(service, family, r1))),
        (day(10, 8), lambda: submit_opinion(cases["c"], r1)),
        (day(10, 9), lambda: cases.update(c=move(cases["c"], Status.OPINION_READY))),
        (day(10, 12), lambda: cases.update(c=move(cases["c"], Status.DELIVERED))),
        # D: never confirmed, stays submitted.
        (day(6, 13, 30), lambda: cases.update(d=submitted(service, family))),
        # Never swept: a draft, an unpaid request, a cancelled one and a refunded one.
        (day(0, 10), lambda: review_request(family=family, service=service)),
        (day(0, 10), lambda: review_request(family=family, status="awaiting_payment")),
        (day(0, 11), lambda: move(submitted(service, family), Status.CANCELLED, "Duplicate.")),
        (day(0, 12), lambda: move(submitted(service, family, r3), Status.REFUNDED)),
    ]
    hourly = [day(0, 8) + timedelta(hours=h) for h in range(30 * 24)]
    # Every five minutes around the night B becomes overdue for its moved target.
    five_minutes = [day(12, 22) + timedelta(minutes=5 * m) for m in range(4 * 12)]
    sweeps = sorted(set(hourly) | set(five_minutes))

    pending = sorted(events, key=lambda e: e[0])
    for sweep_at in sweeps:
        while pending and pending[0][0] <= sweep_at:
            event_at, event = pending.pop(0)
            clock.move_to(event_at)
            event()
        clock.move_to(sweep_at)
        deadline_alerts_send_due()

    a, b, c, d = (cases[name].reference for name in "abcd")
    assert alerts() == {
        (a, REMINDER), (a, TARGET), (a, ESCALATION), (a, BREACH),
        (b, TARGET), (b, ESCALATION), (b, BREACH),
        (c, REMINDER),
        (d, TARGET), (d, ESCALATION), (d, BREACH),
    }  # fmt: skip
    # F, delivered on its target's day (after the target's hour), was never overdue.
    thresholds = {
        REMINDER: lambda r: days_left_from(r.due_target_at, 2),
        TARGET: lambda r: overdue_from(r.due_target_at),
        ESCALATION: lambda r: days_left_from(r.due_limit_at, 1),
        BREACH: lambda r: overdue_from(r.due_limit_at),
    }
    for alert in DeadlineAlert.objects.select_related("request"):
        threshold = thresholds[alert.kind](alert.request)
        assert alert.threshold_at == threshold
        assert alert.created_at == min(s for s in sweeps if s >= threshold), alert
    moved = add_days(cases["b"].submitted_at, 7, "America/New_York") + timedelta(days=3)
    assert cases["b"].due_target_at == moved
    # Due on day 12 at 10:41 (moved): overdue from midnight.
    assert DeadlineAlert.objects.get(request=cases["b"], kind=TARGET).created_at == day(13, 0)
    expected = {
        (a, REMINDER): ["reviewer2@example.org"],
        (c, REMINDER): ["reviewer1@example.org"],
        **{(ref, TARGET): [ALERTS] for ref in (a, b, d)},
        **{(ref, kind): LEAD_AND_ALERTS for ref in (a, b, d) for kind in (ESCALATION, BREACH)},
    }
    for (reference, kind), recipients in expected.items():
        request = next(r for r in cases.values() if r.reference == reference)
        assert sent_to(request, kind) == recipients, (reference, kind)
    assert deadline_messages().count() == sum(len(r) for r in expected.values())


def test_nothing_is_due_before_the_first_threshold(clock, service, family, reviewers):
    request = submitted(service, family, reviewers[0])
    clock.move_to(days_left_from(request.due_target_at, 2) - timedelta(seconds=1))

    assert deadline_alerts_send_due() == 0
    assert not DeadlineAlert.objects.exists()


def test_requests_waiting_on_the_family_or_finished_are_never_swept(
    clock, service, family, reviewers
):
    waiting = move(submitted(service, family), Status.NEEDS_INFO, "The MRI, please.")
    delivered = review_request(family=family, status=Status.DELIVERED, service=service)
    review_request(family=family, status=Status.CANCELLED, service=service)
    review_request(family=family, status=Status.REFUNDED, service=service)
    review_request(family=family, status=Status.AWAITING_PAYMENT, service=service)
    clock.move_to(delivered.due_limit_at + timedelta(days=30))

    assert deadline_alerts_send_due() == 0
    assert not DeadlineAlert.objects.exists()
    # Back from the family, the paused request is alerted at its moved dates, not before.
    waiting = move(waiting, Status.SUBMITTED)
    assert waiting.due_target_at > timezone.now()
    clock.move_to(overdue_from(waiting.due_target_at))
    assert deadline_alerts_send_due() == 1
    assert alerts() == {(waiting.reference, TARGET)}


# --- Who is alerted ----------------------------------------------------------------------------


def test_the_coordinators_are_alerted_through_the_departments_inbox(
    clock, service, family, coordinator
):
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_target_at))

    deadline_alerts_send_due()

    assert sent_to(request, TARGET) == [ALERTS]


def test_without_an_inbox_every_active_coordinator_is_alerted_and_no_one_else(
    clock, family, coordinator, reviewers
):
    staff_user(Role.COORDINATOR, email="second.coordinator@example.org")
    gone = staff_user(Role.COORDINATOR, email="former.coordinator@example.org")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    staff_user(Role.ADMIN, email="admin@example.org")
    service = ReviewServiceFactory(department=DepartmentFactory(alerts_email=""))
    request = submitted(service, family, reviewers[0])
    clock.move_to(overdue_from(request.due_target_at))

    deadline_alerts_send_due()

    assert sent_to(request, TARGET) == [
        "coordinator@example.org",
        "second.coordinator@example.org",
    ]


def test_the_escalation_and_the_breach_reach_the_program_lead_and_the_coordinators(
    clock, service, family
):
    request = submitted(service, family)
    clock.move_to(days_left_from(request.due_limit_at, 1))

    deadline_alerts_send_due()
    escalation_only = alerts()
    clock.move_to(overdue_from(request.due_limit_at))
    deadline_alerts_send_due()

    assert escalation_only == {(request.reference, TARGET), (request.reference, ESCALATION)}
    assert sent_to(request, ESCALATION) == LEAD_AND_ALERTS
    assert sent_to(request, BREACH) == LEAD_AND_ALERTS


def test_without_a_program_lead_the_coordinators_get_the_escalation_once(
    clock, family, coordinator
):
    service = ReviewServiceFactory(department=DepartmentFactory(alerts_email=""))
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_limit_at))

    deadline_alerts_send_due()

    assert sent_to(request, ESCALATION) == ["coordinator@example.org"]
    assert sent_to(request, BREACH) == ["coordinator@example.org"]


def test_an_inactive_program_lead_is_replaced_by_the_coordinators(
    clock, service, family, program_lead
):
    program_lead.is_active = False
    program_lead.save(update_fields=["is_active"])
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_limit_at))

    deadline_alerts_send_due()

    assert sent_to(request, ESCALATION) == [ALERTS]


def test_with_no_one_to_alert_the_alert_waits_for_a_coordinator(clock, family, caplog):
    service = ReviewServiceFactory(department=DepartmentFactory(alerts_email=""))
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_target_at))

    assert deadline_alerts_send_due() == 0
    assert "has no alerts e-mail and no active coordinator" in caplog.text
    staff_user(Role.COORDINATOR, email="new.coordinator@example.org")
    assert deadline_alerts_send_due() == 1
    assert sent_to(request, TARGET) == ["new.coordinator@example.org"]


def test_the_reviewer_reminder_skips_those_who_submitted_and_those_removed(
    clock, service, family, reviewers
):
    r1, r2, r3 = reviewers
    request = submitted(service, family, r1, r2, r3)
    submit_opinion(request, r1)
    review_assignment_remove(assignment=request.assignments.get(reviewer=r3))
    clock.move_to(days_left_from(request.due_target_at, 2))

    deadline_alerts_send_due()

    assert sent_to(request, REMINDER) == ["reviewer2@example.org"]


def test_a_reminder_when_everyone_has_submitted_is_recorded_without_an_email(
    clock, service, family, reviewers
):
    request = submitted(service, family, reviewers[0])
    submit_opinion(request, reviewers[0])
    clock.move_to(days_left_from(request.due_target_at, 2))

    assert deadline_alerts_send_due() == 1
    assert alerts() == {(request.reference, REMINDER)}
    assert not deadline_messages().exists()


def test_the_reviewer_reminder_waits_for_a_panel(clock, service, family, reviewers):
    request = move(submitted(service, family), Status.IN_REVIEW)
    clock.move_to(request.due_target_at - timedelta(days=1))

    assert deadline_alerts_send_due() == 0
    review_assignment_add(review_request=request, reviewer=reviewers[1], is_lead=True)
    assert deadline_alerts_send_due() == 1
    assert sent_to(request, REMINDER) == ["reviewer2@example.org"]


def test_the_reviewer_reminder_is_only_for_requests_in_review(clock, service, family):
    request = submitted(service, family)
    clock.move_to(request.due_target_at - timedelta(hours=1))

    assert deadline_alerts_send_due() == 0


# --- What the e-mails say ----------------------------------------------------------------------


def test_the_emails_name_the_case_and_link_to_it_and_hold_no_patient_data(
    clock, service, family, reviewers
):
    request = submitted(service, family, reviewers[0])
    Child.objects.create(
        request=request, first_name="Zebediah", last_name="Quill", prior_diagnosis="Scoliosis"
    )
    clock.move_to(overdue_from(request.due_limit_at))

    deadline_alerts_send_due()

    change_url = reverse("admin:intake_reviewrequest_change", args=[request.pk])
    for message in deadline_messages():
        text = message.subject + message.body
        assert request.reference in text
        assert "Spine document review" in message.body
        for private in ("Zebediah", "Quill", "Scoliosis", "Jordan", "parent@example.org"):
            assert private not in text
        link = change_url if message.template != "deadline_reviewer_reminder" else "/reviews/"
        assert f"http://testserver{link}\n" in message.body
    reminder = deadline_messages().get(template="deadline_reviewer_reminder")
    assert reminder.subject == f"Reminder: review {request.reference} is due March 9"


def test_each_email_says_the_days_left_the_pages_show_at_its_threshold(
    clock, service, family, reviewers
):
    # Paid Monday 2 March at 8:00 in New York: target Monday 9, limit Thursday 12 March.
    request = submitted(service, family, reviewers[0])
    bodies = {}
    for at in (
        days_left_from(request.due_target_at, 2),
        overdue_from(request.due_target_at),
        days_left_from(request.due_limit_at, 1),
        overdue_from(request.due_limit_at),
    ):
        clock.move_to(at)
        deadline_alerts_send_due()
    for message in deadline_messages():
        bodies[message.template] = " ".join(message.body.split())

    assert (
        "is due Monday, March 9, 2026 (Eastern Time): 2 days left, and your opinion"
        in bodies["deadline_reviewer_reminder"]
    )
    assert (
        "is past its target date, Monday, March 9, 2026 (Eastern Time): overdue by 1 day,"
        in bodies["deadline_target"]
    )
    assert "Its limit is Thursday, March 12, 2026: 2 days left." in bodies["deadline_target"]
    assert (
        "its limit, Thursday, March 12, 2026 (Eastern Time): 1 day left,"
        in bodies["deadline_escalation"]
    )
    assert (
        "passed its limit, Thursday, March 12, 2026 (Eastern Time): overdue by 1 day,"
        in bodies["deadline_breach"]
    )


# --- Twice, crashes, outages -------------------------------------------------------------------


def test_a_sweep_run_twice_gives_the_same_result(clock, service, family, reviewers):
    requests = [submitted(service, family, reviewers[n]) for n in range(3)]
    clock.move_to(overdue_from(requests[-1].due_limit_at))

    first = deadline_alerts_send_due()
    after_first = (alerts(), sorted(deadline_messages().values_list("to", "subject")))
    second = deadline_alerts_send_due()

    assert (first, second) == (12, 0)
    assert (alerts(), sorted(deadline_messages().values_list("to", "subject"))) == after_first


def breached_pair(clock, service, family):
    """Two requests past their limit, still submitted: 6 alerts and 10 e-mails to send."""
    requests = [submitted(service, family), submitted(service, family)]
    clock.move_to(overdue_from(requests[-1].due_limit_at))
    expected = {}
    for request in requests:
        expected[(request.reference, TARGET)] = [ALERTS]
        expected[(request.reference, ESCALATION)] = LEAD_AND_ALERTS
        expected[(request.reference, BREACH)] = LEAD_AND_ALERTS
    return requests, expected


def failing_on(monkeypatch, request, kind, error: BaseException):
    """Make the e-mails of ``kind`` for ``request`` raise ``error`` as they are written, in a
    batch or alone, until ``monkeypatch.undo()``."""
    real = deadlines._context

    def context(alerted, alert_kind, *args):
        if (alerted.pk, alert_kind) == (request.pk, kind):
            raise error
        return real(alerted, alert_kind, *args)

    monkeypatch.setattr(deadlines, "_context", context)


def test_a_crash_mid_sweep_loses_nothing_and_duplicates_nothing(
    clock, service, family, monkeypatch
):
    requests, expected = breached_pair(clock, service, family)
    # The targets are sent; the worker dies writing the first escalation's e-mails.
    failing_on(monkeypatch, requests[0], ESCALATION, SoftTimeLimitExceeded())

    with pytest.raises(SoftTimeLimitExceeded):
        deadline_alerts_send_due()

    assert alerts() == {(r.reference, TARGET) for r in requests}
    assert_each_alert_has_its_messages_and_no_more(expected)
    monkeypatch.undo()
    assert deadline_alerts_send_due() == 4
    assert alerts() == set(expected)
    assert_each_alert_has_its_messages_and_no_more(expected)


def test_a_failing_alert_is_retried_by_the_next_sweep_and_holds_up_no_other(
    clock, service, family, monkeypatch, caplog
):
    requests, expected = breached_pair(clock, service, family)
    first = requests[0]
    failing_on(monkeypatch, first, ESCALATION, RuntimeError("a template error"))

    assert deadline_alerts_send_due() == 5

    assert f"Deadline alert escalation for request {first.pk} not sent." in caplog.text
    assert alerts() == set(expected) - {(first.reference, ESCALATION)}
    assert_each_alert_has_its_messages_and_no_more(expected)
    monkeypatch.undo()  # whatever failed is mended
    assert deadline_alerts_send_due() == 1
    assert alerts() == set(expected)
    assert_each_alert_has_its_messages_and_no_more(expected)


def test_a_broker_outage_of_hours_delays_the_alerts_and_loses_none(
    clock, service, family, reviewers, broker_down, django_capture_on_commit_callbacks, caplog
):
    request = submitted(service, family, reviewers[0])
    # The broker goes down a few hours before the target and stays down past the escalation.
    clock.move_to(days_left_from(request.due_target_at, 2))
    with django_capture_on_commit_callbacks(execute=True):
        deadline_alerts_send_due()
    clock.move_to(request.due_limit_at - timedelta(hours=1))

    # The beat is back: the deadline sweep catches up, then the outbox sweep sends.
    with django_capture_on_commit_callbacks(execute=True):
        deadline_alerts_send_due()
        deadline_alerts_send_due()
    messages_send_due()

    assert "not enqueued; the sweep will send it" in caplog.text
    assert alerts() == {(request.reference, k) for k in (REMINDER, TARGET, ESCALATION)}
    assert set(deadline_messages().values_list("status", flat=True)) == {Message.Status.SENT}
    alerted = sorted(m.to[0] for m in mail.outbox if m.to != ["parent@example.org"])
    assert alerted == sorted([LEAD, ALERTS, ALERTS, "reviewer1@example.org"])
    assert messages_send_due() == 0


def test_after_a_day_without_the_beat_the_next_sweep_catches_up(clock, service, family, reviewers):
    request = submitted(service, family, reviewers[0])
    clock.move_to(days_left_from(request.due_target_at, 2) - timedelta(hours=1))
    deadline_alerts_send_due()

    clock.move_to(request.due_target_at + timedelta(hours=23))  # no sweep for a day
    caught_up = deadline_alerts_send_due()

    assert caught_up == 2
    assert alerts() == {(request.reference, REMINDER), (request.reference, TARGET)}
    late = DeadlineAlert.objects.get(kind=REMINDER)
    assert late.threshold_at == days_left_from(request.due_target_at, 2)
    assert late.created_at == timezone.now()


def test_a_request_that_moved_on_since_the_sweep_read_it_is_not_alerted(
    clock, service, family, reviewers
):
    request = submitted(service, family, reviewers[0])
    clock.move_to(overdue_from(request.due_target_at))
    submit_opinion(request, reviewers[0])
    move(request, Status.OPINION_READY)
    move(request, Status.DELIVERED)

    assert not deadline_alert_send(request_id=request.pk, kind=TARGET)
    assert not deadline_alert_send(request_id=request.pk, kind=BREACH)  # not due yet either
    assert not DeadlineAlert.objects.exists()


def test_an_alert_sent_already_is_not_sent_again(clock, service, family):
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_target_at))

    first = deadline_alert_send(request_id=request.pk, kind=TARGET)
    second = deadline_alert_send(request_id=request.pk, kind=TARGET)

    assert (first, second) == (True, False)
    assert sent_to(request, TARGET) == [ALERTS]


def test_the_sweep_stops_when_its_time_is_up_and_the_next_one_carries_on(clock, service, family):
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_limit_at))

    assert deadline_alerts_send_due(budget_seconds=0) == 1  # checked after each alert
    assert deadline_alerts_send_due() == 2


def test_an_idle_sweep_costs_one_query_per_kind_however_many_cases_are_open(
    clock, service, family, reviewers, django_assert_num_queries
):
    requests = [submitted(service, family, reviewers[n % 3]) for n in range(6)]
    clock.move_to(overdue_from(requests[-1].due_limit_at))
    deadline_alerts_send_due()

    # The departments' clocks (one query; holidays only when one counts business days),
    # then one query per kind.
    with django_assert_num_queries(5):
        assert deadline_alerts_send_due() == 0


def test_the_task_runs_the_sweep(clock, service, family):
    request = submitted(service, family)
    clock.move_to(overdue_from(request.due_target_at))

    send_due_deadline_alerts_task.apply()

    assert alerts() == {(request.reference, TARGET)}


# --- In batches --------------------------------------------------------------------------------


def overdue(service, family, reviewers, count: int) -> list[ReviewRequest]:
    """``count`` requests in review, each with one reviewer."""
    return [submitted(service, family, reviewers[n % 3]) for n in range(count)]


def test_the_sweep_costs_the_same_queries_for_3_and_30_due_requests(
    clock, service, family, reviewers
):
    requests = overdue(service, family, reviewers, 3)
    clock.move_to(overdue_from(requests[-1].due_limit_at) + timedelta(days=1))
    with CaptureQueriesContext(connection) as few:
        assert deadline_alerts_send_due() == 12
    DeadlineAlert.objects.all().delete()
    requests += overdue(service, family, reviewers, 27)
    clock.move_to(overdue_from(requests[-1].due_limit_at) + timedelta(days=1))

    with CaptureQueriesContext(connection) as many:
        assert deadline_alerts_send_due() == 120

    assert len(many) == len(few)
    assert DeadlineAlert.objects.count() == 120


def test_small_batches_send_the_same_alerts_and_e_mails_as_one(
    clock, service, family, reviewers, settings
):
    requests = overdue(service, family, reviewers, 9)
    clock.move_to(overdue_from(requests[-1].due_limit_at))
    settings.REVIEWS_ALERT_BATCH = 4

    assert deadline_alerts_send_due() == 36

    for request in requests:
        reviewer = request.assignments.get().reviewer.email
        assert sent_to(request, REMINDER) == [reviewer]
        assert sent_to(request, TARGET) == [ALERTS]
        assert sent_to(request, ESCALATION) == LEAD_AND_ALERTS
        assert sent_to(request, BREACH) == LEAD_AND_ALERTS
    assert deadline_messages().count() == 9 * 6


def test_a_worker_killed_mid_batch_leaves_nothing_of_it_and_the_next_sweep_sends_it_once(
    clock, service, family, reviewers, monkeypatch
):
    requests = overdue(service, family, reviewers, 5)
    clock.move_to(overdue_from(requests[-1].due_limit_at))

    def killed(messages):
        raise SoftTimeLimitExceeded  # the alert rows are in, their e-mails not yet

    monkeypatch.setattr(deadlines, "messages_queue_bulk", killed)
    with pytest.raises(SoftTimeLimitExceeded):
        deadline_alerts_send_due()

    assert not DeadlineAlert.objects.exists()
    assert not deadline_messages().exists()
    monkeypatch.undo()
    assert deadline_alerts_send_due() == 20
    assert deadline_alerts_send_due() == 0
    assert deadline_messages().count() == 5 * 6


def test_a_batch_leaves_out_what_moved_on_and_what_another_sweep_sent(
    clock, service, family, reviewers
):
    moved, sent, due = overdue(service, family, reviewers, 3)
    clock.move_to(overdue_from(due.due_target_at))
    submit_opinion(moved, reviewers[0])
    move(moved, Status.OPINION_READY)
    move(moved, Status.DELIVERED)
    assert deadline_alert_send(request_id=sent.pk, kind=TARGET)

    recorded = deadlines.deadline_alerts_send_batch(
        request_ids=[moved.pk, sent.pk, due.pk], kind=TARGET, now=timezone.now()
    )

    assert recorded == 1
    assert alerts() == {(sent.reference, TARGET), (due.reference, TARGET)}
    assert sent_to(sent, TARGET) == [ALERTS]
    assert sent_to(due, TARGET) == [ALERTS]
    assert sent_to(moved, TARGET) == []
