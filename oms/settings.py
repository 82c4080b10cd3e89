"""One environment-driven settings module.

With no environment at all this runs on the embedded default: SQLite in the project folder and
Celery in eager mode (tasks run inline, on commit). Set DATABASE_URL and REDIS_URL to run on
PostgreSQL with a real broker. Every variable is listed in README.md ("Configuration").
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.templatetags.static import static

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
# A persistent connection is checked before its first query of each request or task: after a
# database restart the first request then reconnects instead of failing on a dead socket.
DATABASES["default"].setdefault(
    "CONN_HEALTH_CHECKS", env.bool("DB_CONN_HEALTH_CHECKS", default=True)
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that skips its SELECT 1 when the socket shows the
    # session idle and the server silent (oms/core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "oms.core.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: a single-process demo. IMMEDIATE transactions make SQLite take its
    # write lock at BEGIN, so two requests never both read-then-write and deadlock.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

EMBEDDED = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if not EMBEDDED:
    # Django binds values on the client (its cursors never prepare). The few hot statements
    # bound by the server (oms.core.queries.bound_cursor) are prepared by psycopg on their
    # fifth run on a connection, so PostgreSQL stops parsing and planning them: Django leaves
    # psycopg's threshold off unless asked (ADR 0022). Behind a pooler in transaction mode that
    # does not keep prepared statements per client, set DB_PREPARE_THRESHOLD=0.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=5) or None
    )

# Refused outside DEBUG (checked below, and in docs/security.md).
KNOWN_PLACEHOLDER_SECRET_KEYS = frozenset(
    {
        "change-me-in-production",
        "change-me",
        "changeme",
        "secret",
        "build",
        "oms-insecure-development-key-never-use-in-production",
    }
)
KNOWN_INSECURE_DATABASE_PASSWORDS = frozenset({"", "oms", "postgres", "password"})

# The embedded default is a local demo: debug on, a fixed development key. Anything else must
# set DJANGO_SECRET_KEY (checked below) and opts into debug explicitly.
DEBUG = env.bool("DJANGO_DEBUG", default=EMBEDDED)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not (EMBEDDED or DEBUG or env.bool("OMS_ALLOW_INSECURE_KEY", default=False)):
        raise environ.ImproperlyConfigured("Set DJANGO_SECRET_KEY when running on PostgreSQL.")
    SECRET_KEY = "oms-insecure-development-key-never-use-in-production"  # noqa: S105
# Outside DEBUG a placeholder or a short key is refused (docs/security.md): docker-compose used
# to fall back to one, and Django's own check wants 50 characters, 5 of them distinct.
elif not DEBUG and (
    SECRET_KEY.strip().lower() in KNOWN_PLACEHOLDER_SECRET_KEYS
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
):
    raise environ.ImproperlyConfigured(
        "DJANGO_SECRET_KEY is a known placeholder or too short (50 characters at least, "
        "5 distinct): generate one with `python -c 'import secrets; "
        "print(secrets.token_urlsafe(64))'`."
    )

# Outside DEBUG a database password everyone knows is refused (docker-compose's old `oms`, the
# image defaults), unless explicitly allowed: `make test` and the local tools run on a
# password-less PostgreSQL on 127.0.0.1, so the override follows OMS_ALLOW_INSECURE_KEY.
# A Unix-socket URL (no host) authenticates by peer, not by password, and is not checked.
_db = DATABASES["default"]
if (
    not DEBUG
    and not EMBEDDED
    and _db.get("HOST") not in (None, "")
    and not str(_db.get("HOST")).startswith("/")
    and str(_db.get("PASSWORD") or "").lower() in KNOWN_INSECURE_DATABASE_PASSWORDS
    and not env.bool(
        "OMS_ALLOW_INSECURE_DATABASE_PASSWORD",
        default=env.bool("OMS_ALLOW_INSECURE_KEY", default=False),
    )
):
    raise environ.ImproperlyConfigured(
        "DATABASE_URL has an empty or well-known password (oms, postgres, password...): set a "
        "real one, or OMS_ALLOW_INSECURE_DATABASE_PASSWORD=1 for a local test database."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Deployment profile (docs/security.md) --------------------------------------------------
# `production` turns on HTTPS-only: SSL redirect, HSTS, secure cookies. It is the default when
# debug is off on a real database (docker-compose, gunicorn); `development` is the default for
# the embedded demo, and `make test` sets it (the test client and live server speak plain http).
OMS_PROFILE = env.str("OMS_PROFILE", default="development" if (DEBUG or EMBEDDED) else "production")
if OMS_PROFILE not in ("production", "development"):
    raise environ.ImproperlyConfigured("OMS_PROFILE is `production` or `development`.")
PRODUCTION = OMS_PROFILE == "production"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
# Probes and the Prometheus scraper call the container directly over http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS-terminating proxy the request reaches gunicorn as http: name the header the proxy
# sets (and strips from clients), e.g. `X-Forwarded-Proto: https`, or the SSL redirect loops.
_proxy_ssl_header = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    _header, _, _value = _proxy_ssl_header.partition(":")
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _header.strip().upper().replace("-", "_"),
        _value.strip() or "https",
    )
# HSTS preload puts the domain on browser lists that take months to leave: an operator's choice
# (DJANGO_SECURE_HSTS_PRELOAD), so Django's reminder about it is not a deployment error.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The admin's, django-axes' and Django's deploy "must be in MIDDLEWARE" (CSRF): those classes
# are in OMS_BROWSER_MIDDLEWARE, which oms.core.browser checks instead (oms.E010-E012, and
# oms.W010 for the CSRF cookie, Django's security.W016, which looks in MIDDLEWARE only).
SILENCED_SYSTEM_CHECKS += ["admin.E408", "admin.E409", "admin.E410", "axes.W002", "security.W003"]

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "simple_history",
    "django_htmx",
    "csp",
    "axes",
    "oms.core",
    "oms.events",
    "oms.api",
    "ops",
    "inventory",
    "orders",
    "fulfillment",
    "returns",
    "integrations",
    "webhooks",
    "channels",
    "stores",
    "erp",
    "migration",
    "demo",
    "oms.observability",
]

MIDDLEWARE = [
    "oms.observability.middleware.PrometheusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # django-csp's, with the plain policy's header built once (oms/core/csp.py).
    "oms.core.csp.CSPMiddleware",
    "oms.core.csp.AreaPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oms.core.correlation.CorrelationIdMiddleware",
    # A NUL (%00) in a path or query is a 400 before any view or query (oms/api/middleware.py).
    "oms.api.middleware.RefuseNulInUrlMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Runs OMS_BROWSER_MIDDLEWARE here, except for machine paths (oms/core/browser.py).
    "oms.core.browser.BrowserMiddleware",
]

# The browser-only middleware, in order: for the admin, the store screens and every other page
# a person opens; not for OMS_MACHINE_PATHS (API keys and platform webhooks, no session),
# except the OMS_BROWSER_PATHS_UNDER_MACHINE, whose views authenticate by session or are pages.
# Everything in MIDDLEWARE above runs for every path (docs/performance.md, docs/security.md).
OMS_BROWSER_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the readable page (oms/core/lockout.py).
    "axes.middleware.AxesMiddleware",
]
OMS_MACHINE_PATHS = ("/api/", "/webhooks/")
OMS_BROWSER_PATHS_UNDER_MACHINE = ("/api/docs/", "/api/v1/webhook-subscriptions/")

# django-axes first: it refuses a locked-out (username, IP) before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Content Security Policy (django-csp; docs/security.md). Strict everywhere: scripts and styles
# from this origin only, no inline script, no eval. oms/core/csp.py loosens it for the admin
# (unfold's Alpine.js needs eval; its templates carry style attributes) and the API docs page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Admin messages live in the session, not a cookie: the admin shows a new API key once that way.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "oms.urls"
# People sign in to the admin (the ops console); the store screens pass their own ?next=.
LOGIN_URL = "/admin/login/"
LOGIN_REDIRECT_URL = "/admin/"
WSGI_APPLICATION = "oms.wsgi.application"

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
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Debug (the embedded demo) serves files straight from the app folders, no collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Request bodies: an order with a few hundred lines is well under 1 MiB; anything bigger is
# refused with 413 payload_too_large before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("OMS_MAX_BODY_BYTES", default=1024 * 1024)

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
# Redis: kombu's transport with one client per channel, not one per message (oms/core/broker.py).
CELERY_BROKER_TRANSPORT = (
    "oms.core.broker:Transport" if CELERY_BROKER_URL.startswith("redis://") else None
)
# No broker configured: run tasks inline (eager). on_commit still defers them to after commit.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")

# Work whose task message was lost (a worker killed, the broker restarted) is sent again by the
# sweeper (fulfillment/services/sweeper.py, every 10 s) once it is this old: orchestration and
# release of an order. docs/adr/0009-sweeper-grace.md.
OMS_SWEEP_GRACE_SECONDS = env.int("OMS_SWEEP_GRACE_SECONDS", default=15)

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oms.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oms.api.permissions.IsApiClient"],
    "DEFAULT_PARSER_CLASSES": ["oms.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's negotiation, its answer kept per Accept header (oms/api/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "oms.api.negotiation.RememberingContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "oms.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "oms.api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "oms API",
    "DESCRIPTION": (
        "Order capture and orchestration API. Authenticate with `Authorization: Bearer <key>`; "
        "each key belongs to one sales channel and sees only that channel's orders. Write calls "
        "accept an `Idempotency-Key` header. Errors share one shape: `code`, `detail`, `errors`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents every status it can answer; links for stateful tests
    # (oms/api/schema.py). The enum hook is drf-spectacular's default, kept.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oms.api.schema.postprocess_schema",
    ],
    # The API's strict path converters (oms/api/converters.py), as they match.
    "PATH_CONVERTER_OVERRIDES": {
        "ref": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
        "id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    },
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "LineStatusEnum": "orders.models.LineStatus",
        "HoldStatusEnum": "orders.models.HoldStatus",
        "PaymentStatusEnum": "orders.models.PaymentStatus",
        "ReturnConditionEnum": "returns.models.Condition",
        "RefundKindEnum": "returns.models.RefundKind",
        "HoldKindEnum": "orders.models.HoldKind",
    },
}

# Idempotency keys are kept this long (IETF draft: at least 24 h; we promise 7 days).
# The API's principal (oms/api/clients.py): the kernel reaches the model by this name, as Django
# reaches AUTH_USER_MODEL, because it imports no app.
OMS_API_CLIENT_MODEL = "orders.ApiClient"
OMS_IDEMPOTENCY_KEY_TTL = timedelta(days=env.int("OMS_IDEMPOTENCY_KEY_TTL_DAYS", default=7))
# A request that claimed a key but died (process killed) frees it after this long.
OMS_IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=60)

# Availability lists pickup stores within this distance of the customer's postal code.
OMS_PICKUP_RADIUS_MILES = env.float("OMS_PICKUP_RADIUS_MILES", default=50.0)

# A pickup order ready at the store waits this long before it expires and its stock returns.
OMS_PICKUP_HOLD_DAYS = env.int("OMS_PICKUP_HOLD_DAYS", default=5)
# The event log keeps this many whole months before the current one; older months may be
# archived (manage.py archive_events, docs/adr/0016-event-log-archive.md).
OMS_EVENT_RETENTION_MONTHS = env.int("OMS_EVENT_RETENTION_MONTHS", default=24)
# An open order whose payment failed is cancelled by the sweeper after this many hours (0: never).
OMS_UNPAID_ORDER_CANCEL_HOURS = env.int("OMS_UNPAID_ORDER_CANCEL_HOURS", default=48)

# Carrier tracking webhooks are verified with the provider's signing secret. Without a secret a
# format's webhooks are refused, unless unsigned ones are allowed (the embedded demo does).
OMS_CARRIER_WEBHOOK_SECRETS = {
    "easypost": env("OMS_EASYPOST_WEBHOOK_SECRET", default=""),
    "shippo": env("OMS_SHIPPO_WEBHOOK_SECRET", default=""),
    "aftership": env("OMS_AFTERSHIP_WEBHOOK_SECRET", default=""),
    "ups_track_alert": env("OMS_UPS_WEBHOOK_CREDENTIAL", default=""),
}
# Return labels (returns/services/labels.py): EasyPost when a key is set, else the simulated
# carrier.
OMS_EASYPOST_API_KEY = env("OMS_EASYPOST_API_KEY", default="")
OMS_EASYPOST_API_URL = env("OMS_EASYPOST_API_URL", default="https://api.easypost.com/v2")
OMS_CARRIER_WEBHOOKS_ALLOW_UNSIGNED = env.bool(
    "OMS_CARRIER_WEBHOOKS_ALLOW_UNSIGNED", default=EMBEDDED
)

# X12 file connector: 940s are written to <outbox>/<node code>/, 945s are read from the inbox
# (then moved to its processed/ or failed/ folder).
OMS_X12_OUTBOX_DIR = Path(
    env("OMS_X12_OUTBOX_DIR", default=str(BASE_DIR / "var" / "x12" / "outbox"))
)
OMS_X12_INBOX_DIR = Path(env("OMS_X12_INBOX_DIR", default=str(BASE_DIR / "var" / "x12" / "inbox")))

# Finance exports (ops/finance, docs/finance.md): where their files are written, and how long a
# download link stays valid.
OMS_EXPORT_DIR = Path(env("OMS_EXPORT_DIR", default=str(BASE_DIR / "var" / "exports")))
OMS_EXPORT_LINK_HOURS = env.int("OMS_EXPORT_LINK_HOURS", default=24)

# Inbound messages we own the retry of (945 files): attempts before dead + an exception case,
# and the first retry delay (x4 per attempt). docs/inbound.md.
OMS_INBOUND_MAX_ATTEMPTS = env.int("OMS_INBOUND_MAX_ATTEMPTS", default=6)
OMS_INBOUND_RETRY_BASE_SECONDS = env.int("OMS_INBOUND_RETRY_BASE_SECONDS", default=60)

# Webhooks out (docs/webhooks.md). http:// and internal addresses are for local testing only.
OMS_WEBHOOKS_ALLOW_HTTP = env.bool("OMS_WEBHOOKS_ALLOW_HTTP", default=EMBEDDED)
OMS_WEBHOOKS_ALLOW_PRIVATE = env.bool("OMS_WEBHOOKS_ALLOW_PRIVATE", default=False)
# A claimed delivery whose sender died is sent again after this many seconds.
OMS_WEBHOOKS_SEND_LEASE_SECONDS = env.int("OMS_WEBHOOKS_SEND_LEASE_SECONDS", default=60)
OMS_WEBHOOKS_MAX_ATTEMPTS = env.int("OMS_WEBHOOKS_MAX_ATTEMPTS", default=20)

# Sales channels (docs/channels.md): calls back to a platform are tried this many times (backoff
# 30 s x 2^n) before they are dead with a case. Hosts listed here (host or host:port) skip the
# SSRF address rules, for development against a local fake platform only.
OMS_CHANNELS_MAX_ATTEMPTS = env.int("OMS_CHANNELS_MAX_ATTEMPTS", default=10)
OMS_CHANNELS_ALLOWED_HOSTS = env.list("OMS_CHANNELS_ALLOWED_HOSTS", default=[])

# ERP connector (docs/finance.md, "ERP connector"): an invoice per shipment, a credit memo per
# refund. The endpoint is an https:// URL (POST, through the same SSRF guard as the channels),
# or file:DIR (one file per document; a relative DIR is under the checkout), or empty (off).
# The embedded demo drops JSON files in var/erp/outbox.
OMS_ERP_ENDPOINT = env("OMS_ERP_ENDPOINT", default="file:var/erp/outbox" if EMBEDDED else "")
OMS_ERP_FORMAT = env("OMS_ERP_FORMAT", default="json")  # json or x12 (an 810)
if OMS_ERP_FORMAT not in ("json", "x12"):
    raise environ.ImproperlyConfigured("OMS_ERP_FORMAT must be json or x12.")
OMS_ERP_TOKEN = env("OMS_ERP_TOKEN", default="")
OMS_ERP_MAX_ATTEMPTS = env.int("OMS_ERP_MAX_ATTEMPTS", default=10)
OMS_ERP_X12_SENDER_ID = env("OMS_ERP_X12_SENDER_ID", default="OMS")
OMS_ERP_X12_RECEIVER_ID = env("OMS_ERP_X12_RECEIVER_ID", default="ERP")

# Webhook signing secrets are encrypted at rest with these Fernet keys (oms/core/fields.py):
# comma-separated, the first encrypts, all decrypt (add a new key in front to rotate it). Debug
# and the fixed development key derive one from SECRET_KEY; anything else must set it.
OMS_FIELD_ENCRYPTION_KEYS = env.list("OMS_FIELD_ENCRYPTION_KEY", default=[])
if not OMS_FIELD_ENCRYPTION_KEYS:
    if not (DEBUG or EMBEDDED or env.bool("OMS_ALLOW_INSECURE_KEY", default=False)):
        raise environ.ImproperlyConfigured(
            "Set OMS_FIELD_ENCRYPTION_KEY (a Fernet key) when running outside debug."
        )
    import base64
    import hashlib

    OMS_FIELD_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(
            hashlib.sha256(b"oms-field-encryption:" + SECRET_KEY.encode()).digest()
        ).decode()
    ]
# After a rotation, deliveries carry the old and the new secret's signatures this long.
OMS_WEBHOOK_SECRET_OVERLAP = timedelta(
    hours=env.float("OMS_WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
)

# --- Brute force and abuse (docs/security.md) -------------------------------------------
# Reverse proxies in front of the app that append to X-Forwarded-For. 0: the client address is
# REMOTE_ADDR and X-Forwarded-For is ignored (a caller could write anything there).
OMS_NUM_PROXIES = env.int("OMS_NUM_PROXIES", default=0)

# Sign-in lockout (django-axes) for the admin and the store screens: this many wrong passwords
# for one (username, IP) combination lock that combination out for the cool-off. Ops reset it
# in the admin (Axes → Access attempts: delete) or with `manage.py axes_reset_username <name>`.
AXES_FAILURE_LIMIT = env.int("OMS_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("OMS_LOGIN_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "oms.core.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_IPWARE_PROXY_COUNT = OMS_NUM_PROXIES or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if OMS_NUM_PROXIES else ("REMOTE_ADDR",)
)

# Pickup codes (8 digits): this many wrong codes for one fulfillment order lock its hand-over
# until a store supervisor or ops unlocks it (fulfillment/services/feedback.py).
OMS_PICKUP_CODE_MAX_ATTEMPTS = env.int("OMS_PICKUP_CODE_MAX_ATTEMPTS", default=5)

# DRF throttling per API client (request.auth) and, for anonymous callers, per IP; counters
# live in the cache below. Rates as DRF writes them: "<n>/<sec|min|hour|day>".
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["oms.api.throttling.ApiClientRateThrottle"]
OMS_API_RATE = env("OMS_API_RATE", default="6000/min")
OMS_API_ANON_RATE = env("OMS_API_ANON_RATE", default="1200/min")
REST_FRAMEWORK["NUM_PROXIES"] = OMS_NUM_PROXIES

# Django's cache (throttle counters): Redis when REDIS_URL is set, so every process counts
# together; memory of the one process otherwise (the embedded demo).
CACHES = {
    "default": (
        {
            # Django's RedisCache, with one redis-py client per pool (oms/core/cache.py).
            "BACKEND": "oms.core.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            # A paused or unreachable Redis must not hang requests: give up within a second
            # (the rate throttle then lets the call through: oms/api/throttling.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Admin (django-unfold) ----------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "oms",
    "SITE_HEADER": "oms operations",
    "SITE_SYMBOL": "local_shipping",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "ops.kpis.dashboard.dashboard_callback",
    # The console's own styles: the order page, visible input boxes, one-line list columns.
    "STYLES": [lambda request: static("oms/console.css")],
}

# --- Observability (docs/observability.md) ------------------------------------------------
# /metrics answers clients from these addresses/networks, or with this bearer token.
OMS_METRICS_ALLOWED_IPS = env.list("OMS_METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
OMS_METRICS_BEARER_TOKEN = env("OMS_METRICS_BEARER_TOKEN", default="")
# Outside debug the allow-list alone is not enough: behind a proxy on the same host every client
# arrives from 127.0.0.1. Then /metrics needs the bearer token (and an allowed address too).
OMS_METRICS_REQUIRE_TOKEN = env.bool("OMS_METRICS_REQUIRE_TOKEN", default=not DEBUG)
OMS_READYZ_BROKER_TIMEOUT = env.float("OMS_READYZ_BROKER_TIMEOUT", default=1.5)

# --- Logging: JSON lines with the correlation id of the request or task -------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"correlation": {"()": "oms.core.correlation.CorrelationIdLogFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {"asctime": "ts", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["correlation"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Cutover from a legacy OMS (docs/migration.md, "Cutover") ----------------------------------
# Orders oms does not own are handed to the legacy system in its own format: the orders mapping
# below run backwards, POSTed to OMS_LEGACY_HANDOFF_URL when set, else written as one file per
# order into OMS_LEGACY_HANDOFF_DIR (relative paths are under the checkout).
OMS_LEGACY_HANDOFF_MAPPING = env("OMS_LEGACY_HANDOFF_MAPPING", default="generic_orders_csv")
OMS_LEGACY_HANDOFF_URL = env("OMS_LEGACY_HANDOFF_URL", default="")
OMS_LEGACY_HANDOFF_DIR = Path(
    env("OMS_LEGACY_HANDOFF_DIR", default=str(BASE_DIR / "var" / "legacy_handoff"))
)
OMS_LEGACY_HANDOFF_MAX_ATTEMPTS = env.int("OMS_LEGACY_HANDOFF_MAX_ATTEMPTS", default=5)
