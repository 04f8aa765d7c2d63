"""The reminder sweep for families a coordinator invited: the link again to a family that has
not opened it after INVITATION_REMINDER_DAYS, a nudge to one that joined but has not sent the
request that long after joining; each once, however often or late the sweep runs. And the
coordinators' funnel of requests started by phone."""

import re
import time
from datetime import timedelta

import pytest
import time_machine
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.lifecycle import Status
from intake.models import InvitationReminder
from intake.services import (
    invitation_accept,
    invitation_opened,
    invitation_reminders_send,
    invitation_revoke,
    review_request_transition,
)
from intake.tasks import send_invitation_reminders_task
from notifications.models import Message
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.helpers import link_in
from tests.intake.invitation_setup import (
    FAMILY_EMAIL,
    KNOWN,
    phone_request,
    phone_request_invited,
    send,
    sign_up_through,
)
from tests.notifications.test_worker import running_worker, wait_until

DAYS = settings.INVITATION_REMINDER_DAYS


def sweep_at(moment, times: int = 1) -> int:
    with time_machine.travel(moment, tick=False):
        return sum(invitation_reminders_send() for _ in range(times))


def reminders(template: str) -> list[Message]:
    return list(Message.objects.filter(template=template))


@pytest.fixture
def invited(db, coordinator, published_service):
    """A request started on the phone and its family's invitation, sent at ``sent``."""
    sent = timezone.now()
    with time_machine.travel(sent, tick=False):
        request, invitation, link = phone_request_invited(coordinator, published_service)
    return request, invitation, link, sent


# --- Not opened -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unopened_invitation_is_reminded_once_with_the_same_link(invited):
    request, invitation, link, sent = invited

    sent_now = sweep_at(sent + timedelta(days=DAYS, minutes=1), times=2)
    sent_later = sweep_at(sent + timedelta(days=DAYS + 4))

    assert (sent_now, sent_later) == (1, 0)
    [reminder] = reminders("invitation_reminder")
    assert reminder.to == FAMILY_EMAIL
    assert request.reference in reminder.subject
    assert link_in(reminder, "/invitations/") == link  # the same link works
    assert "Mirabel" not in reminder.body
    assert InvitationReminder.objects.get().kind == "not_opened"
    assert InvitationReminder.objects.get().invitation == invitation
    assert reminders("request_unfinished") == []


@pytest.mark.django_db
def test_no_reminder_before_the_day(invited):
    _, _, _, sent = invited

    early = sweep_at(sent + timedelta(days=DAYS) - timedelta(minutes=1))
    on_the_day = sweep_at(sent + timedelta(days=DAYS, seconds=1))

    assert early == 0
    assert on_the_day == 1
    assert len(reminders("invitation_reminder")) == 1


@pytest.mark.django_db
def test_an_opened_but_not_accepted_invitation_gets_no_reminder(client, invited):
    _, invitation, link, sent = invited
    with time_machine.travel(sent + timedelta(days=1)):
        assert client.get(link).status_code == 200
    invitation.refresh_from_db()
    assert invitation.opened_at is not None

    sweep_at(sent + timedelta(days=DAYS + 5))

    assert reminders("invitation_reminder") == []
    assert reminders("request_unfinished") == []


# --- Joined, not sent -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_family_that_joined_but_did_not_send_is_reminded_once_from_the_day_it_joined(
    client, invited
):
    request, _, link, sent = invited
    joined = sent + timedelta(days=1)
    with time_machine.travel(joined, tick=False):
        sign_up_through(client, link)

    too_soon = sweep_at(joined + timedelta(days=DAYS) - timedelta(minutes=1))
    due = sweep_at(joined + timedelta(days=DAYS, minutes=1), times=2)
    later = sweep_at(joined + timedelta(days=DAYS + 7))

    assert (too_soon, due, later) == (0, 1, 0)
    [reminder] = reminders("request_unfinished")
    assert reminder.to == FAMILY_EMAIL
    continue_path = link_in(reminder, request.reference)
    assert continue_path == reverse("intake:wizard_review", args=[request.reference])
    assert client.get(continue_path).status_code == 200  # the family, signed in, continues
    assert reminders("invitation_reminder") == []


@pytest.mark.django_db
def test_a_request_sent_after_joining_gets_no_reminder(client, invited):
    request, _, link, sent = invited
    with time_machine.travel(sent + timedelta(hours=1), tick=False):
        sign_up_through(client, link)
        request.refresh_from_db()
        review_request_transition(
            review_request=request, to_status=Status.AWAITING_PAYMENT, actor=request.family
        )

    sweep_at(sent + timedelta(days=DAYS + 3))

    assert reminders("request_unfinished") == []
    assert reminders("invitation_reminder") == []


