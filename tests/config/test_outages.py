"""The object store or Redis unreachable mid-request: a 503 "try again", nothing stored."""

import botocore.exceptions
import pytest
import redis.exceptions

from records.models import Document
from tests import samples
from tests.conftest import sign_in
from tests.records.test_uploads import post_file

pytestmark = pytest.mark.django_db

OUTAGES = [
    botocore.exceptions.EndpointConnectionError(endpoint_url="http://store"),
    redis.exceptions.ConnectionError("refused"),
]


@pytest.mark.parametrize("outage", OUTAGES, ids=["s3", "redis"])
@pytest.mark.parametrize("as_json", [True, False], ids=["script", "form"])
def test_an_upload_while_a_backing_service_is_down_asks_to_try_again(
    client, family, family_draft, monkeypatch, outage, as_json
):
    def down(*args, **kwargs):
        raise outage

    monkeypatch.setattr("records.services._store", down)
    sign_in(client, family)

    answer = post_file(client, family_draft, samples.pdf(), as_json=as_json)

    assert answer.status_code == 503
    assert answer["Retry-After"] == "60"
    if as_json:
        assert "try again" in answer.json()["error"]
    else:
        assert "Please try again in a minute" in answer.content.decode()
    assert not Document.objects.exists()


@pytest.mark.parametrize("as_json", [True, False], ids=["script", "form"])
def test_an_upload_the_busy_machine_could_not_check_in_time_asks_to_try_again(
    client, family, family_draft, monkeypatch, settings, as_json
):
    """A check waiting for the CPU past its deadline is no judgement of the file: the family
    is asked to send it again in a minute, not told it is too complex."""
    import time

    from records import sandbox

    settings.RECORDS_CHECK_BUSY_WAIT_SECONDS = 0
    monkeypatch.setattr(sandbox, "GRACE_SECONDS", 0)
    monkeypatch.setattr(
        "records.filetypes._inspect_into", lambda *args: time.sleep(60)
    )  # the child gets no CPU
    sign_in(client, family)

    answer = post_file(client, family_draft, samples.pdf(), as_json=as_json)

    assert answer.status_code == 503
    if as_json:
        assert "try again" in answer.json()["error"]
    else:
        assert "Please try again in a minute" in answer.content.decode()
    assert not Document.objects.exists()


def test_an_upload_waits_its_turn_behind_another_check_and_is_accepted(
    client, family, family_draft
):
    import threading
    import time

    from records import filetypes

    filetypes._checking.acquire()  # another family's file is being checked
    threading.Thread(target=lambda: (time.sleep(1), filetypes._checking.release())).start()
    sign_in(client, family)
    started = time.monotonic()

    answer = post_file(client, family_draft, samples.pdf(), as_json=True)

    assert answer.status_code == 201
    assert time.monotonic() - started >= 1
    assert Document.objects.count() == 1


def test_an_upload_that_waited_too_long_for_its_turn_asks_to_try_again(
    client, family, family_draft, settings
):
    from records import filetypes

    settings.RECORDS_CHECK_QUEUE_SECONDS = 1
    sign_in(client, family)
    filetypes._checking.acquire()  # another check that does not finish in time
    try:
        answer = post_file(client, family_draft, samples.pdf(), as_json=True)
    finally:
        filetypes._checking.release()

    assert answer.status_code == 503
    assert "try again" in answer.json()["error"]
    assert not Document.objects.exists()
