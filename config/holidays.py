"""The holiday calendar the review clock counts business days with, read from scheduling.

``intake`` may not import ``scheduling`` (DESIGN §2), yet a department's holidays live in
scheduling's call calendar. Like the dashboard, this function sits above both apps and is
found through a setting (``REVIEW_HOLIDAYS``): ``intake.selectors.day_counts_for`` calls it
once per page, sweep or e-mail, never per row. A deployment without call scheduling points
the setting at a function returning no holidays.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from scheduling.models import AvailabilityException


def department_holidays(
    *, department_ids: Iterable[int], start: date, end: date
) -> dict[int, set[date]]:
    """Each department's holidays between ``start`` and ``end`` (both included), in one
    query on the (department, date) index. A holiday is a whole-day closure of the whole
    department (no coordinator named); one coordinator's day off, or a department closing
    for some hours, leaves the day a business day."""
    holidays: dict[int, set[date]] = defaultdict(set)
    rows = AvailabilityException.objects.filter(
        department_id__in=list(department_ids),
        coordinator__isnull=True,
        kind=AvailabilityException.Kind.CLOSED,
        start_time__isnull=True,
        date__range=(start, end),
    ).values_list("department_id", "date")
    for department_id, day in rows:
        holidays[department_id].add(day)
    return holidays