# --- Links that no longer work ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_invitation_gets_no_reminder(invited):
    _, invitation, _, _ = invited

    sent = sweep_at(invitation.expires_at + timedelta(minutes=1))

    assert sent == 0
    assert reminders("invitation_reminder") == []


@pytest.mark.django_db
def test_a_withdrawn_invitation_gets_no_reminder_and_its_replacement_one(
    coordinator, published_service
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        withdrawn, _, _ = phone_request_invited(
            coordinator, published_service, email="withdrawn@example.org"
        )
        invitation_revoke(invitation=withdrawn.invitations.get(), actor=coordinator)
        replaced, _, _ = phone_request_invited(
            coordinator, published_service, email="typo@example.org"
        )
        new, new_link = send(replaced, "family", "right@example.org", coordinator)

    sweep_at(start + timedelta(days=DAYS + 1))

    [reminder] = reminders("invitation_reminder")
    assert reminder.to == "right@example.org"
    assert link_in(reminder, "/invitations/") == new_link
    assert list(InvitationReminder.objects.values_list("invitation", flat=True)) == [new.pk]


@pytest.mark.django_db
def test_second_guardians_and_pediatricians_are_never_reminded(
    coordinator, published_service, family, family_draft
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        send(family_draft, "guardian", "second@example.org", family)
        send(family_draft, "pediatrician", "dr.ortiz@example.org", family)

    sweep_at(start + timedelta(days=DAYS + 1))

    assert not InvitationReminder.objects.exists()
    assert reminders("invitation_reminder") == []


# --- The funnel -------------------------------------------------------------------------------

ROW = re.compile(
    r'<tr data-stage="(?P<stage>\w+)"><th scope="row"><a href="[^"]+">(?P<reference>[\w-]+)</a>'
    r".*?<td>(?P<reminders>\d+)</td></tr>",
    re.DOTALL,
)


def funnel_rows(client) -> dict[str, tuple[str, int]]:
    page = client.get(reverse("admin:intake_reviewrequest_funnel"))
    assert page.status_code == 200
    return {
        row["reference"]: (row["stage"], int(row["reminders"]))
        for row in ROW.finditer(page.content.decode())
    }


def at_stage(stage: str, coordinator, service, number: int):
    """A phone-led request brought to ``stage`` (now) through the services."""
    email = f"family{number}@example.org"
    if stage == "not_invited":
        return phone_request(coordinator, service, email=email)
    request, invitation, _ = phone_request_invited(coordinator, service, email=email)
    if stage == "opened":
        invitation_opened(invitation=invitation)
    if stage in {"documents_pending", "complete"}:
        request = invitation_accept(
            invitation=invitation, user=UserFactory(email=email), details=KNOWN
        )
    if stage == "complete":
        review_request_transition(
            review_request=request, to_status=Status.AWAITING_PAYMENT, actor=request.family
        )
    return request


STAGES = ("not_invited", "invited", "opened", "documents_pending", "complete")


@pytest.mark.django_db
def test_the_funnel_shows_each_request_at_its_stage_with_its_reminders(
    client, coordinator, published_service, family_draft
):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=20), tick=False):
        expired, _, _ = phone_request_invited(
            coordinator, published_service, email="expired@example.org"
        )
    sweep_at(now - timedelta(days=15))  # reminded before it expired
    with time_machine.travel(now - timedelta(days=DAYS + 1), tick=False):
        reminded = phone_request_invited(
            coordinator, published_service, email="reminded@example.org"
        )[0]
        joined_long_ago = at_stage("documents_pending", coordinator, published_service, 99)
    requests = {
        stage: at_stage(stage, coordinator, published_service, n) for n, stage in enumerate(STAGES)
    }
    # A family that decided against it on the phone: cancelled, not "sent".
    cancelled = phone_request(coordinator, published_service, email="changed.mind@example.org")
    review_request_transition(
        review_request=cancelled, to_status=Status.CANCELLED, actor=coordinator, note="No."
    )
    invitation_reminders_send()
    sign_in(client, coordinator)

    rows = funnel_rows(client)

    assert rows[expired.reference] == ("invite_expired", 1)
    assert rows[reminded.reference] == ("invited", 1)
    assert rows[joined_long_ago.reference] == ("documents_pending", 1)
    for stage, request in requests.items():
        assert rows[request.reference] == (stage, 0)
    assert rows[cancelled.reference] == ("cancelled", 0)
    assert family_draft.reference not in rows  # a family's own request is not phone-led
    assert len(rows) == 9
    page = client.get(reverse("admin:intake_reviewrequest_funnel")).content.decode()
    counts = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>(\d+)</td></tr>', page))
    assert counts == {
        "Not invited yet": "1",
        "Invitation expired or withdrawn": "1",
        "Invited, not opened": "2",
        "Invitation opened, not accepted": "1",
        "Joined; request not sent yet": "2",
        "Sent": "1",
        "Cancelled": "1",
    }


