import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def health(client):
    response = client.get(reverse("healthz"))
    return response.status_code, json.loads(response.content)


def test_all_parts_up_answers_200_with_each_part(client):
    status, body = health(client)

    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "storage": "ok"},
        "down": [],
    }


def test_a_broker_outage_answers_503_naming_the_broker_and_nothing_secret(client, broker_down):
    response = client.get(reverse("healthz"))

    body = json.loads(response.content)
    assert response.status_code == 503
    assert body["down"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()


def test_a_cache_outage_answers_503_naming_the_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://:hunter2@127.0.0.1:1/0",
        }
    }

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert json.loads(response.content)["down"] == ["cache"]
    assert "hunter2" not in response.content.decode()


def test_storage_on_s3_is_checked_by_writing_to_the_bucket(client, s3_storage):
    status, body = health(client)

    assert status == 200
    assert body["checks"]["storage"] == "ok"


def test_a_missing_bucket_answers_503_naming_storage(client, s3_storage, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**s3_storage, "bucket_name": "no-such-bucket"},
        },
    }

    status, body = health(client)

    assert status == 503
    assert body["down"] == ["storage"]


def test_an_unwritable_local_folder_answers_503_naming_storage(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "files")},
        },
    }

    status, body = health(client)

    assert status == 503
    assert body["down"] == ["storage"]


def test_the_health_check_leaves_no_probe_file_behind(client, settings):
    from django.core.files.storage import default_storage

    health(client)

    assert default_storage.listdir("healthz") == ([], [])


def test_the_health_answer_is_never_cached(client):
    assert "no-store" in client.get(reverse("healthz"))["Cache-Control"]
