"""A parent with no account books a free informational call, in headless Chromium set to
Chicago time. The clock is the real one: the coordinator takes calls every day, all day."""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from notifications.models import Message
from scheduling.models import Booking, wall_clock
from scheduling.slots import slots_open

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(timezone_id="America/Chicago", locale="en-US"),
]

CHICAGO = ZoneInfo("America/Chicago")
PARENT_EMAIL = "jordan.rivera@example.org"


def field(page, label):
    """The form field whose label starts with ``label`` (labels also carry a "*")."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}"))


def spoken(moment):
    """As the confirmation writes it: "Tuesday, May 5, 2026 at 9:20 PM"."""
    hour = moment.hour % 12 or 12
    noon = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%A, %B} {moment.day}, {moment.year} at {hour}:{moment:%M} {noon}"


def test_a_parent_without_an_account_books_a_call_and_gets_the_invite(
    live_server, page, neurology, csp_violations
):
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Book a free informational call").click()
    expect(page.get_by_role("heading", name="Book a free informational call")).to_be_visible()
    page.get_by_label("Select a department").select_option(label="Neurology (30-minute call)")
    page.get_by_role("button", name="See available times").click()

    # The page switches to the browser's time zone by itself.
    expect(page.get_by_role("heading", name="Neurology: pick a time")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/calls/neurology/\?tz=America%2FChicago$"))
    expect(page.get_by_label("Times shown in")).to_have_value("America/Chicago")
    expect(page.get_by_label("Times shown in").locator("option:checked")).to_have_text(
        "Central Time (America/Chicago)"
    )

    first_time = page.locator("a[href*='/calls/neurology/book/']").first
    picked = first_time.inner_text().strip()  # e.g. "9:20 PM"
    first_time.click()
    expect(page.get_by_role("heading", name="Neurology: your details")).to_be_visible()
    expect(page.get_by_text("Times are in Central Time (America/Chicago).")).to_be_visible()
    chosen = page.locator("input[name=start]:checked")
    expect(chosen).to_have_count(1)
    expect(page.locator(f"label[for='{chosen.get_attribute('id')}']")).to_contain_text(picked)

    # A phone number that cannot be one: refused, and nothing typed is lost.
    field(page, "Your name").fill("Jordan Rivera")
    field(page, "Phone number we should call").fill("12")
    field(page, "E-mail").fill(PARENT_EMAIL)
    field(page, "Your child's first name").fill("Alex")
    field(page, "Your child's age in years").fill("9")
    field(page, "You may contact me by phone and e-mail").check()
    page.get_by_role("button", name="Book the call").click()

    # Focus moves to the list of errors, whose line for the phone leads to the field.
    summary = page.get_by_role("alert").filter(has_text="Nothing was booked yet")
    expect(summary).to_be_focused()
    summary.get_by_role(
        "link", name=re.compile(r"Phone number .*Enter a valid phone number")
    ).click()
    expect(field(page, "Phone number we should call")).to_be_focused()
    expect(field(page, "Your name")).to_have_value("Jordan Rivera")
    expect(field(page, "E-mail")).to_have_value(PARENT_EMAIL)
    expect(field(page, "You may contact me by phone and e-mail")).to_be_checked()
    expect(page.locator("input[name=start]:checked")).to_have_count(1)
    assert not Booking.objects.exists()

    field(page, "Phone number we should call").fill("404-555-0123")
    page.get_by_role("button", name="Book the call").click()

    expect(page.get_by_role("heading", name="Your call is booked")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.BOOKED
    assert booking.family is None
    assert booking.email == PARENT_EMAIL
    assert booking.family_time_zone == "America/Chicago"
    when = wall_clock(booking.starts_at, CHICAGO)
    assert spoken(when).endswith(picked)
    expect(page.get_by_text(f"{spoken(when)} (Central Time)")).to_be_visible()
    expect(page.get_by_text(PARENT_EMAIL)).to_be_visible()

    # The confirmation e-mail carries a calendar invite for exactly that time.
    message = Message.objects.get(to=PARENT_EMAIL, template="call_booked")
    assert len(message.attachments) == 1
    invite = message.attachments[0]
    assert invite["mimetype"] == "text/calendar"
    events = Calendar.from_ical(invite["content"]).walk("VEVENT")
    assert len(events) == 1
    assert events[0]["DTSTART"].dt == booking.starts_at
    assert events[0]["DTEND"].dt == booking.ends_at
    assert csp_violations == []


PHONE = {"width": 390, "height": 844}


def monday_of(day):
    return day - timedelta(days=day.weekday())


def shown_days(page):
    return [
        date.fromisoformat(day)
        for day in page.locator("section[data-day]").evaluate_all(
            "sections => sections.map(s => s.dataset.day)"
        )
    ]


@pytest.mark.browser_context_args(
    timezone_id="America/Chicago", locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True
)
def test_on_a_phone_the_times_come_one_week_at_a_time_and_a_later_week_can_be_booked(
    live_server, page, neurology, csp_violations
):
    now = timezone.now()
    first_open = slots_open(department=neurology, now=now)[0].starts_at
    first_week = monday_of(first_open.astimezone(CHICAGO).date())
    next_week = first_week + timedelta(days=7)

    page.goto(f"{live_server.url}/calls/neurology/")

    expect(page).to_have_url(re.compile(r"\?tz=America%2FChicago$"))
    days = shown_days(page)
    assert days
    assert all(first_week <= day < next_week for day in days)
    expect(page.locator("#week-shown")).to_have_text(
        f"{first_week:%a, %b} {first_week.day} – {next_week - timedelta(days=1):%a, %b} "
        f"{(next_week - timedelta(days=1)).day}"
    )
    if first_week == monday_of(now.astimezone(CHICAGO).date()):
        expect(page.get_by_role("link", name="Previous week")).to_have_count(0)

    page.get_by_role("link", name="Next week").first.click()

    expect(page).to_have_url(
        re.compile(rf"/calls/neurology/\?tz=America%2FChicago&week={next_week.isoformat()}$")
    )
    days = shown_days(page)
    assert days
    assert all(next_week <= day < next_week + timedelta(days=7) for day in days)
    expect(page.get_by_role("link", name="Previous week").first).to_be_visible()
    later = page.locator(f"section[data-day='{days[-1].isoformat()}'] a").first
    picked = later.inner_text().strip()
    later.click()
    expect(page.get_by_role("heading", name="Neurology: your details")).to_be_visible()
    field(page, "Your name").fill("Jordan Rivera")
    field(page, "Phone number we should call").fill("404-555-0123")
    field(page, "E-mail").fill(PARENT_EMAIL)
    field(page, "Your child's first name").fill("Alex")
    field(page, "Your child's age in years").fill("9")
    field(page, "You may contact me by phone and e-mail").check()
    page.get_by_role("button", name="Book the call").click()

    expect(page.get_by_role("heading", name="Your call is booked")).to_be_visible()
    when = wall_clock(Booking.objects.get().starts_at, CHICAGO)
    assert when.date() == days[-1]
    assert spoken(when).endswith(picked)
    assert csp_violations == []


@pytest.mark.browser_context_args(
    timezone_id="America/Chicago", locale="en-US", viewport=PHONE, java_script_enabled=False
)
def test_without_javascript_the_week_links_keep_the_chosen_time_zone(live_server, page, neurology):
    page.goto(f"{live_server.url}/calls/neurology/")
    expect(page.get_by_label("Times shown in")).to_have_value("America/New_York")  # no script
    page.get_by_label("Times shown in").select_option("America/Denver")
    page.get_by_role("button", name="Change").click()
    expect(page).to_have_url(re.compile(r"\?tz=America%2FDenver&week=\d{4}-\d\d-\d\d$"))
    shown = date.fromisoformat(page.url.rsplit("=", 1)[1])

    page.get_by_role("link", name="Next week").first.click()

    expect(page).to_have_url(
        re.compile(rf"\?tz=America%2FDenver&week={(shown + timedelta(days=7)).isoformat()}$")
    )
    expect(page.get_by_label("Times shown in")).to_have_value("America/Denver")
    page.get_by_role("link", name="Previous week").first.click()
    expect(page).to_have_url(re.compile(rf"\?tz=America%2FDenver&week={shown.isoformat()}$"))
