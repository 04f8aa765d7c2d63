"""Production: refuses to start without a real secret key, allowed hosts and a database URL,
and turns on every transport-security setting. Runs behind a TLS-terminating proxy."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, STORAGES, database_from_env, env

DEBUG = False


def _require_secret_key(value: str) -> str:
    if len(value) < 50 or len(set(value)) < 5 or value.startswith(("django-insecure", "dev-")):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be a long random value (50 characters or more), not a "
            "development key."
        )
    return value


SECRET_KEY = _require_secret_key(env.string("DJANGO_SECRET_KEY"))
ALLOWED_HOSTS = env.strings("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set the environment variable DJANGO_ALLOWED_HOSTS.")
# Web, worker and beat run in separate processes: without Redis, tasks and cache would stay
# inside each one (the embedded default's filesystem broker and in-process cache).
if not REDIS_URL:
    raise ImproperlyConfigured("Set the environment variable REDIS_URL (Celery broker and cache).")
# Sign-in throttling and the access log need the real client address: say how many proxies
# stand in front (0 if none). A wrong guess either lets X-Forwarded-For be forged or makes
# every visitor share the proxy's address.
if "TRUSTED_PROXY_COUNT" not in os.environ:
    raise ImproperlyConfigured(
        "Set the environment variable TRUSTED_PROXY_COUNT (0 if no proxy forwards requests)."
    )
DATABASES = {
    "default": {
        **database_from_env(),
        "CONN_MAX_AGE": env.integer("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        # A kept connection is checked before each request or task reuses it, so after a
        # database restart only the requests in flight fail, not the next one per thread.
        "CONN_HEALTH_CHECKS": True,
    }
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
# The container's own health check calls /healthz over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
DEMO_DATA_ALLOWED = False
