"""Settings for every environment, read from environment variables.

The defaults run on a laptop with nothing installed: SQLite, Celery tasks executed eagerly in the
web process, and a local-memory cache. Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to
PostgreSQL, a real Celery broker and a shared Redis cache. ``crm.settings.production`` builds on
this module and refuses to start without a secret key, allowed hosts and a real database.
"""

import datetime
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env file is convenient in development; real deployments use the process environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# A fixed key is fine for local development only; production.py insists on a real one.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only")
# Off unless asked for: Django's debug pages (a 404 listing every URL pattern) are for developers.
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Our apps. `core` holds what every other app shares (outbox, money, template tags).
    "core",
    "accounts",
    "contacts",
    "pipeline",
    "opportunities",
    "products",
    "quotes",
    "documents",
    "activities",
    "reports",
    "analytics",
    "imports",
    "salesdata",
    "notes",
    "notifications",
    "automations",
    "integrations",
    "webforms",
    "customfields",
    "dedupe",
    "privacy",
    "bulk",  # bulk actions on lists (issue 21)
    "savedviews",  # saved views of lists and the board (issue 21)
    "mail",
    "search",
    "tags",
]

MIDDLEWARE = [
    # First: the request id, one log line and the metrics of every request (core/observability.py).
    "core.observability.RequestObservabilityMiddleware",
    # /health/live and /health/ready, before host checks, HTTPS redirects and sessions.
    "core.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A list opened without filters goes to the user's default saved view (savedviews app).
    "savedviews.middleware.DefaultViewMiddleware",
    # A NUL character in the path, query or form fields is a 400 (PostgreSQL refuses it in strings).
    "core.middleware.NulByteMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A constraint violation the views did not catch becomes a 400 page, not a 500.
    "core.middleware.IntegrityErrorMiddleware",
    # Last: locks out repeated failed logins (per username and IP).
    "axes.middleware.AxesMiddleware",
]

# --- Content-Security-Policy: no inline scripts anywhere (JS lives in static/js, data in json_script).
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Login throttling (django-axes): 5 failures for a username from one address lock it for 15 min.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with the logged-in user read from the cache (saves a query on every request).
    "accounts.backends.CachedModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address behind a reverse proxy (core/net.py): how many proxies in front of gunicorn
# append to X-Forwarded-For. 0 ignores the header (a client could write anything in it); 1 trusts
# the last entry, which the one proxy added. Without it, every client has the proxy's address and
# five bad passwords would lock a user out for everyone.
CRM_TRUSTED_PROXY_COUNT = env.int("CRM_TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"

ROOT_URLCONF = "crm.urls"

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
                "django.template.context_processors.i18n",
            ],
            "builtins": ["core.templatetags.crm"],
        },
    },
]

WSGI_APPLICATION = "crm.wsgi.application"

# --- Database -----------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite: wait for a concurrent writer instead of failing at once ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache (Celery: below) -----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, except that Redis being down or hung is a cache miss, not a 500:
            # short time-outs, no retries, and Redis skipped for CRM_CACHE_RETRY_AFTER seconds after
            # a failure (core/cache.py).
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="crm"),
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=0.25),
                "socket_timeout": env.float("CACHE_TIMEOUT", default=0.5),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CRM_CACHE_RETRY_AFTER = env.float("CRM_CACHE_RETRY_AFTER", default=5)

