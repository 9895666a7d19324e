"""Production settings: everything in base.py, plus the checks a real deployment needs.

Start with ``DJANGO_SETTINGS_MODULE=crm.settings.production``. The process refuses to start
unless ``SECRET_KEY``, ``ALLOWED_HOSTS``, a PostgreSQL ``DATABASE_URL`` and ``REDIS_URL`` are set.
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import CELERY_TASK_ALWAYS_EAGER, DATABASES, LOG_LEVEL, REDIS_URL, STORAGES, env, logging_config

_missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL") if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured("Production settings need these environment variables: " + ", ".join(_missing))
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production settings need a PostgreSQL DATABASE_URL, not SQLite.")

SECRET_KEY = env("SECRET_KEY")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY must be a long random value (50+ characters).")

# Without Redis there is no broker (tasks would run inside web requests) and no shared cache (each
# process its own): several processes would not work together, and one would limp. Refuse, unless
# the operator says in so many words that this is one small process on purpose.
if not REDIS_URL:
    if not env.bool("CRM_ALLOW_NO_REDIS", default=False):
        raise ImproperlyConfigured(
            "Production settings need REDIS_URL (the Celery broker and the shared cache). Without it "
            "tasks run inside web requests and each process has its own cache. To run so on purpose "
            "(one process, no worker), set CRM_ALLOW_NO_REDIS=1."
        )
    sys.stderr.write(
        "WARNING: CRM_ALLOW_NO_REDIS=1: running WITHOUT Redis. Celery tasks run inside web requests "
        "(no broker, no worker) and the cache is per process (local memory). Do not run more than "
        "one process like this.\n"
    )

DEBUG = False
WHITENOISE_USE_FINDERS = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# Log lines are JSON objects unless LOG_FORMAT=text says otherwise.
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL, tasks_eager=CELERY_TASK_ALWAYS_EAGER)

STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS everywhere: the app sits behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Probes and Prometheus may call gunicorn directly over HTTP (the health checks also skip the
# redirect by answering before SecurityMiddleware).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
