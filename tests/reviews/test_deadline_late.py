"""An alert recorded well after it fell due (beat or the broker was down) is marked late."""

from datetime import timedelta

import pytest

from intake.lifecycle import Status
from reviews.deadlines import LATE_AFTER, THRESHOLDS, deadline_alert_send
from reviews.models import AlertKind, DeadlineAlert
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request


@pytest.mark.parametrize(
    ("after", "late"), [(timedelta(minutes=4), False), (timedelta(hours=6), True)]
)
def test_an_alert_sent_long_after_its_threshold_is_marked_late(family, after, late):
    department = DepartmentFactory(alerts_email="alerts@hospital.example")
    request = review_request(
        family=family, status=Status.SUBMITTED, service=ReviewServiceFactory(department=department)
    )
    from intake.selectors import department_of, request_day_counts

    due_at = THRESHOLDS[AlertKind.TARGET].at(
        request,
        request_day_counts(requests=[request], now=request.submitted_at)[department_of(request)],
    )

    sent = deadline_alert_send(request_id=request.pk, kind=AlertKind.TARGET, now=due_at + after)

    assert sent
    assert DeadlineAlert.objects.get(request=request).late is late
    assert (after > LATE_AFTER) is late