@pytest.mark.django_db
def test_the_funnel_costs_the_same_queries_for_3_and_for_30_requests(
    client, coordinator, published_service
):
    sign_in(client, coordinator)
    for number in range(3):
        at_stage(STAGES[number % len(STAGES)], coordinator, published_service, number)
    invitation_reminders_send()
    funnel_rows(client)  # warm up the session and the caches

    with CaptureQueriesContext(connection) as three:
        assert len(funnel_rows(client)) == 3
    for number in range(3, 30):
        at_stage(STAGES[number % len(STAGES)], coordinator, published_service, number)
    with time_machine.travel(timezone.now() + timedelta(days=DAYS + 1)):
        invitation_reminders_send()  # some rows now count a reminder
    with CaptureQueriesContext(connection) as thirty:
        rows = funnel_rows(client)

    assert len(rows) == 30
    assert sum(reminders for _, reminders in rows.values()) > 0
    assert len(thirty.captured_queries) == len(three.captured_queries)


def funnel_page(client, page: str) -> tuple[list[str], str]:
    response = client.get(reverse("admin:intake_reviewrequest_funnel"), {"page": page})
    assert response.status_code == 200
    html = response.content.decode()
    return [row["reference"] for row in ROW.finditer(html)], html


@pytest.mark.django_db
def test_the_funnel_shows_a_page_at_a_time_newest_first_with_links_to_the_others(
    client, coordinator, published_service, monkeypatch
):
    monkeypatch.setattr("intake.admin_phone_led.FUNNEL_PAGE_SIZE", 2)
    start = timezone.now() - timedelta(hours=10)
    made = []
    for number in range(5):
        with time_machine.travel(start + timedelta(hours=number), tick=False):
            made.append(at_stage("not_invited", coordinator, published_service, number).reference)
    newest = made[::-1]
    sign_in(client, coordinator)

    first, first_html = funnel_page(client, "1")
    second, second_html = funnel_page(client, "2")
    last, last_html = funnel_page(client, "3")

    assert (first, second, last) == (newest[:2], newest[2:4], newest[4:])
    assert 'href="?page=2">Older requests' in first_html
    assert "Newer requests" not in first_html
    assert 'href="?page=1">Newer requests' in second_html
    assert 'href="?page=3">Older requests' in second_html
    assert 'href="?page=2">Newer requests' in last_html
    assert "Older requests" not in last_html
    # The header counts the families on the page shown.
    assert re.search(r"Not invited yet</th><td>1</td>", last_html)
    beyond, beyond_html = funnel_page(client, "9")
    assert beyond == []
    assert "No older request was started by phone." in beyond_html
    assert 'href="?page=1">Newer requests' in beyond_html
    for nonsense in ("0", "-1", "two", "²", "99999999999999999999", "9" * 5000):
        assert funnel_page(client, nonsense)[0] == newest[:2]


# --- The periodic task on a real worker -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_one_reminder_however_often_the_task_runs(coordinator, published_service):
    with time_machine.travel(timezone.now() - timedelta(days=DAYS + 1), tick=False):
        request, _, _ = phone_request_invited(coordinator, published_service)
    sweeps_done = []

    def count_sweeps(sender=None, **kwargs):
        if sender.name == send_invitation_reminders_task.name:
            sweeps_done.append(1)

    def reminder_mails():
        return [m for m in mail.outbox if m.subject.startswith("Reminder:")]

    task_postrun.connect(count_sweeps, weak=False)
    try:
        with running_worker():
            send_invitation_reminders_task.delay()
            send_invitation_reminders_task.delay()
            assert wait_until(lambda: len(sweeps_done) == 2)
            assert wait_until(lambda: len(reminder_mails()) >= 1)
            time.sleep(0.5)  # room for a duplicate to show up, if there were one
    finally:
        task_postrun.disconnect(count_sweeps)

    [sent] = reminder_mails()
    assert sent.to == [FAMILY_EMAIL]
    assert request.reference in sent.subject
    assert InvitationReminder.objects.count() == 1
    assert Message.objects.get(template="invitation_reminder").status == Message.Status.SENT


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["send-invitation-reminders"]

    assert entry["task"] == send_invitation_reminders_task.name
    assert entry["schedule"] <= timedelta(hours=1)