# Sessions are read from the cache (Redis when REDIS_URL is set) and written through to the
# database: one query less on every page and API call, and nothing lost when the cache is flushed.
# With the cache down they are read from and written to the database alone (see core/cache.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Authentication -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("it", _("Italian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our date formats (31/12/2026 in Italian) over Django's; see crm/formats/<language>/formats.py.
FORMAT_MODULE_PATH = ["crm.formats"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Rome")
USE_I18N = True
USE_TZ = True

# --- Celery: every CELERY_* setting, and every periodic task, in this one block -----------------
# (crm/celery.py reads them; core/tests/test_celery_settings.py checks each beat entry names a task.)
from celery.schedules import crontab  # noqa: E402

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Beat runs the crontab entries below in the site's time zone (TIME_ZONE, one setting for both).
CELERY_TIMEZONE = TIME_ZONE
# A web request must not hang when the broker is down: the outbox keeps the work and the periodic
# sweep delivers it when the broker is back (see core/outbox.py). So publishing tries once, with
# short socket time-outs (a stopped Redis refuses at once; a dead host or a hung Redis costs at most
# these), and after a failure core.outbox.task_request does not try again for
# CRM_BROKER_RETRY_AFTER seconds. Workers and beat keep retrying their own connection
# (broker_connection_retry / broker_connection_max_retries pass their own limits).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=0.5)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,  # a publisher's connection: one attempt, not retries for broker_connection_timeout
    "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=0.5),
    # A hung Redis (accepts, never answers). The worker's BRPOP wait is not affected: its reply is
    # read only once the socket is readable.
    "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=1.0),
    "retry_on_timeout": False,
}
CRM_BROKER_RETRY_AFTER = env.float("CRM_BROKER_RETRY_AFTER", default=10)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Side effects whose after-commit dispatch did not reach the broker (core/outbox.py).
    "outbox-sweep": {"task": "core.tasks.outbox_dispatch", "schedule": 30.0},
    # Webhook deliveries due for a retry (integrations/webhooks.py).
    "webhook-retries": {"task": "integrations.tasks.webhook_deliveries_send", "schedule": 60.0},
    # Reminder e-mails for activities coming due.
    "activity-reminders": {"task": "activities.tasks.activity_reminders_send", "schedule": 120.0},
    # Notifications of deals gone rotten and activities fallen due (notifications/services.py).
    "notifications-time-based": {"task": "notifications.tasks.notifications_time_based", "schedule": 300.0},
    # Each user's daily digest of unread notifications, at the hour they chose.
    "notifications-digest": {"task": "notifications.tasks.notifications_digest_send", "schedule": crontab(minute=5)},
    # Automation rules on deals gone rotten and activities fallen due (automations/services.py).
    "automations-time-based": {"task": "automations.tasks.rules_time_based", "schedule": 300.0},
    # Sent quotes past their validity become expired.
    "quotes-expire": {"task": "quotes.tasks.quotes_expire", "schedule": 3600.0},
    # E-mail: poll the connected IMAP mailboxes; send what the outbox left pending (mail/tasks.py).
    "mail-poll": {"task": "mail.tasks.mailboxes_poll", "schedule": env.float("CRM_MAIL_POLL_SECONDS", default=180.0)},
    "mail-send": {"task": "mail.tasks.emails_send_pending", "schedule": 60.0},
    # Weekly forecast snapshot (Monday 06:00), for the forecast-versus-actual report.
    "reports-forecast-snapshot": {
        "task": "reports.tasks.forecast_snapshot_take",
        "schedule": crontab(minute=0, hour=6, day_of_week="mon"),
    },
    # Contacts past the retention period, listed for review (privacy/tasks.py; never deletes).
    "privacy-retention-review": {"task": "privacy.tasks.retention_review_list", "schedule": crontab(minute=30, hour=3)},
    # Report subscriptions that are due: e-mailed weekly or monthly (analytics/services.py).
    "analytics-report-subscriptions": {"task": "analytics.tasks.report_subscriptions_send", "schedule": 900.0},
}

# --- Static and media files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# `make run` serves the static files without collectstatic, whether DEBUG is on or off;
# production serves the collected, hashed copies (production.py).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- E-mail -------------------------------------------------------------------------------------
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="crm@localhost")

# --- Logging, metrics, error reporting (core/logs.py, core/observability.py, core/metrics.py) ------
from core.logs import logging_config, sentry_init  # noqa: E402

