"""Personas and helpers shared by every test.

The personas of every permission test: a family, another family, a coordinator, an admin, a
reviewer assigned to the family's request, a reviewer who is not, and anonymous.
"""

import contextlib
import os
import shutil

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from config.celery import app as celery_app
from intake.lifecycle import Status
from reviews.services import review_assignment_add
from tests.billing.stripe_standin import WEBHOOK_SECRET, StripeStandIn
from tests.factories import UserFactory, review_request, staff_user

PERSONAS = (
    "anonymous",
    "family",
    "other_family",
    "coordinator",
    "admin_user",
    "assigned_reviewer",
    "unassigned_reviewer",
)


# CHROMIUM in the environment names another browser (or none: a path that does not exist).
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_SKIPPED = pytest.StashKey[int]()


def pytest_configure(config):
    """The Spanish catalogue as its .po says, even when pytest runs without ``make``."""
    from config.translations import catalogues_compile

    catalogues_compile(only_stale=True)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite, browser tests where Chromium is missing.
    CI sets REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1: then a missing part stops the run instead
    of quietly skipping what it was meant to test."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if not on_postgres and os.environ.get("REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but DATABASE_URL is not a PostgreSQL URL.")
    has_chromium = os.access(CHROMIUM, os.X_OK)
    if not has_chromium and os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}.")
    config.stash[BROWSER_SKIPPED] = 0
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "browser" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Chromium (apt-get install chromium)"))
            config.stash[BROWSER_SKIPPED] += 1


def pytest_unconfigure(config):
    """One line at the very end, after the counts, when browser tests were skipped: a green
    run without them has not tested the pages in a browser."""
    skipped = config.stash.get(BROWSER_SKIPPED, 0)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if skipped and reporter is not None:
        reporter.write_line(
            f"{skipped} browser test{'s were' if skipped != 1 else ' was'} skipped: there is no "
            f"Chromium at {CHROMIUM}. Install it (Debian or Ubuntu: sudo apt-get install "
            "chromium) and run make test again to test the pages in a real browser.",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session", autouse=True)
def empty_test_queue():
    """Start from an empty broker queue: nothing from an earlier run is consumed here."""
    # A queue that does not exist yet has nothing to purge.
    with celery_app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge(celery_app.conf.task_default_queue)


@pytest.fixture
def broker_down(settings):
    """Point Celery at a port where nothing listens, and back again afterwards."""

    def reconnect(url):
        celery_app.conf.broker_url = url
        # Celery's own way to forget its connection and producer pools (as after a fork).
        # kombu keeps pools per URL for the whole process, so none is closed here.
        celery_app._after_fork()

    reconnect("redis://127.0.0.1:1/0")
    yield
    reconnect(settings.CELERY_BROKER_URL)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Each test stores files in a folder of its own, so "nothing was stored" can be checked."""
    default = settings.STORAGES["default"]
    if default["BACKEND"].endswith("FileSystemStorage"):
        options = {**default["OPTIONS"], "location": str(tmp_path / "files")}
        settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's default language. A page read in Spanish through the
    test client leaves Spanish active in this thread (as LocaleMiddleware leaves it for the
    rest of a request); a test after it calling a service directly must not read Spanish."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def family(db):
    return UserFactory(email="parent@example.org", full_name="Jordan Rivera")


@pytest.fixture
def other_family(db):
    return UserFactory(email="someone.else@example.org", full_name="Sam Lee")


# Staff have fixed names: a random one could contain a child's name a test looks for.


@pytest.fixture
def coordinator(db):
    return staff_user(Role.COORDINATOR, email="coordinator@example.org", full_name="Taylor Brennan")


@pytest.fixture
def admin_user(db):
    return staff_user(Role.ADMIN, email="admin@example.org", full_name="Robin Admin")


@pytest.fixture
def assigned_reviewer(db):
    return staff_user(
        Role.REVIEWER, email="reviewer.assigned@example.org", full_name="Dr. Quinn Harper"
    )


@pytest.fixture
def unassigned_reviewer(db):
    return staff_user(
        Role.REVIEWER, email="reviewer.other@example.org", full_name="Dr. Rowan Ellis"
    )


@pytest.fixture
def anonymous():
    return None


@pytest.fixture
def family_request(family, assigned_reviewer, coordinator):
    """The family's request with one PDF sent, in review, ``assigned_reviewer`` on its panel."""
    from billing.services import payment_record_phone
    from intake.services import review_request_transition
    from records.services import document_process, document_upload
    from tests import samples

    request = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)
    payment_record_phone(
        review_request=request,
        amount_cents=request.fee_cents,
        reference="4242",
        note="",
        actor=coordinator,
    )
    request.refresh_from_db()
    document = document_upload(
        review_request=request,
        kind="record",
        upload=samples.upload(samples.pdf(), "school-report.pdf"),
        actor=family,
        ip_address="203.0.113.7",
    ).document
    document_process(document_id=document.pk)  # as the worker does after the upload
    request = review_request_transition(
        review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
    )
    review_assignment_add(review_request=request, reviewer=assigned_reviewer, is_lead=True)
    return request


