"""The test suite. SQLite and in-memory parts unless DATABASE_URL / REDIS_URL point at real
servers, in which case the same suite runs on PostgreSQL and Redis."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import REDIS_URL, STORAGES

SECRET_KEY = "test-only-secret-key-with-enough-length-and-variety-0123456789"  # noqa: S105
DEBUG = False
SITE_URL = "http://testserver"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEMO_DATA_ALLOWED = True

_scratch = Path(tempfile.mkdtemp(prefix="portal-test-"))
if STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
    STORAGES["default"]["OPTIONS"]["location"] = str(_scratch / "files")
STATIC_ROOT = _scratch / "static"
STATIC_ROOT.mkdir()

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Its own queue, emptied at the start of a run, so nothing left by another run is consumed.
CELERY_TASK_DEFAULT_QUEUE = "portal-test"
CELERY_BEAT_SCHEDULE_FILENAME = str(_scratch / "beat-schedule")