# json: one JSON object per line (production); text: readable lines (the default with DEBUG).
LOG_FORMAT = env("LOG_FORMAT", default="text")  # the production settings default to json
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL, tasks_eager=CELERY_TASK_ALWAYS_EAGER)
# /metrics answers a bearer of this token (or a signed-in staff member); without it, 404.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# /health/ready fails when more outbox events than this wait for delivery (workers down or behind).
CRM_HEALTH_OUTBOX_MAX_PENDING = env.int("CRM_HEALTH_OUTBOX_MAX_PENDING", default=1000)
CRM_HEALTH_BROKER_TIMEOUT = env.float("CRM_HEALTH_BROKER_TIMEOUT", default=1.0)
# Errors to Sentry (the official SDK) when set; nothing is sent otherwise.
SENTRY_DSN = env("SENTRY_DSN", default="")
sentry_init(SENTRY_DSN, environment=env("SENTRY_ENVIRONMENT", default=""), release=env("SENTRY_RELEASE", default=""))

# --- The CRM itself -----------------------------------------------------------------------------
# Amounts in other currencies are converted to this one (with dated exchange rates) for totals.
CRM_BASE_CURRENCY = env("CRM_BASE_CURRENCY", default="EUR")
# How many cards a board column renders before "more".
CRM_BOARD_PAGE_SIZE = env.int("CRM_BOARD_PAGE_SIZE", default=20)
CRM_LIST_PAGE_SIZE = env.int("CRM_LIST_PAGE_SIZE", default=25)
# --- bulk: a bulk action over more records than this runs in the Celery worker, with a progress page.
CRM_BULK_INLINE_LIMIT = env.int("CRM_BULK_INLINE_LIMIT", default=200)
# --- end bulk

