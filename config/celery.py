"""The Celery app. Tasks are found in each app's ``tasks.py``; the broker is Redis in
production and kombu's filesystem transport in the embedded default (no server needed)."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def make_broker_folders(sender, **kwargs):
    """The filesystem transport expects its folders to exist, in the web and worker alike."""
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = sender.conf.broker_transport_options.get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
