"""``GET /healthz``: is every part the portal needs reachable? Each part says ok or down;
no error text is returned or logged, since it can carry hosts and credentials."""

import logging
import uuid

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def _broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)


def _storage() -> None:
    # Writing is the real test: a missing bucket or a read-only disk fails here.
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker, "storage": _storage}


@never_cache
@require_GET
def healthz(request):
    checks = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning("Health check: %s is down (%s).", name, type(exc).__name__)
            checks[name] = "down"
        else:
            checks[name] = "ok"
    down = [name for name, state in checks.items() if state != "ok"]
    return JsonResponse(
        {"status": "down" if down else "ok", "checks": checks, "down": down},
        status=503 if down else 200,
    )