# --- Quotes, documents and reminders (records) --------------------------------------------------
# The sender printed at the top of every quote PDF.
CRM_COMPANY_NAME = env("CRM_COMPANY_NAME", default="Esempio S.r.l.")
CRM_COMPANY_ADDRESS = env("CRM_COMPANY_ADDRESS", default="Via Roma 1, 20121 Milano (MI), Italia")
CRM_COMPANY_VAT = env("CRM_COMPANY_VAT", default="IT01234567890")
# What an Italian customer expects of the sender on a quote; each line is left out when empty.
CRM_COMPANY_FISCAL_CODE = env("CRM_COMPANY_FISCAL_CODE", default="")  # codice fiscale
CRM_COMPANY_REA = env("CRM_COMPANY_REA", default="")  # REA number, e.g. "MI-1234567"
CRM_COMPANY_SHARE_CAPITAL = env("CRM_COMPANY_SHARE_CAPITAL", default="")  # e.g. "€10.000,00 i.v."
CRM_COMPANY_PEC = env("CRM_COMPANY_PEC", default="")  # certified e-mail (PEC)
CRM_COMPANY_IBAN = env("CRM_COMPANY_IBAN", default="")  # printed with the payment terms
# Payment terms printed on every quote; empty: "Bank transfer, 30 days from the invoice date", translated.
CRM_QUOTE_PAYMENT_TERMS = env("CRM_QUOTE_PAYMENT_TERMS", default="")
# Largest document upload accepted, in bytes (20 MB).
CRM_UPLOAD_MAX_BYTES = env.int("CRM_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
# E-mail capture (mail/): Fernet key for mailbox passwords (empty: derived from SECRET_KEY), the
# per-deal address template ("crm+d{id}@example.com"; empty: none) and the Message-ID domain.
CRM_MAIL_KEY = env("CRM_MAIL_KEY", default="")
CRM_MAIL_DEAL_ADDRESS = env("CRM_MAIL_DEAL_ADDRESS", default="")
CRM_MAIL_USER_ADDRESS = env("CRM_MAIL_USER_ADDRESS", default="")
CRM_MAIL_CA_FILE = env("CRM_MAIL_CA_FILE", default="")
CRM_MAIL_MESSAGE_ID_DOMAIN = env("CRM_MAIL_MESSAGE_ID_DOMAIN", default="crm.localhost")
CRM_MAIL_TIMEOUT = env.float("CRM_MAIL_TIMEOUT", default=20.0)
# Where the CRM is reachable, for links in e-mails sent by workers (no request to build them from).
CRM_SITE_URL = env("CRM_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The right-hand part of the calendar feed's event UIDs ("activity-12@<this>"): fixed, so an event
# keeps its UID whichever host name the calendar application reached the CRM by. Empty: the host
# of CRM_SITE_URL. Changing it makes calendar applications see every event as new.
CRM_CALENDAR_UID_DOMAIN = env("CRM_CALENDAR_UID_DOMAIN", default="")
# The DNS servers the web forms' "e-mail domain accepts mail" check asks ("ip" or "ip:port"); empty:
# the machine's resolver (/etc/resolv.conf).
CRM_DNS_NAMESERVERS = env.list("CRM_DNS_NAMESERVERS", default=[])
# Webhooks to loopback / private / link-local addresses are refused (SSRF); allow them only where
# the receiver really is on the local network (development, the test suite's receiver).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)


# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browser, with CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "integrations.permissions.TokenScope",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "integrations.throttling.TokenOrUserRateThrottle",
        "integrations.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_THROTTLE_RATE", default="2000/hour"),
        "anon": env("API_THROTTLE_RATE_ANON", default="60/hour"),
    },
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.CrmAutoSchema",  # shared errors and headers declared
    "DEFAULT_RENDERER_CLASSES": [
        "core.api.renderers.JSONRenderer",  # DRF's bytes, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "COERCE_DECIMAL_TO_STRING": True,
}
# The anonymous throttle keys on the same client address as the log-in lock-out (never on a forged header).
REST_FRAMEWORK["NUM_PROXIES"] = CRM_TRUSTED_PROXY_COUNT
# The API speaks JSON: a write in another media type is a 415 in the documented error shape, and the
# schema declares JSON bodies only, so generated clients send JSON (where `null` means null). Bodies
# nested too deeply are a 400, not a RecursionError (core/api/parsers.py). The one upload (documents)
# names its own multipart parser.
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["core.api.parsers.JSONParser"]
REST_FRAMEWORK["TEST_REQUEST_DEFAULT_FORMAT"] = "json"
SPECTACULAR_SETTINGS = {
    "TITLE": "Sales CRM API",
    "DESCRIPTION": (
        "Organizations, contacts, opportunities and their pipeline. Authenticate with "
        "`Authorization: Bearer <token>` (create one on your profile page). Bodies are JSON "
        "(`Content-Type: application/json`; a document upload is multipart); `null` is accepted wherever "
        "a field is nullable. Detail responses carry an `ETag`; send it back in `If-Match` on writes. "
        "POSTs accept an `Idempotency-Key`. Errors have one shape, 404 and 500 included: "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DealStateEnum": "pipeline.models.Stage.Kind",  # a stage's kind and a deal's status: open/won/lost
        "WebhookDeliveryStatusEnum": "integrations.models.WebhookDelivery.Status",
        "ImportKindEnum": "imports.models.ImportKind",
        "ImportJobStatusEnum": "imports.models.ImportJob.Status",
        "ImportRowActionEnum": ["created", "updated", "unchanged", "rejected"],
        "BulkKindEnum": "bulk.models.BulkKind",
        "BulkActionEnum": "bulk.models.BulkAction",
        "TaggedKindEnum": ["contacts", "opportunities", "organizations"],
        "DuplicateKindEnum": ["organization", "contact"],
        "ReportGroupByEnum": "reports.filters.GROUP_BY",
        "FunnelGroupByEnum": "reports.filters.FUNNEL_GROUP_BY",
    },
}
