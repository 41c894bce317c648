"""FreshChain settings, driven by environment variables (the business's own rules are in
config/business_settings.py, imported below).

Every variable is listed with a comment in .env.example. Nothing unsafe is a
default: DEBUG is off unless DJANGO_DEBUG=true, and the secret key comes from the
environment (`make run` sets development values itself).
"""

from datetime import timedelta
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import database_from_url, env_bool, env_int, env_list, env_str
from .task_queues import TASK_QUEUES, TASK_ROUTES

BASE_DIR = Path(__file__).resolve().parent.parent

# Fails closed: DEBUG only when asked for, a secret key only from the environment (a
# development key only with DEBUG on). `make run` sets both for development.
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str(
    "DJANGO_SECRET_KEY",
    "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz" if DEBUG else "",
)
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set (or DJANGO_DEBUG=true on a development machine)"
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")


def _is_local_host(host: str) -> bool:
    return host in {"localhost", "127.0.0.1", "[::1]", "::1", "testserver"} or (
        host.endswith(".localhost")
    )


# DEBUG pages show settings and tracebacks to whoever reaches them, so DEBUG is refused
# for a site that answers to a name other machines can use.
if DEBUG and (public_hosts := [host for host in ALLOWED_HOSTS if not _is_local_host(host)]):
    raise ImproperlyConfigured(
        f"DJANGO_DEBUG=true is refused with public DJANGO_ALLOWED_HOSTS {public_hosts}: "
        "turn DEBUG off, or list only localhost names"
    )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# The platform's own address, printed in QR codes on labels (trace links): they must open from
# any phone, so never a request's Host header.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "knox",
    "axes",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "channels",
    "csp",
    "django_prometheus",
    "common",
    "accounts",
    "farms",
    "settlement",
    "marketplace",
    "coldchain",
    "delivery",
    "traceability",
    "controltower",
]

MIDDLEWARE = [
    # First: every later step's log lines carry the request's id (common/logs.py).
    "common.logs.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.FirstPasswordChangeMiddleware",
    "accounts.middleware.ConsentMiddleware",
    "common.csp.ContentSecurityPolicyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# Content-Security-Policy (django-csp): scripts and styles only from this site, no inline
# script and no style attribute (pages load static files, and pass data in data- attributes
# or json_script); a nonce for a script that ever needs one. common/csp.py adds this host's
# WebSocket origin to connect-src and MAP_TILES_URL's host to img-src.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# The application connects as a role with only the rights it needs (DATABASE_APP_ROLE):
# `migrate` runs as the owner of the tables (DATABASE_URL pointed at DATABASE_OWNER_URL) and
# grants that role its rights afterwards (common/db_roles.py).
# DATABASE_PGBOUNCER: DATABASE_URL is PgBouncer in transaction mode (deploy/pgbouncer/); the
# pool is then off whatever DATABASE_POOL_SIZE says, and so are server-side cursors.
DATABASE_PGBOUNCER = env_bool("DATABASE_PGBOUNCER", False)
DATABASE_POOL_SIZE = 0 if DATABASE_PGBOUNCER else env_int("DATABASE_POOL_SIZE", 10)
DATABASES = {
    "default": database_from_url(
        env_str(
            "DATABASE_URL", "postgis://freshchain_app:freshchain_app@127.0.0.1:5432/freshchain"
        ),
        # Connections per process; 0 turns the pool off.
        pool={"min_size": 2, "max_size": DATABASE_POOL_SIZE, "timeout": 10}
        if DATABASE_POOL_SIZE
        else None,
        pgbouncer=DATABASE_PGBOUNCER,
    )
}
DATABASE_APP_ROLE = env_str("DATABASE_APP_ROLE", "freshchain_app")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: one server, separate logical databases for the broker, channels and cache.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL)
CHANNELS_REDIS_URL = env_str("CHANNELS_REDIS_URL", REDIS_URL)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("CACHE_REDIS_URL", REDIS_URL),
        "KEY_PREFIX": "freshchain",
    }
}


def channel_layer_host(url: str) -> dict:
    """A channels_redis host whose reads outlast its blocking receive (BZPOPMIN, 5 s).

    redis-py's default read timeout is 5 s too: an idle socket's receive then times out
    at the same moment Redis answers "nothing yet", and the consumer dies with a
    TimeoutError traceback. A quick connect timeout keeps a push to a Redis that is down
    from hanging the request.
    """
    return {"address": url, "socket_timeout": 15, "socket_connect_timeout": 2}


CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [channel_layer_host(CHANNELS_REDIS_URL)],
            "prefix": "freshchain:channels",
        },
    }
}