def sign_in(client, user):
    """Sign ``user`` in on ``client``; staff as if they had also passed their TOTP code."""
    if user is None:
        return client
    client.force_login(user)
    if user.is_staff_member:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def as_persona(request, client):
    """``as_persona("coordinator")``: a client signed in as that persona."""

    def _as(name):
        user = request.getfixturevalue(name)
        return sign_in(client, user), user

    return _as


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, over real HTTP on a free local port, for the whole run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """The default storage switched to django-storages' S3 backend on moto, with a fresh
    private bucket; everything is reset afterwards."""
    import boto3
    import requests

    bucket = "portal-test-records"
    options = {
        "bucket_name": bucket,
        "endpoint_url": s3_server,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "us-east-1",
        "addressing_style": "path",
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        "file_overwrite": False,
        "object_parameters": {"ServerSideEncryption": "AES256"},
    }
    boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    yield options
    requests.post(f"{s3_server}/moto-api/reset", timeout=10)


@pytest.fixture
def published_service(db):
    """A review service ready for families: questionnaire and consent text published."""
    from intake.models import Question
    from intake.services import (
        consent_text_new_version,
        consent_text_publish,
        questionnaire_new_version,
        questionnaire_publish,
    )
    from tests.factories import ReviewServiceFactory

    service = ReviewServiceFactory(name="Spine document review", slug="spine-document-review")
    questionnaire = questionnaire_new_version(service=service)
    Question.objects.create(
        questionnaire=questionnaire,
        position=1,
        key="back_pain",
        text="Does your child have back pain?",
        kind="yes_no",
    )
    Question.objects.create(
        questionnaire=questionnaire,
        position=2,
        key="other",
        text="Anything else?",
        kind="text",
        required=False,
    )
    questionnaire_publish(questionnaire=questionnaire)
    consent_text_publish(
        consent_text=consent_text_new_version(
            title="Financial consent", body="Self-pay. Not covered by insurance."
        )
    )
    return service


@pytest.fixture
def family_draft(family, published_service):
    return review_request(family=family, service=published_service)


@pytest.fixture
def family_document(family_request):
    """The PDF the family sent with its request."""
    return family_request.documents.get()


# --- Stripe, through its own library, against a local stand-in -------------------------------


@pytest.fixture(scope="session")
def stripe_server():
    server = StripeStandIn()
    yield server
    server.stop()


@pytest.fixture
def standin(stripe_server, settings):
    """Stripe configured, pointed at the stand-in (emptied for each test)."""
    stripe_server.reset()
    settings.STRIPE_SECRET_KEY = "sk_test_portal"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_server.url
    return stripe_server
