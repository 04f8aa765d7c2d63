"""The booking page one week at a time: only the week shown is computed, plain links lead to
the weeks around it (never before today nor past the horizon), and booking a time of any week
works. Monday 16 November 2026, 8:00 in New York; notice 24 hours, horizon 30 days (the last
bookable time is Tuesday 15 December, 11:00)."""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from scheduling import selectors, slots
from scheduling.forms import format_start
from scheduling.models import AvailabilityException, Booking
from tests.factories import staff_user
from tests.scheduling.conftest import DETAILS, add_coordinator, book, ny

pytestmark = pytest.mark.django_db

NEW_YORK = "America/New_York"


@pytest.fixture
def computed(monkeypatch):
    """The department days the slot engine was asked for, one (first, last) per call."""
    asked = []
    engine = slots.slots_open

    def spy(**kwargs):
        asked.append((kwargs.get("first_day"), kwargs.get("last_day")))
        return engine(**kwargs)

    monkeypatch.setattr(selectors, "slots_open", spy)
    monkeypatch.setattr(slots, "slots_open", spy)  # as booking calls it, through slot_at
    return asked


def slots_page(client, department, **query):
    return client.get(reverse("scheduling:slots", args=[department.slug]), query)


def days_shown(response):
    return [day for day, _ in response.context["days"]]


def test_the_page_shows_the_first_week_and_computes_only_its_days(
    client, frozen_now, department, call_coordinator, computed
):
    response = slots_page(client, department, tz=NEW_YORK)

    assert computed == [(date(2026, 11, 16), date(2026, 11, 22))]
    # Monday is inside the 24 hours' notice; the weekend has no hours.
    assert days_shown(response) == [date(2026, 11, d) for d in (17, 18, 19, 20)]
    page = response.content.decode()
    assert "Mon, Nov 16 – Sun, Nov 22" in page
    assert "Previous week" not in page  # the week holds today
    assert response.context["next_url"] == "?tz=America%2FNew_York&week=2026-11-23"
    assert 'href="?tz=America%2FNew_York&amp;week=2026-11-23"' in page
    assert "Tuesday, December 1" not in page


