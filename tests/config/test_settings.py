"""Settings are read at start-up, so each case starts a fresh Python with its own environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x7#Kq9!mZp2@Lw4$Rv6^Tn8&Yb1*Hc3(Jd5)Fg0-Se_Ua+Wi=Oo[Pl]Mk{Nj}",
    "DJANGO_ALLOWED_HOSTS": "second-opinions.example.org",
    "DATABASE_URL": "postgres://portal:secret@db:5432/portal",
    "REDIS_URL": "redis://redis:6379/0",
    "TRUSTED_PROXY_COUNT": "1",
}


def start(environment, command="import django; django.setup()"):
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_ENV_FILE": "/nonexistent/.env",  # a developer's .env must not leak in
        **environment,
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refused_with(result, message):
    return result.returncode != 0 and message in result.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "Set the environment variable DJANGO_SECRET_KEY."),
        ("DJANGO_ALLOWED_HOSTS", "Set the environment variable DJANGO_ALLOWED_HOSTS."),
        ("DATABASE_URL", "Set the environment variable DATABASE_URL."),
        ("REDIS_URL", "Set the environment variable REDIS_URL"),
        ("TRUSTED_PROXY_COUNT", "Set the environment variable TRUSTED_PROXY_COUNT"),
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing, message):
    environment = {key: value for key, value in GOOD_PRODUCTION.items() if key != missing}

    assert refused_with(start(environment), message)


def test_production_refuses_a_development_secret_key():
    result = start(
        {
            **GOOD_PRODUCTION,
            "DJANGO_SECRET_KEY": "dev-only-not-a-secret-key-for-the-embedded-default",
        }
    )

    assert refused_with(result, "DJANGO_SECRET_KEY must be a long random value")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be true or false, not 'maybe'."),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be a whole number, not 'five'."),
        (
            "STAFF_SESSION_IDLE_MINUTES",
            "0",
            "STAFF_SESSION_IDLE_MINUTES must be at least 1, not 0.",
        ),
        ("STORAGE_BACKEND", "ftp", "STORAGE_BACKEND must be one of local, s3, not 'ftp'."),
        ("DATABASE_URL", "mysql-ish:/nowhere", "DATABASE_URL is not a database URL"),
    ],
)
def test_a_bad_value_stops_start_up_with_a_message_naming_it(variable, value, message):
    result = start({"DJANGO_SETTINGS_MODULE": "config.settings.local", variable: value})

    assert refused_with(result, message)


def test_s3_storage_needs_a_bucket_name():
    result = start({**GOOD_PRODUCTION, "STORAGE_BACKEND": "s3"})

    assert refused_with(result, "Set the environment variable S3_BUCKET.")


def test_production_settings_pass_djangos_deployment_checks():
    result = start(
        GOOD_PRODUCTION,
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_turns_on_transport_security():
    result = start(
        GOOD_PRODUCTION,
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.DEBUG, s.DEMO_DATA_ALLOWED)",
    )

    assert result.stdout.split() == ["True", "True", "True", "True", "False", "False"]


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    import re

    source = "\n".join(path.read_text() for path in (ROOT / "config" / "settings").glob("*.py"))
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', source))
    listed = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    )

    assert read - listed == set()
    assert len(read) > 30


def test_a_stripe_key_without_the_webhook_secret_is_refused_at_start_up():
    result = start(
        {"DJANGO_SETTINGS_MODULE": "config.settings.local", "STRIPE_SECRET_KEY": "sk_test_x"}
    )

    assert refused_with(result, "Set STRIPE_WEBHOOK_SECRET as well as STRIPE_SECRET_KEY.")


def test_postgresql_is_told_random_reads_are_cheap_in_production_and_by_default():
    """docs/decisions.md, "The planner's cost of a random read"."""
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    production = start(GOOD_PRODUCTION, show)
    local = start(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": GOOD_PRODUCTION["DATABASE_URL"],
        },
        show,
    )
    sqlite = start({"DJANGO_SETTINGS_MODULE": "config.settings.local"}, show)

    assert production.stdout.strip() == "-c random_page_cost=1.1", production.stderr
    assert local.stdout.strip() == "-c random_page_cost=1.1", local.stderr
    assert sqlite.returncode == 0, sqlite.stderr
    assert sqlite.stdout.strip() == ""


def test_the_urls_own_options_are_kept_after_the_planners_and_the_planners_may_be_left_out():
    show = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('options', ''))"
    )
    url = GOOD_PRODUCTION["DATABASE_URL"] + "?options=-c%20statement_timeout%3D5000"
    both = start({**GOOD_PRODUCTION, "DATABASE_URL": url}, show)
    pooled = start({**GOOD_PRODUCTION, "DATABASE_SEND_PLANNER_COST": "false"}, show)

    assert both.stdout.strip() == "-c random_page_cost=1.1 -c statement_timeout=5000", both.stderr
    assert pooled.returncode == 0, pooled.stderr
    assert pooled.stdout.strip() == ""


@pytest.mark.django_db
def test_the_portals_postgresql_sessions_plan_with_cheap_random_reads():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no such planner setting.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"


SQLITE_WRITERS = """
import threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE sent (n integer)")
failures = []

def send(n):
    # As an upload does: read (the request, locked) first, then write.
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sent")
                time.sleep(0.05)
                cursor.execute("INSERT INTO sent VALUES (%s)", [n])
    except Exception as error:
        failures.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM sent")
    print(cursor.fetchone()[0], failures)
"""


def test_the_embedded_database_lets_writers_sent_at_once_wait_their_turn(tmp_path):
    """Files a family sends at once each read then write: on SQLite's default, one of two such
    transactions is told "database is locked" at once (the upload answered 500)."""
    database = tmp_path / "portal.sqlite3"
    result = start(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DATABASE_URL": f"sqlite:///{database}",
        },
        SQLITE_WRITERS,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "8 []"
