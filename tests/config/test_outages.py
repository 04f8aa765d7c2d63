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
