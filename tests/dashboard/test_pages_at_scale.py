"""Every page whose data grows with the requests costs the same queries at 10 requests as at
200: the fill of tests/dashboard/scene.py, each page opened as the person who opens it.
(Their times at 1,000 and 100,000 requests are bench/pages.py's, never a test's.)"""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from config import admin_counts
from config.dashboard import _due_order
from intake.models import Guardian, ReviewRequest
from tests.conftest import sign_in
from tests.dashboard.scene import pages, scene_build, scene_grow

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
PAGE_NAMES = [
    "Dashboard",
    "Requests",
    "Requests: search by reference",
    "Requests: search by e-mail",
    "Requests: status filter",
    "Requests: by deadline",
    "Payments",
    "Bookings",
    "Access log",
    "Phone-led funnel",
    "My reviews",
    "Case page",
    "My requests",
    "Status page",
]


def queries_of(client, url) -> list[str]:
    client.get(url)  # the session settles on a first page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_each_page_costs_the_same_queries_at_10_and_200_requests(name):
    with time_machine.travel(NOW, tick=False):
        scene = scene_build(count=10, now=NOW)
        (persona, url) = next((who, url) for page, who, url in pages(scene) if page == name)
        client = sign_in(Client(), getattr(scene, persona))
        few = queries_of(client, url)
        scene_grow(scene, count=190)

        many = queries_of(client, url)

    assert len(many) == len(few), "\n".join(many)


def test_the_pages_measured_are_those_listed_here():
    with time_machine.travel(NOW, tick=False):
        scene = scene_build(count=1, now=NOW)

    assert [name for name, _, _ in pages(scene)] == PAGE_NAMES


@pytest.fixture
def scene():
    with time_machine.travel(NOW, tick=False):
        yield scene_build(count=12, now=NOW)


def changelist(scene, **params):
    client = sign_in(Client(), scene.coordinator)
    response = client.get("/admin/intake/reviewrequest/", params)
    assert response.status_code == 200
    return response


def test_a_reference_is_found_in_any_case_and_an_address_only_whole(scene):
    by_reference = changelist(scene, q=" bk0000000005 ")
    by_family = changelist(scene, q="Family1@Example.org")
    by_part = changelist(scene, q="family1")

    assert [r.reference for r in by_reference.context["cl"].result_list] == ["BK0000000005"]
    assert sorted(r.reference for r in by_family.context["cl"].result_list) == [
        "BK0000000003",
        "BK0000000004",
        "BK0000000005",
    ]
    assert list(by_part.context["cl"].result_list) == []


def test_a_request_is_found_by_its_guardians_address(scene):
    request = ReviewRequest.objects.get(reference="BK0000000007")
    Guardian.objects.create(request=request, email="Second.Parent@Example.org")

    found = changelist(scene, q="second.parent@example.ORG")

    assert [r.reference for r in found.context["cl"].result_list] == ["BK0000000007"]


def test_small_lists_are_counted_exactly(scene):
    page = changelist(scene).content.decode()

    assert "about" not in page
    assert f"{ReviewRequest.objects.count()} review requests" in page


@pytest.mark.postgres
def test_past_the_threshold_the_whole_list_says_about_and_a_filtered_one_is_exact(
    scene, monkeypatch
):
    monkeypatch.setattr(admin_counts, "ESTIMATE_ABOVE", 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_reviewrequest")

    whole = changelist(scene)
    filtered = changelist(scene, status__exact="delivered")

    assert whole.context["cl"].paginator.estimated
    assert "about" in whole.content.decode()
    assert not filtered.context["cl"].paginator.estimated
    assert (
        filtered.context["cl"].result_count
        == ReviewRequest.objects.filter(status="delivered").count()
    )


def test_the_dashboards_link_sorts_the_requests_by_their_target_date(scene):
    response = changelist(scene, o=_due_order()["o"])

    cl = response.context["cl"]
    assert [cl.list_display[index] for index in cl.get_ordering_field_columns()] == [
        "due_target_at"
    ]
