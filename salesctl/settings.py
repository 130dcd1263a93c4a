"""Settings for salesctl, all read from the environment (see .env.example).

One module for every environment: development (`make run` sets DEBUG=1), tests (pytest sets
nothing special beyond what conftest.py does) and production (`DEBUG` off, secure cookies,
HSTS). Postgres is the only database; Redis is the Celery broker, the cache and the session
store.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="insecure-dev-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "apps.core",
    "apps.accounts",
    "apps.api",
    "apps.notifications",
    "apps.approvals",
    "apps.customers",
    "apps.leads",
    "apps.opportunities",
    "apps.visits",
    "apps.contracts",
    "apps.receivables",
    "apps.goals",
    "apps.incentives",
    "apps.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Records who changed what (user, URL) in the pghistory context of every tracked write.
    "pghistory.middleware.HistoryMiddleware",
    # Report and export reads go to the replica when one is configured (apps.core.replica).
    "apps.core.replica.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "salesctl.urls"
WSGI_APPLICATION = "salesctl.wsgi.application"
ASGI_APPLICATION = "salesctl.asgi.application"

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
                "apps.core.context_processors.shell",
            ],
        },
    },
]

# --- Database: Postgres only -------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/salesctl"),
}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# No JIT compilation: Postgres compiles any query whose *estimated* cost is high — a list or
# an aggregate over a million rows, even one an index answers in milliseconds — and the
# compile alone took 75 ms for a small plan here (EXPLAIN ANALYZE, 11 functions, no
# inlining), more than the whole list query. Set per connection, so that it holds whatever
# the server's postgresql.conf says.
# Random reads cost about what sequential ones do on SSD storage with the working set in
# memory (the 4.0 of Postgres' default models spinning disks): with it the planner preferred
# a parallel sequential scan of 600k allocations to 2,600 index probes for a rep's collected
# amount of the last days (47 ms instead of 9 ms on the large preset; the rep's home page
# 91 → 66 ms, a supervisor's 116 → 72 ms). DATABASE_RANDOM_PAGE_COST for other storage.
PG_OPTIONS = f"-c jit=off -c random_page_cost={env.float('DATABASE_RANDOM_PAGE_COST', default=1.1)}"
DATABASES["default"].setdefault("OPTIONS", {})["options"] = PG_OPTIONS
# A read replica for reports and exports (issue 10 "Scaling out"; apps.core.replica): set
# DATABASE_REPLICA_URL to a streaming replica of DATABASE_URL. A user who has just written reads
# the primary for REPLICA_PIN_SECONDS (read-your-writes).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    DATABASES["replica"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {})["options"] = PG_OPTIONS
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
REPLICA_READS = env.bool("REPLICA_READS", default=bool(DATABASE_REPLICA_URL))
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=15)
DATABASE_ROUTERS = ["apps.core.replica.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, sessions, Celery -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="salesctl"),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}
# Sessions live in Redis with a database copy, so web nodes stay stateless.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="default")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
# Exactly one beat sends the schedule, whatever number is started: the others wait on a lock in
# Redis (apps.core.beat). BEAT_LOCK_TIMEOUT: how long a dead beat's lock outlives it.
CELERY_BEAT_SCHEDULER = "apps.core.beat:LockedDatabaseScheduler"
BEAT_LOCK_TIMEOUT = env.int("BEAT_LOCK_TIMEOUT", default=60)
# Queues by kind, so that workers scale per queue on several hosts (README "Running on several
# machines"): `default` for the domain jobs, `reports` for report mails and heavy rollups,
# `webhooks` for deliveries, `imports` for uploads. A worker started without -Q consumes them
# all (the queues declared here), `-Q webhooks` only that one.
CELERY_QUEUE_NAMES = ("default", "reports", "webhooks", "imports")
CELERY_TASK_QUEUES = tuple(Queue(name, routing_key=name) for name in CELERY_QUEUE_NAMES)
CELERY_TASK_ROUTES = {
    "apps.webhooks.tasks.*": {"queue": "webhooks"},
    "apps.leads.tasks.purge_import_uploads": {"queue": "imports"},
    "apps.goals.tasks.send_weekly_reports": {"queue": "reports"},
    "apps.goals.tasks.send_monthly_reports": {"queue": "reports"},
    "apps.goals.tasks.refresh_actuals": {"queue": "reports"},
    "apps.goals.tasks.snapshot_attainment": {"queue": "reports"},
    "apps.visits.tasks_reports.*": {"queue": "reports"},
    "apps.incentives.tasks.compute_scorecards": {"queue": "reports"},
    "apps.incentives.tasks.compute_commissions": {"queue": "reports"},
}
# Never eager: jobs run in a real worker. Unit tests of a task body call the function directly.
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE = {
    # Goals (目标): close the ended periods, roll the gaps over, open the reviews.
    "goals-close-periods": {
        "task": "apps.goals.tasks.close_periods",
        "schedule": crontab(hour=0, minute=30),
    },
    # After the close, before the snapshot that reads it: the monthly rollup of the actuals.
    "goals-refresh-actuals": {
        "task": "apps.goals.tasks.refresh_actuals",
        "schedule": crontab(hour=0, minute=45),
    },
    # After the close, so that a period closed tonight keeps its final figure.
    "goals-snapshot-attainment": {
        "task": "apps.goals.tasks.snapshot_attainment",
        "schedule": crontab(hour=1, minute=0),
    },
    # Incentives (考核与激励): after the goals close and the receivables run they read.
    "incentives-finalize-contests": {
        "task": "apps.incentives.tasks.finalize_contests",
        "schedule": crontab(hour=0, minute=50),
    },
    "incentives-compute-scorecards": {
        "task": "apps.incentives.tasks.compute_scorecards",
        "schedule": crontab(hour=2, minute=0),
    },
    "incentives-compute-commissions": {
        "task": "apps.incentives.tasks.compute_commissions",
        "schedule": crontab(hour=2, minute=15),
    },
    "goals-send-weekly-reports": {
        "task": "apps.goals.tasks.send_weekly_reports",
        "schedule": crontab(hour=7, minute=0, day_of_week=1),
    },
    "goals-send-monthly-reports": {
        "task": "apps.goals.tasks.send_monthly_reports",
        "schedule": crontab(hour=7, minute=0, day_of_month=1),
    },
    # Webhooks: queue the due deliveries whose message was lost (a worker restart).
    "webhooks-sweep": {
        "task": "apps.webhooks.tasks.sweep",
        "schedule": 60.0,
    },
    "approvals-send-reminders": {
        "task": "apps.approvals.tasks.send_reminders",
        "schedule": 900.0,
    },
    "approvals-escalate-overdue": {
        "task": "apps.approvals.tasks.escalate_overdue",
        "schedule": 900.0,
    },
    "purge-idempotency-keys": {
        "task": "apps.api.tasks.purge_idempotency_keys",
        "schedule": 3600.0,
    },
    # Lets /healthz and the admin home tell whether any worker is taking jobs. Expires before
    # the next run so that a down worker does not find a backlog of stale heartbeats.
    "leads-flag-sla-breaches": {
        "task": "apps.leads.tasks.flag_sla_breaches",
        "schedule": 300.0,
    },
    # Uploads of abandoned import wizards (LEAD_IMPORT_UPLOAD_TTL_HOURS, default 24).
    "leads-purge-import-uploads": {
        "task": "apps.leads.tasks.purge_import_uploads",
        "schedule": 3600.0,
    },
    "customers-release-pool-due": {
        "task": "apps.customers.tasks.release_pool_due",
        "schedule": crontab(hour=2, minute=30),
    },
    "visits-mark-missed-plans": {
        "task": "apps.visits.tasks.mark_missed_plans",
        "schedule": crontab(hour=0, minute=30),
    },
    # Customer tier (A/B/C/D) from the last 12 months' signed contracts.
    "contracts-customer-tier-recompute": {
        "task": "apps.contracts.tasks.customer_tier_recompute",
        "schedule": crontab(hour=2, minute=45),
    },
    # Receivables (应收日终): due/overdue, penalty interest, escalation, credit hold, promises.
    "receivables-daily-run": {
        "task": "apps.receivables.tasks.daily_run",
        "schedule": crontab(hour=1, minute=0),
    },
    # Stuck deals (停滞商机): owner once, then the supervisor (OPPORTUNITY_STUCK_*).
    "opportunities-flag-stuck": {
        "task": "apps.opportunities.tasks.flag_stuck",
        "schedule": crontab(hour=3, minute=0),
    },
    # Monday 00:10 business time: draft every rep's weekly sales report of the week before.
    "visits-draft-weekly-reports": {
        "task": "apps.visits.tasks_reports.draft_weekly_reports",
        "schedule": crontab(hour=0, minute=10, day_of_week=1),
    },
    "record-worker-heartbeat": {
        "task": "apps.core.tasks.record_worker_heartbeat",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}

# --- Auth ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time -------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# Absolute base URL for links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# One company currency (DESIGN.md "Money").
CURRENCY = env.str("CURRENCY", default="CNY")

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"

# --- E-mail (console by default) ---------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="salesctl <noreply@localhost>")

# --- Security (production mode when DEBUG is off) ---------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API (see API.md) --------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "apps.api.filters.UpdatedSinceFilter",
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env.str("API_RATE_LIMIT", default="1200/min")},
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=365)
# Incremental sync (apps.api.filters): a list asked with `updated_since` serves a change once it
# is this many seconds older than now and than the start of every transaction still open
# (clock skew between hosts, a replica's lag, a timestamp taken just before its transaction began).
API_SYNC_SETTLE_SECONDS = env.float("API_SYNC_SETTLE_SECONDS", default=5.0)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)
# Webhooks: attempts before a delivery fails, the first retry's delay (doubling after each
# failure), each attempt's timeout, and the Celery queue of the deliveries (None: the default).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_QUEUE = env.str("WEBHOOK_QUEUE", default="") or None

SPECTACULAR_SETTINGS = {
    "TITLE": "salesctl API",
    "DESCRIPTION": "REST API of salesctl, the sales process control CRM. See API.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Choice sets that share a field name with another ("status", "kind") are named here.
    "ENUM_NAME_OVERRIDES": {
        "ApprovalStatusEnum": "apps.approvals.choices.RequestStatus",
        "ApprovalTaskStatusEnum": "apps.approvals.choices.TaskStatus",
        "NotificationKindEnum": "apps.notifications.choices.NotificationKind",
        "TargetStatusEnum": "apps.goals.choices.TargetStatus",
        "ReviewStatusEnum": "apps.goals.choices.ReviewStatus",
    },
}

# --- Leads --------------------------------------------------------------------------------
# First-response time (hours) per lead grade (DESIGN.md "leads": response SLA per grade).
LEAD_SLA_HOURS = env.json("LEAD_SLA_HOURS", default={"A": 1, "B": 4, "C": 24, "D": 72})
# Lowest score of each grade; below the last one is grade D.
LEAD_GRADE_THRESHOLDS = env.json("LEAD_GRADE_THRESHOLDS", default={"A": 80, "B": 60, "C": 40})
# Rows per batch of the rescoring job (one bulk UPDATE per batch).
LEAD_RESCORE_BATCH_SIZE = env.int("LEAD_RESCORE_BATCH_SIZE", default=2000)
# Public web form: submissions per client IP ("count/period", period s/m/h/d, e.g. "5/10m"),
# and the request.META key of the client address (behind a proxy e.g. "HTTP_X_REAL_IP").
LEAD_WEBFORM_RATE = env.str("LEAD_WEBFORM_RATE", default="5/10m")
LEAD_WEBFORM_IP_HEADER = env.str("LEAD_WEBFORM_IP_HEADER", default="REMOTE_ADDR")
# Import wizard: rows and bytes of one file (issue 4: 10,000 rows in one file).
LEAD_IMPORT_MAX_ROWS = env.int("LEAD_IMPORT_MAX_ROWS", default=10_000)
LEAD_IMPORT_MAX_BYTES = env.int("LEAD_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "LeadStatusEnum": "apps.leads.choices.LeadStatus",
        "CompanySizeEnum": "apps.customers.choices.CompanySize",
    }
)

# --- History ----------------------------------------------------------------------------
PGHISTORY_DEFAULT_TRACKERS = None  # every tracked model states its trackers (apps.core.history)

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Customers ----------------------------------------------------------------------------
# Weight of each credit investigation factor (each scored 0–100); the weighted total is
# normalised by the sum of the weights. The rating thresholds, default limits and terms are
# the admin table CreditRatingRule (one source of truth, editable without a deploy).
CUSTOMER_CREDIT_WEIGHTS = env.json(
    "CUSTOMER_CREDIT_WEIGHTS",
    default={
        "registered_capital": 15,
        "years_in_business": 10,
        "payment_record": 30,
        "legal_disputes": 15,
        "financial_standing": 25,
        "references": 5,
    },
)
# Public pool (公海): days without a follow-up after which a customer of each tier is released.
CUSTOMER_POOL_DAYS = env.json("CUSTOMER_POOL_DAYS", default={"A": 90, "B": 60, "C": 30, "D": 30})
# The owner is warned this many days before the release.
CUSTOMER_POOL_WARNING_DAYS = env.int("CUSTOMER_POOL_WARNING_DAYS", default=7)
# Most customers a rep may hold that were claimed from the pool.
CUSTOMER_POOL_CLAIM_CAP = env.int("CUSTOMER_POOL_CLAIM_CAP", default=50)
# Days during which a rep cannot re-claim a customer released from them.
CUSTOMER_POOL_COOLOFF_DAYS = env.int("CUSTOMER_POOL_COOLOFF_DAYS", default=30)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "CustomerStatusEnum": "apps.customers.choices.CustomerStatus",
        # Draft → pending approval → approved: development applications, credit limit
        # requests, quotes, contract amendments and write-offs share this one enum.
        "ApplicationStatusEnum": "apps.customers.choices.ApplicationStatus",
        "InvestigationStatusEnum": "apps.customers.choices.InvestigationStatus",
        "CreditRatingEnum": "apps.customers.choices.CreditRating",
    }
)

# --- Visits and the pipeline ----------------------------------------------------------------
# A deal is stuck (停滞商机) when it stays in a stage longer than the stage's expected days ×
# this factor (issue 5: 1.5); the nightly job alerts the owner once, then the supervisor.
OPPORTUNITY_STUCK_FACTOR = env.float("OPPORTUNITY_STUCK_FACTOR", default=1.5)
# Days after the owner's stuck alert before the supervisor is alerted too.
OPPORTUNITY_STUCK_ESCALATE_DAYS = env.int("OPPORTUNITY_STUCK_ESCALATE_DAYS", default=3)
# "Customers not visited in N days" (客户被拜访统计) default N.
VISIT_NOT_VISITED_DAYS = env.int("VISIT_NOT_VISITED_DAYS", default=30)
# The weekly sales report (销售报告) of a week is due this many hours after the Monday job
# drafts it (Monday 00:00 business time + 36 h = Tuesday noon).
VISIT_WEEKLY_REPORT_DUE_HOURS = env.int("VISIT_WEEKLY_REPORT_DUE_HOURS", default=36)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "OpportunityStageEnum": "apps.opportunities.choices.Stage",
        "VisitPlanStatusEnum": "apps.visits.choices.PlanStatus",
        "WeeklyReportStatusEnum": "apps.visits.choices.ReportStatus",
        "VisitPurposeEnum": "apps.visits.choices.VisitPurpose",
    }
)

# --- Contracts and receivables ------------------------------------------------------------
# Contract numbers: prefix-year-sequence without gaps per year, e.g. HT-2026-000123.
CONTRACT_NUMBER_PREFIX = env.str("CONTRACT_NUMBER_PREFIX", default="HT")
# A customer with an installment overdue more than this many days is put on credit hold by
# the daily job (DESIGN.md: 61–90 days → manager and credit hold); the job releases a hold it
# set when nothing is overdue beyond it any more.
RECEIVABLES_CREDIT_HOLD_DAYS = env.int("RECEIVABLES_CREDIT_HOLD_DAYS", default=60)
# Customer tier (A/B/C/D) from the last 12 months' signed contract amount: the lowest amount
# of each tier; below the last one is tier D. Recomputed nightly.
CUSTOMER_TIER_THRESHOLDS = env.json(
    "CUSTOMER_TIER_THRESHOLDS", default={"A": 1000000, "B": 300000, "C": 50000}
)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "ContractStatusEnum": "apps.contracts.choices.ContractStatus",
        "InstallmentKindEnum": "apps.contracts.choices.InstallmentKind",
        "InstallmentStatusEnum": "apps.receivables.choices.InstallmentStatus",
        "PaymentStatusEnum": "apps.receivables.choices.PaymentStatus",
        "PaymentMethodEnum": "apps.receivables.choices.PaymentMethod",
        "CollectionMethodEnum": "apps.receivables.choices.CollectionMethod",
        "PromiseStatusEnum": "apps.receivables.choices.PromiseStatus",
    }
)

# --- Assessment and incentives --------------------------------------------------------------
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {"CommissionFactorKindEnum": "apps.incentives.choices.FactorKind"}
)
# A satisfaction survey's link expires after this many days (one-time, no login).
SURVEY_LINK_DAYS = env.int("SURVEY_LINK_DAYS", default=14)