def test_next_and_previous_weeks_keep_the_time_zone(
    client, frozen_now, department, call_coordinator
):
    response = slots_page(client, department, tz="America/Chicago", week="2026-11-25")

    assert days_shown(response) == [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    assert response.context["previous_url"] == "?tz=America%2FChicago&week=2026-11-16"
    assert response.context["next_url"] == "?tz=America%2FChicago&week=2026-11-30"
    page = response.content.decode()
    assert "8:00 AM" in page  # 9:00 in New York, shown in Chicago
    assert '<input type="hidden" name="week" value="2026-11-23">' in page  # the zone menu


def test_a_week_in_another_zone_computes_the_department_days_it_covers(
    client, frozen_now, department, call_coordinator, computed
):
    # Monday 0:00 to Sunday 24:00 in Honolulu is Monday 5:00 to Monday 5:00 in New York.
    response = slots_page(client, department, tz="Pacific/Honolulu", week="2026-11-23")

    assert computed == [(date(2026, 11, 23), date(2026, 11, 30))]
    assert days_shown(response) == [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    assert "4:00 AM" in response.content.decode()  # 9:00 in New York


def test_the_last_week_offers_no_next_week_and_weeks_outside_are_brought_back(
    client, frozen_now, department, call_coordinator
):
    last = slots_page(client, department, tz=NEW_YORK, week="2026-12-14")

    assert days_shown(last) == [date(2026, 12, 14), date(2026, 12, 15)]
    assert last.context["next_url"] is None
    assert "Next week" not in last.content.decode()
    assert last.context["previous_url"] == "?tz=America%2FNew_York&week=2026-12-07"
    later = slots_page(client, department, tz=NEW_YORK, week="2027-03-01")
    assert later.context["week"].monday == date(2026, 12, 14)
    earlier = slots_page(client, department, tz=NEW_YORK, week="2026-10-05")
    assert earlier.context["week"].monday == date(2026, 11, 16)
    assert earlier.context["previous_url"] is None
    for nonsense in ("next", "0001-01-01", "2026-02-30"):
        response = slots_page(client, department, tz=NEW_YORK, week=nonsense)
        assert response.status_code == 200
        assert response.context["week"].monday == date(2026, 11, 16)


def test_the_first_week_shown_is_the_one_holding_the_first_open_time(
    client, frozen_now, department, call_coordinator, computed
):
    for day in (17, 18, 19, 20):
        AvailabilityException.objects.create(department=department, date=date(2026, 11, day))

    response = slots_page(client, department, tz=NEW_YORK)

    assert days_shown(response)[0] == date(2026, 11, 23)
    assert computed == [
        (date(2026, 11, 16), date(2026, 11, 22)),
        (date(2026, 11, 23), date(2026, 11, 29)),
    ]
    # The week before holds today: it may be looked at (and says it has nothing open).
    previous = slots_page(client, department, tz=NEW_YORK, week="2026-11-16")
    assert days_shown(previous) == []
    assert "No times are open this week" in previous.content.decode()
    assert "See the next week" in previous.content.decode()


def test_a_department_with_nothing_open_says_to_call_without_week_links(
    client, frozen_now, department
):
    response = slots_page(client, department, tz=NEW_YORK)

    page = response.content.decode()
    assert "No times are open in the next 30 days" in page
    assert "Next week" not in page


def test_the_cost_of_a_week_does_not_grow_with_the_calls_held(
    client,
    frozen_now,
    department,
    call_coordinator,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    riley = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(department, riley, hours=((time(9), time(17)),))
    book(department, ny(2026, 11, 18, 9))
    with django_assert_max_num_queries(10) as few:
        slots_page(client, department, tz=NEW_YORK, week="2026-11-23")
    for day in range(23, 28):
        for start in ((9, 0), (9, 40), (10, 20), (11, 0), (13, 0), (13, 40)):
            book(department, ny(2026, 11, day, *start), email=f"{day}{start}@example.org")
    assert Booking.objects.count() == 31

    with django_assert_num_queries(len(few.captured_queries)):
        busy = slots_page(client, department, tz=NEW_YORK, week="2026-11-23")

    assert busy.status_code == 200


def test_a_time_in_the_second_week_is_booked_from_its_page(
    client, frozen_now, department, call_coordinator, computed
):
    week = slots_page(client, department, tz=NEW_YORK, week="2026-11-23").content.decode()
    chosen = ny(2026, 11, 24, 9, 40)
    assert "start=2026-11-24T09%3A40%3A00-05%3A00" in week
    computed.clear()

    form = client.get(
        reverse("scheduling:book", args=[department.slug]),
        {"start": "2026-11-24T09:40:00-05:00", "tz": NEW_YORK},
    )

    # Only the chosen day (or the next with open times, within a week) is computed.
    assert computed == [(date(2026, 11, 24), date(2026, 11, 30))]
    offered = [value for value, _ in form.context["form"].fields["start"].choices]
    assert offered == [
        format_start(ny(2026, 11, 24, h, m)) for h, m in ((9, 0), (9, 40), (10, 20), (11, 0))
    ]
    assert form.context["other_days_url"].endswith("?tz=America%2FNew_York&week=2026-11-23")
    computed.clear()

    response = client.post(
        reverse("scheduling:book", args=[department.slug]),
        {**DETAILS, "start": format_start(chosen), "tz": NEW_YORK, "consent_to_contact": "on"},
    )

    assert response.status_code == 302
    assert Booking.objects.get().starts_at == chosen
    # Booking computes only the one day of the time asked for, under the row locks.
    assert computed == [(date(2026, 11, 24), date(2026, 11, 24))]


@pytest.mark.parametrize(
    ("start", "booked", "message"),
    [
        (ny(2026, 12, 3, 10, 20), True, ""),  # open, three weeks ahead
        (ny(2026, 12, 3, 10, 25), False, "just taken"),  # not a time that is offered
        (ny(2026, 12, 16, 9), False, "up to 30 days ahead"),  # past the horizon
    ],
)
def test_a_time_outside_the_week_shown_posted_by_hand_is_judged_as_any_other(
    client, frozen_now, department, call_coordinator, start, booked, message
):
    slots_page(client, department, tz=NEW_YORK)  # the first week was shown

    response = client.post(
        reverse("scheduling:book", args=[department.slug]),
        {**DETAILS, "start": format_start(start), "tz": NEW_YORK, "consent_to_contact": "on"},
    )

    assert Booking.objects.filter(starts_at=start).exists() is booked
    if not booked:
        assert message in " ".join(response.context["form"].errors["start"])
        assert 'value="Savannah Pediatrics"' in response.content.decode()


def test_the_move_page_shows_one_week_with_its_links(client, booking, computed):
    from scheduling.links import booking_token

    url = reverse("scheduling:reschedule", args=[booking_token(booking, "reschedule")])

    response = client.get(url, {"tz": NEW_YORK, "week": "2026-11-30"})

    assert computed == [(date(2026, 11, 30), date(2026, 12, 6))]
    assert days_shown(response) == [date(2026, 11, 30) + timedelta(days=n) for n in range(5)]
    assert response.context["previous_url"] == "?tz=America%2FNew_York&week=2026-11-23"
    assert response.context["next_url"] == "?tz=America%2FNew_York&week=2026-12-07"