AUTH_USER_MODEL = "accounts.User"
# Axes first: it refuses a locked-out sign-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PhoneOrUsernameBackend",
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "accounts:workspace"
LOGOUT_REDIRECT_URL = "accounts:sign_in"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese first, English complete. Source strings are English; locale/ holds zh_Hans.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
# None in tests, which serve static files from the finders (config/test_settings.py).
STATIC_ROOT: Path | None = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Public uploads: listing photos only, served under MEDIA_URL.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Private files (handover logger records, proof-of-delivery photos): no URL maps to this folder;
# access-checked views hand them out (common/private_files.py). With a prefix set, those views
# leave the sending to nginx through X-Accel-Redirect (an `internal` location with that prefix,
# aliased to this folder); empty, Django streams the file itself.
PRIVATE_MEDIA_ROOT = Path(env_str("DJANGO_PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
PRIVATE_MEDIA_ACCEL_PREFIX = env_str(
    "DJANGO_PRIVATE_MEDIA_ACCEL_PREFIX", "" if DEBUG else "/_private/"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {"BACKEND": "common.private_files.PrivateFileStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Map tiles: any XYZ tile server (a Chinese provider, or an in-house one). Empty (the
# default, since the app must run with no outside network) means
# no base layer: the farm map still works, drawing over a plain grid.
MAP_TILES_URL = env_str("MAP_TILES_URL", "")
MAP_TILES_ATTRIBUTION = env_str("MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors")

REST_FRAMEWORK = {
    # Token first: the first class decides the WWW-Authenticate header, so an API client
    # without credentials gets 401 (try a token) rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.TokenAuthentication",
        "accounts.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "common.api.throttles.AnonymousRateThrottle",
        "common.api.throttles.UserRateThrottle",
    ],
    # Requests per IP address (anonymous, and sign-in attempts) or per user; an empty
    # value turns that throttle off.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "300/minute") or None,
        "user": env_str("API_THROTTLE_USER", "1200/minute") or None,
        "sign_in": env_str("API_THROTTLE_SIGN_IN", "20/minute") or None,
        "sign_up": env_str("API_THROTTLE_SIGN_UP", "30/minute") or None,
    },
    # uvicorn --proxy-headers has already put the client's address in REMOTE_ADDR; a
    # client's own X-Forwarded-For must not choose its throttling key.
    "NUM_PROXIES": 0,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
}
# API tokens (django-rest-knox): only a hash is stored; each expires after
# API_TOKEN_TTL_HOURS and is revoked at sign-out and when the password changes. Clients
# send `Authorization: Token <key>`.
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 24 * 7)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Lock-out (django-axes) for the sign-in page, the API token endpoint and the admin: after
# SIGN_IN_FAILURE_LIMIT wrong passwords for one account from one IP address, that pair is
# refused (even with the right password) for SIGN_IN_COOLOFF_MINUTES; each further try
# starts the wait again. Accounts are keyed however they were typed (accounts/lockout.py).
AXES_FAILURE_LIMIT = env_int("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGN_IN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.lockout.account_key"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are not logged, only failures counted
AXES_VERBOSE = False  # no start-up banner in every manage.py command
AXES_SENSITIVE_PARAMETERS = ["username", "password", "old_password", "new_password"]

SPECTACULAR_SETTINGS = {
    "TITLE": "FreshChain API",
    "DESCRIPTION": "數智鮮鏈: farms, marketplace, settlement, cold chain and delivery.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No validator badge: it would send the schema URL to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # One name for a choice set used by several serializers (a user's unit, a price's unit).
    "ENUM_NAME_OVERRIDES": {
        "WeightUnitEnum": "common.units.WeightUnit",
        # The counter's requests have a "kind" and a "status" of their own: each set named,
        # and the traders' kind and the orders' status keep the names they had.
        "FundingKindEnum": "marketplace.markets.funding_models.FundingKind",
        "FundingRequestStatusEnum": "marketplace.markets.funding_models.RequestStatus",
        "KindEnum": "marketplace.markets.choices.TraderKind",
        "StatusEnum": "marketplace.choices.OrderStatus",
        # The gate's rapid-test method and outcomes, apart from the card payments' method.
        "MethodEnum": "settlement.choices.FundingMethod",
        "RapidTestMethodEnum": "traceability.models.gate.RapidTestMethod",
        "EntryOutcomeEnum": "traceability.models.gate.EntryOutcome",
        "LaboratoryOutcomeEnum": "traceability.models.gate.LaboratoryOutcome",
        "CourierStatusEnum": "delivery.models.couriers.CourierStatus",
        "RiskKindEnum": "controltower.risk.kinds.RiskKind",
    },
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Two queues, by who waits (config/task_queues.py): `realtime` and `batch`.
CELERY_TASK_QUEUES = TASK_QUEUES
CELERY_TASK_ROUTES = TASK_ROUTES
# A task a worker took but never finished (the worker was killed: acks_late tasks) goes back
# to its queue after this many seconds. Longer than any task runs (CELERY_TASK_TIME_LIMIT) and
# than any countdown (an offer's), else a task still running or waiting is handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Seconds /healthz waits for a worker to answer its ping task, and the queue the ping
# goes to (empty: the default queue, which every worker consumes unless told otherwise).
HEALTH_CELERY_TIMEOUT = env_int("HEALTH_CELERY_TIMEOUT", 3)
HEALTH_CELERY_QUEUE = env_str("HEALTH_CELERY_QUEUE", "")
# Seconds a /healthz report is reused (per process), and the token (sent as
# "Authorization: Bearer <token>" or ?token=) that shows each check's details to a monitor;
# empty: details only for a signed-in platform admin.
HEALTH_CACHE_SECONDS = env_int("HEALTH_CACHE_SECONDS", 5)
HEALTH_TOKEN = env_str("HEALTH_TOKEN", "")

# /metrics (Prometheus, common/metrics.py) answers only a request carrying this token as
# "Authorization: Bearer <token>"; empty: /metrics does not exist (404). Counters from every
# process add up only with PROMETHEUS_MULTIPROC_DIR set (prometheus_client reads it itself).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
if _metrics_dir := env_str("PROMETHEUS_MULTIPROC_DIR", ""):
    # prometheus_client writes there as soon as a metric is declared, folder or not.
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)
PROMETHEUS_EXPORT_MIGRATIONS = False  # django-prometheus: no query at start-up

# Backups (common/backups.py): `make backup` and the nightly task write a folder per backup
# under BACKUP_DIR and keep the newest BACKUP_KEEP. pg_dump and pg_restore connect as the
# tables' owner (DATABASE_OWNER_URL) when it is set, else as the application.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")

DEFAULT_CURRENCY = "CNY"
CURRENCIES = ("CNY",)

# Hours a seller has to accept a new order before it expires and its quantity is released.
ORDER_ACCEPT_HOURS = env_int("ORDER_ACCEPT_HOURS", 24)

# The public price board shows a product's prices for a day only from this many trades
# (or once the day is closed), so nobody reads one trader's price and weight off it.
PRICE_BOARD_MIN_TRADES = env_int("PRICE_BOARD_MIN_TRADES", 3)

# Largest listing and co-operative licence photos accepted, in bytes; both are re-encoded.
LISTING_PHOTO_MAX_BYTES = env_int("LISTING_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
COOPERATIVE_LICENCE_MAX_BYTES = env_int("COOPERATIVE_LICENCE_MAX_BYTES", 5 * 1024 * 1024)

# Request bodies. The ASGI app answers 413 to a body larger than MAX_REQUEST_BODY_BYTES before
# Django reads any of it (common/request_limits.py); the few views that take a file allow more
# with @request_body_limit (a listing or delivery photo, a logger's batch of readings). 2 MiB
# holds the largest form or JSON the pages and API take (a farm boundary of 500,000 characters,
# percent-encoded).
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 2 * 1024 * 1024)
# Django's own limits on what it parses: form fields (files aside) at most the body cap; an
# upload over 1 MiB is spooled to a temporary file rather than held in memory; no form has 400
# fields (a shipment's 30 lot rows, an admin page of 100 rows) or takes more than 10 files.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 400
DATA_UPLOAD_MAX_NUMBER_FILES = 10


# The business's own rules (markets, cold chain, delivery, sign-up codes, SMS) live in their
# own module, read from the environment the same way.
from .business_settings import *  # noqa: E402, F403

# Production hardening; `manage.py check --deploy` is clean with DJANGO_DEBUG=false.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe over plain HTTP inside the network; a redirect would read as down.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Readable text by default; LOG_FORMAT=json gives one JSON object a line for a log collector.
# Either way each line carries the id of the request (or task) it belongs to (common/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "common.logs.TextFormatter"},
        "json": {"()": "common.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

SILENCED_SYSTEM_CHECKS = [
    # AxesMiddleware only swaps a locked-out answer for its own page, and its async path
    # (this app runs under ASGI) passes the wrong arguments to the lockout handler. The
    # sign-in page and the token endpoint answer a lock-out themselves (a form error with
    # status 429, a 429 JSON detail).
    "axes.W002",
    # Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial
    # references. Untrusted geometry enters only as GeoJSON, whose "crs" member is
    # refused before GDAL parses it (common/geometry.py), and WKT/WKB input is not taken.
    "gis.W001",
]
