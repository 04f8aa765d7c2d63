"""The command the demo uses to see deadline alerts at simulated times."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from reviews.models import AlertKind, DeadlineAlert
from tests.reviews.panel_setup import case_in_review

pytestmark = pytest.mark.django_db


def test_alerts_due_at_the_simulated_time_are_recorded_and_printed(family, coordinator):
    request = case_in_review(family=family, coordinator=coordinator, reviewers_required=1)
    # Five past midnight after the target's day (the department's clock is the site's):
    # the first minutes the request is overdue.
    day_after = timezone.localtime(request.due_target_at) + timedelta(days=1)
    at = day_after.replace(hour=0, minute=5)
    out = StringIO()

    call_command("send_deadline_alerts", at=at.strftime("%Y-%m-%dT%H:%M"), stdout=out)

    kinds = set(DeadlineAlert.objects.filter(request=request).values_list("kind", flat=True))
    assert AlertKind.TARGET in kinds
    assert any(coordinator.email in message.to for message in mail.outbox)
    assert "alert(s) recorded" in out.getvalue()


def test_nothing_is_due_before_the_first_threshold(family, coordinator):
    request = case_in_review(family=family, coordinator=coordinator, reviewers_required=1)
    at = timezone.localtime(request.due_target_at - timedelta(days=3))

    call_command("send_deadline_alerts", at=at.isoformat(), stdout=StringIO())

    assert not DeadlineAlert.objects.exists()


def test_a_time_that_is_not_a_time_is_refused_with_an_example():
    with pytest.raises(CommandError, match="2026-12-01T10:00"):
        call_command("send_deadline_alerts", at="next tuesday", stdout=StringIO())
