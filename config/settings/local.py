"""The embedded default (``make run``): SQLite, local files, the filesystem broker, e-mail on
the console and demo data. Nothing else needs to run."""

from .base import *  # noqa: F403
from .base import CELERY_DATA_DIR, SECRET_KEY, VAR_DIR, env

DEBUG = env.boolean("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-only-not-a-secret-key-for-the-embedded-default"
DEMO_DATA_ALLOWED = env.boolean("DEMO_DATA_ALLOWED", True)

for folder in (
    VAR_DIR,
    CELERY_DATA_DIR / "queue",
    CELERY_DATA_DIR / "processed",
    CELERY_DATA_DIR / "control",
):
    folder.mkdir(parents=True, exist_ok=True)
