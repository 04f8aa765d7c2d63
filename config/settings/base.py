"""Settings shared by every environment. Every knob is read from the environment.

``local`` (the embedded default), ``test`` and ``production`` import this module and change
only what differs. ``.env.example`` lists every variable read here.
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env.read_env_file(Path(env.string("DJANGO_ENV_FILE", str(BASE_DIR / ".env"))))

# Where the embedded default keeps its database, files, broker folders and beat schedule.
VAR_DIR = Path(env.string("PORTAL_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env.string("DJANGO_SECRET_KEY", "")
DEBUG = env.boolean("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.strings("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.strings("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# Absolute address of the portal, for links in e-mails (no request to take it from there).
SITE_URL = env.string("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Number of reverse proxies in front of the portal whose X-Forwarded-For entries are trusted.
TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0)

HOSPITAL_NAME = env.string("HOSPITAL_NAME", "Children's Hospital")
HOSPITAL_PHONE = env.string("HOSPITAL_PHONE", "404-555-0100")
HOSPITAL_ADDRESS = env.string("HOSPITAL_ADDRESS", "1 Hospital Way, Atlanta, GA 30322")
HOSPITAL_WEBSITE = env.string("HOSPITAL_WEBSITE", "www.childrens-hospital.example")

INSTALLED_APPS = [
    "accounts.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "accounts.apps.AccountsConfig",
    "notifications",
    "intake",
    "records",
    "billing",
    "scheduling",
    "reviews",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.static.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the page: the switch's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "accounts.middleware.SameOriginNullOriginMiddleware",
    "records.uploads.NamedFileParserMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # A signed-in family's language is the one on its account; staff pages stay English.
    "accounts.middleware.AccountLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.StaffSecondFactorMiddleware",
    "accounts.middleware.NoStoreMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the middleware that adds headers, so its 400 page carries them too.
    "accounts.middleware.MalformedRequestMiddleware",
    # A store or Redis outage: a 503 "try again" page rather than a server error.
    "config.outages.OutageMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.portal",
            ],
        },
    },
]


def database_from_env(*default: str) -> dict:
    """DATABASE_URL's database. On PostgreSQL the planner is told that reading an index's
    rows out of order costs little more than reading a table in order
    (``random_page_cost`` 1.1, not the 4 meant for spinning disks): the portal's tables
    live in memory or on SSDs, and with the default the planner scans every assignment ever
    made to find the few on requests in review (docs/decisions.md, "The planner's cost of a
    random read"). Options given in the URL (``?options=-c …``) come after, so they win;
    behind a pool that refuses start-up options, set DATABASE_SEND_PLANNER_COST to false and
    the cost on the database itself."""
    database = env.database("DATABASE_URL", *default)
    send = env.boolean("DATABASE_SEND_PLANNER_COST", True)
    if database["ENGINE"].endswith("postgresql") and send:
        options = database.setdefault("OPTIONS", {})
        planner = "-c random_page_cost=1.1"
        options["options"] = " ".join(filter(None, [planner, options.get("options", "")]))
    if database["ENGINE"].endswith("sqlite3"):
        # The embedded default serves a family's files sent at once and the worker together.
        # A transaction takes the write lock when it begins, so two that read first never
        # both wait to write (SQLite answers one of them "database is locked" at once); a
        # writer waits up to 20 s for another to finish; readers do not block the writer (WAL).
        options = database.setdefault("OPTIONS", {})
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("timeout", 20)
        options.setdefault("init_command", "PRAGMA journal_mode=WAL")
    return database


DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.integer("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.string("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Accounts, sign-in and sessions -------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first, so a locked-out address never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "intake:catalogue"
# The admin's index page shows the coordinators' dashboard this function composes.
ADMIN_DASHBOARD = "config.dashboard.dashboard_context"
# Where the review clock reads departments' holidays (business days), so that intake need not
# import scheduling: see intake.clock and docs/decisions.md, "One clock for days left".
REVIEW_HOLIDAYS = "config.holidays.department_holidays"
# What writes a staff member's reading of a request's records on an admin page to the access
# log (records owns the log; intake's admin may not import it).
RECORDS_READ_LOG = "records.services.records_read_log"
PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_TIMEOUT_MINUTES", 60, minimum=5) * 60
EMAIL_VERIFICATION_TIMEOUT = env.integer("EMAIL_VERIFICATION_DAYS", 3, minimum=1) * 86400
# Sign-up, confirmation and reset e-mails to one address per hour (then silently skipped).
ACCOUNT_EMAILS_PER_HOUR = env.integer("ACCOUNT_EMAILS_PER_HOUR", 5, minimum=1)
# Links a family e-mails from one request (a second guardian, the pediatrician) per hour.
LINK_EMAILS_PER_HOUR = env.integer("LINK_EMAILS_PER_HOUR", 10, minimum=1)
# Informational calls booked per hour for one e-mail address, and from one connection (high
# enough for families behind one hospital or carrier address).
CALL_BOOKINGS_PER_EMAIL_PER_HOUR = env.integer("CALL_BOOKINGS_PER_EMAIL_PER_HOUR", 3, minimum=1)
CALL_BOOKINGS_PER_CONNECTION_PER_HOUR = env.integer(
    "CALL_BOOKINGS_PER_CONNECTION_PER_HOUR", 20, minimum=1
)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Families: a session lasts at most this long. Staff: the two limits below apply as well.
SESSION_COOKIE_AGE = env.integer("SESSION_MAX_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
STAFF_SESSION_IDLE_SECONDS = env.integer("STAFF_SESSION_IDLE_MINUTES", 15, minimum=1) * 60
STAFF_SESSION_MAX_SECONDS = env.integer("STAFF_SESSION_MAX_HOURS", 12, minimum=1) * 3600

OTP_TOTP_ISSUER = env.string("OTP_TOTP_ISSUER", f"{HOSPITAL_NAME} second opinions")
OTP_TOTP_THROTTLE_FACTOR = 1

AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("AXES_COOLOFF_MINUTES", 15, minimum=1))
# Lock the pair (account, address): a stranger cannot lock a parent out from elsewhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# authenticate() receives the e-mail as "username" (the form normalises it first); without this
# django-axes looks for "email", records no account and never locks the pair.
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.request_info.client_ip"
# Sign-in e-mails of families stay out of the logs; attempts are kept in the database.
AXES_VERBOSE = False

# --- Security headers ---------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws form icons with data: SVGs inside its stylesheet.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The Pay button's form is answered by a redirect to Stripe's payment page, and the
        # browser checks a form's redirects against this list too.
        "form-action": [SELF, "https://checkout.stripe.com"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

# --- Files --------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

STORAGE_BACKEND = env.choice("STORAGE_BACKEND", "local", ("local", "s3"))
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.string("S3_BUCKET"),
            "endpoint_url": env.string("S3_ENDPOINT_URL", "") or None,
            "region_name": env.string("S3_REGION", "us-east-1"),
            "access_key": env.string("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env.string("S3_SECRET_ACCESS_KEY", "") or None,
            "addressing_style": env.choice(
                "S3_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual")
            ),
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.integer("S3_PRESIGNED_URL_SECONDS", 60, minimum=1),
            "file_overwrite": False,
        },
    }
    # Encrypted at rest by the store (AES256 = SSE-S3); empty turns it off for stores without it.
    if _sse := env.string("S3_SERVER_SIDE_ENCRYPTION", "AES256"):
        _default_storage["OPTIONS"]["object_parameters"] = {"ServerSideEncryption": _sse}
else:
    # Records are never served from a public media URL: downloads go through an authorised view.
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(env.string("LOCAL_STORAGE_DIR", str(VAR_DIR / "files")))),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }
STORAGES = {
    "default": _default_storage,
    # Production swaps in whitenoise's compressed, fingerprinted storage (needs collectstatic).
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: files over FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) go to a temporary file on disk,
# never into memory; the limit handler skips any file past the largest size accepted.
RECORDS_MAX_DOCUMENT_BYTES = env.integer("RECORDS_MAX_DOCUMENT_MB", 50, minimum=1) * 1024 * 1024
RECORDS_MAX_IMAGING_BYTES = env.integer("RECORDS_MAX_IMAGING_MB", 2048, minimum=1) * 1024 * 1024
RECORDS_ZIP_MAX_FILES = env.integer("RECORDS_ZIP_MAX_FILES", 5000, minimum=1)
RECORDS_ZIP_MAX_RATIO = env.integer("RECORDS_ZIP_MAX_RATIO", 100, minimum=2)
# Pictures (a JPEG or PNG, or an image of a DICOM file) larger than this many pixels are
# refused before anything decodes them; a 48-megapixel phone photo passes.
RECORDS_MAX_IMAGE_PIXELS = env.integer("RECORDS_MAX_IMAGE_PIXELS", 60_000_000, minimum=1_000_000)
RECORDS_MAX_PICTURE_BYTES = env.integer("RECORDS_MAX_PICTURE_MB", 50, minimum=1) * 1024 * 1024
RECORDS_MAX_PDF_PAGES = env.integer("RECORDS_MAX_PDF_PAGES", 3000, minimum=1)
# Dictionaries and arrays a PDF may hold (a 3,000-page scan holds about 50,000).
RECORDS_MAX_PDF_OBJECTS = env.integer("RECORDS_MAX_PDF_OBJECTS", 1_000_000, minimum=1000)
# No stream of a PDF may inflate past this (a page's content, a scanned image).
RECORDS_MAX_PDF_STREAM_BYTES = env.integer("RECORDS_MAX_PDF_STREAM_MB", 256, minimum=1) * 1048576
# Uploads are judged in a child process held to this much memory, and to 1 CPU second plus
# one per RECORDS_CHECK_MB_PER_SECOND of the file (a 2 GB study: about 100 seconds).
RECORDS_CHECK_MEMORY_BYTES = env.integer("RECORDS_CHECK_MEMORY_MB", 256, minimum=128) * 1048576
RECORDS_CHECK_BYTES_PER_SECOND = env.integer("RECORDS_CHECK_MB_PER_SECOND", 20, minimum=1) * 1048576
# Past its wall-clock deadline (3 times its CPU seconds, plus 5), a check that has not used its CPU
# time (the machine is busy with others) may wait this much longer; then the family is asked
# to try again in a minute (503), and a preview is drawn again by the next sweep.
RECORDS_CHECK_BUSY_WAIT_SECONDS = env.integer("RECORDS_CHECK_BUSY_WAIT_SECONDS", 30, minimum=0)
# Checks a web process runs at once (the others wait their turn, up to the queue time, then
# are asked to try again): about one per CPU the web processes share.
RECORDS_CHECKS_AT_ONCE = env.integer("RECORDS_CHECKS_AT_ONCE", 1, minimum=1)
RECORDS_CHECK_QUEUE_SECONDS = env.integer("RECORDS_CHECK_QUEUE_SECONDS", 60, minimum=1)
# The worker draws previews in a child process held to this memory and CPU time, so a file
# that slips past the checks cannot take the worker down.
RECORDS_RENDER_MEMORY_BYTES = env.integer("RECORDS_RENDER_MEMORY_MB", 1536, minimum=256) * 1048576
RECORDS_RENDER_CPU_SECONDS = env.integer("RECORDS_RENDER_CPU_SECONDS", 300, minimum=10)
# Previews drawn per document (a CT study can hold thousands of images).
RECORDS_MAX_PREVIEWS = env.integer("RECORDS_MAX_PREVIEWS", 500, minimum=1)
# A stored object no row points to (a web worker killed mid-upload) is removed once it is
# this old; an upload in progress is never older than gunicorn's timeout (10 minutes).
RECORDS_ORPHAN_GRACE_HOURS = env.integer("RECORDS_ORPHAN_GRACE_HOURS", 24, minimum=1)
FILE_UPLOAD_HANDLERS = [
    "records.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Payments -----------------------------------------------------------------------------

# Without a secret key (the embedded default) the family is told a coordinator will call to
# take the fee, and coordinators record it in the admin.
STRIPE_SECRET_KEY = env.string("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env.string("STRIPE_WEBHOOK_SECRET", "")
# Another address for Stripe's API (the tests' local stand-in); empty means Stripe itself.
STRIPE_API_BASE = env.string("STRIPE_API_BASE", "")
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET:
    # Without it every payment notice from Stripe is refused and families wait for a day.
    raise ImproperlyConfigured("Set STRIPE_WEBHOOK_SECRET as well as STRIPE_SECRET_KEY.")

# --- Informational calls ------------------------------------------------------------------

# Reschedule, cancel and pre-call links in e-mails stop working after this many days (and
# once the call has started, whatever their age). Longer than the longest booking horizon
# (90 days), so a link always outlives the wait for its call.
SCHEDULING_LINK_DAYS = env.integer("SCHEDULING_LINK_DAYS", 100, minimum=91)

# --- Document reviews -----------------------------------------------------------------------

# Questions a family may ask the lead reviewer after the opinion is delivered (0: none).
REVIEWS_FOLLOW_UP_LIMIT = env.integer("REVIEWS_FOLLOW_UP_LIMIT", 3, minimum=0)
# The deadline sweep sends alerts a batch of requests at a time, one transaction per batch:
# a few queries each, whatever its size.
REVIEWS_ALERT_BATCH = env.integer("REVIEWS_ALERT_BATCH", 500, minimum=1)

# Links a coordinator or guardian e-mails: the family's and a second guardian's invitation
# (used once), and the referring pediatrician's upload link (revocable), last this many days.
INVITATION_DAYS = env.integer("INVITATION_DAYS", 14, minimum=1)
PEDIATRICIAN_LINK_DAYS = env.integer("PEDIATRICIAN_LINK_DAYS", 14, minimum=1)
# A family that has not opened its invitation, or not sent the request it accepted, after
# this many days is reminded (once each).
INVITATION_REMINDER_DAYS = env.integer("INVITATION_REMINDER_DAYS", 3, minimum=1)

# --- E-mail -------------------------------------------------------------------------------

_email = env.email("EMAIL_URL", "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "Second opinions <second-opinions@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 20
# An outgoing message is retried with growing pauses, then given up and shown to staff.
OUTBOX_MAX_ATTEMPTS = env.integer("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)

# --- Celery -------------------------------------------------------------------------------

CELERY_BROKER_URL = env.string("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_DATA_DIR = Path(env.string("CELERY_DATA_DIR", str(VAR_DIR / "celery")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: a broker that needs no server, for the embedded default.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "queue"),
        "data_folder_out": str(CELERY_DATA_DIR / "queue"),
        "processed_folder": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(CELERY_DATA_DIR / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "send-due-messages": {
        "task": "notifications.tasks.send_due_messages_task",
        "schedule": timedelta(minutes=1),
    },
    "process-waiting-documents": {
        "task": "records.tasks.process_waiting_documents_task",
        "schedule": timedelta(minutes=5),
    },
    "discard-stale-held-files": {
        "task": "records.tasks.discard_stale_held_files_task",
        "schedule": timedelta(hours=1),
    },
    "remove-orphaned-objects": {
        "task": "records.tasks.remove_orphaned_objects_task",
        "schedule": timedelta(hours=6),
    },
    "send-due-reminders": {
        "task": "scheduling.tasks.send_due_reminders_task",
        "schedule": timedelta(minutes=5),
    },
    "send-due-deadline-alerts": {
        "task": "reviews.tasks.send_due_deadline_alerts_task",
        "schedule": timedelta(minutes=5),
    },
    "send-invitation-reminders": {
        "task": "intake.tasks.send_invitation_reminders_task",
        "schedule": timedelta(minutes=15),
    },
    "reconcile-payments": {
        "task": "billing.tasks.reconcile_payments_task",
        "schedule": timedelta(days=1),
    },
    "expire-leftover-checkouts": {
        "task": "billing.tasks.expire_leftover_checkouts_task",
        "schedule": timedelta(minutes=5),
    },
}

# --- Internationalisation -----------------------------------------------------------------

# Families read every page, e-mail and letter summary in English or Spanish; staff pages (the
# admin, the reviewer workspace) stay English. See docs/decisions.md, "Spanish and
# accessibility".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switch remembers an anonymous visitor's choice in this cookie (a year); a signed-in
# family's choice is kept on the account.
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_AGE = 365 * 86400
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The hospital's own zone: the default for a family whose time zone is not known yet.
TIME_ZONE = env.string("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

PHONENUMBER_DEFAULT_REGION = "US"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Demo catalogue and accounts with known passwords: only where this is true.
DEMO_DATA_ALLOWED = env.boolean("DEMO_DATA_ALLOWED", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "filters": {"query_string_dropped": {"()": "config.logs.QueryStringDropped"}},
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {
        # The development server's request lines (`make run`), without query strings.
        "django.server": {
            "handlers": ["console"],
            "filters": ["query_string_dropped"],
            "level": "INFO",
            "propagate": False,
        },
        # A 4xx line names the path, and paths carry only references, never patient data.
        "django.request": {"level": "ERROR"},
        # Successful sign-ins are routine; failures and lockouts are warnings.
        "axes": {"level": "WARNING"},
        # fpdf2 subsets the letter's font with fontTools, which reports every table it prunes.
        "fontTools.subset": {"level": "WARNING"},
        # A damaged image fails to decode at upload and is refused with a sentence for the
        # family; pydicom would also log each decoder's traceback. qpdf reports every repair
        # it makes while reading a PDF. Neither is a fault of the portal's.
        "pydicom": {"level": "CRITICAL"},
        "pikepdf": {"level": "ERROR"},
    },
}
