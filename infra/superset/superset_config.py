"""Superset's configuration for the platform (SUPERSET_CONFIG_PATH points here).

Metadata in Postgres (the launcher's `postgres` service; SUPERSET_DATABASE_URI, which the launcher
sets, may name another database, SQLite included); SECRET_KEY generated per install into
.state/superset/secret_key (never committed); loopback only (set by the launcher's bind).
Redis (the launcher's `redis` service) is the Celery broker of Alerts & Reports and the cache of
chart data and results; Talisman sends a content security policy that allows nothing off the host.
"""
import os
import sys
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

_STATE = Path(os.environ.get("DRAMA_STATE_DIR", Path(__file__).resolve().parents[2] / ".state"))
_HOME = _STATE / "superset"

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or (
    (_HOME / "secret_key").read_text().strip() if (_HOME / "secret_key").exists() else None)
if not SECRET_KEY:
    sys.exit("Superset has no SECRET_KEY: run `make up` (it generates one) or set SUPERSET_SECRET_KEY.")

SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI") or sys.exit(
    "Superset has no metadata database: run it through `make up` (the launcher sets SUPERSET_DATABASE_URI to its "
    "Postgres) or set SUPERSET_DATABASE_URI (e.g. postgresql+psycopg2://USER:PASSWORD@127.0.0.1:5433/superset).")
if SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
    # SQLite has one writer at a time (web workers, the Celery worker's alert logs, provisioning): a writer
    # waits up to 30 s for the lock instead of failing with "database is locked".
    SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": {"timeout": 30}}
else:
    # Each gunicorn worker and Celery process keeps a small pool; a connection Postgres closed is replaced.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
DATA_DIR = str(_HOME)

# Superset's own policy without the third-party hosts (maps, telemetry, fonts): nothing off the host.
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": ["'self'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
SCARF_ANALYTICS = False
WTF_CSRF_ENABLED = True
# The REST API is used with a bearer token by provisioning scripts and tests.
WTF_CSRF_EXEMPT_LIST = [
    "superset.views.core.log",
    "superset.views.core.explore_json",
    "superset.charts.data.api.data",
    "superset.dashboards.api.cache_dashboard_screenshot",
]
ROW_LIMIT = 50000

# --- Alerts & Reports, with Celery on Redis ---------------------------------------------------
# An alert posts its name, description and the dashboard's link; no screenshot (that would need a
# browser on the Celery worker's machine).
FEATURE_FLAGS = {"ALERT_REPORTS": True, "ALERT_REPORT_WEBHOOK": True, "ALERTS_ATTACH_REPORTS": False}
_REDIS = f"redis://{os.environ.get('REDIS_HOST', '127.0.0.1')}:{os.environ.get('REDIS_PORT', '6379')}"
DRAMA_ADMIN_USER = os.environ.get("SUPERSET_ADMIN_USER", "admin")


# The scheduler derives "now" from its task's expiry minus this; the two must agree.
CELERY_BEAT_SCHEDULER_EXPIRES = timedelta(minutes=10)


class CeleryConfig:
    broker_url = f"{_REDIS}/0"
    result_backend = f"{_REDIS}/1"
    imports = ("superset.sql_lab", "superset.tasks.scheduler", "superset.tasks.cache")
    worker_prefetch_multiplier = 1
    task_acks_late = False
    beat_schedule = {
        "reports.scheduler": {"task": "reports.scheduler", "schedule": crontab(minute="*", hour="*"),
                              "options": {"expires": int(CELERY_BEAT_SCHEDULER_EXPIRES.total_seconds())}},
        "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=0, hour=0)},
        # Superset's cache warm-up (superset.tasks.cache, strategy dashboard_tags): the charts of each
        # dashboard tagged warm-every-<period> re-run into the data cache from their saved query
        # contexts, as the admin (CACHE_WARMUP_EXECUTORS). The tags and periods are
        # dashboards/layout.py's WARM_TAGS: Loop health every 10 s (its refresh) with its charts kept 30 s,
        # so however many screens are open, ClickHouse answers each chart once per refresh; the
        # others every 5 minutes, kept 10.
        "cache-warmup-10s": {"task": "cache-warmup", "schedule": timedelta(seconds=10),
                             "options": {"expires": 10},
                             "kwargs": {"strategy_name": "dashboard_tags", "tags": ["warm-every-10s"]}},
        "cache-warmup-5m": {"task": "cache-warmup", "schedule": crontab(minute="*/5"),
                            "kwargs": {"strategy_name": "dashboard_tags", "tags": ["warm-every-5m"]}},
    }


CELERY_CONFIG = CeleryConfig


def _scheduled_time_as_datetime(app) -> None:
    """Superset 6.1 hands an alert's Celery ETA (an ISO string) to its execution log as is; its
    SQLite metadata store accepts only datetimes there (Postgres casts), so each run would fail.
    Parse it first. Applied when the app is created, in the web server and the Celery worker."""
    from datetime import datetime, timezone

    from superset.commands.report import execute as report

    original = report.AsyncExecuteReportScheduleCommand.__init__
    if getattr(original, "drama_patched", False):
        return

    def init(self, task_id, model_id, scheduled_dttm):
        if isinstance(scheduled_dttm, str):
            scheduled_dttm = datetime.fromisoformat(scheduled_dttm)
        if scheduled_dttm is not None and scheduled_dttm.tzinfo is not None:
            scheduled_dttm = scheduled_dttm.astimezone(timezone.utc).replace(tzinfo=None)
        original(self, task_id, model_id, scheduled_dttm)

    init.drama_patched = True
    report.AsyncExecuteReportScheduleCommand.__init__ = init


FLASK_APP_MUTATOR = _scheduled_time_as_datetime
# The warm-up asks for each chart as the admin (the imported charts have no owner to act as).
try:
    from superset.tasks.types import FixedExecutor

    CACHE_WARMUP_EXECUTORS = [FixedExecutor(DRAMA_ADMIN_USER)]
except ImportError:  # older Superset: the admin's name alone
    CACHE_WARMUP_EXECUTORS = [DRAMA_ADMIN_USER]
ALERT_REPORTS_EXECUTORS = ["owner"]
ALERT_REPORTS_NOTIFICATION_DRY_RUN = False
# Superset's own check allows https only; the provisioned alerts also go to a receiver on this
# machine over http (a local relay, or the tests'), and dashboards/alerts.py refuses any other
# http URL, so the check moves there.
ALERT_REPORTS_WEBHOOK_HTTPS_ONLY = False
WEBDRIVER_BASEURL = f"http://{os.environ.get('SUPERSET_HOST', '127.0.0.1')}:{os.environ.get('SUPERSET_PORT', '8088')}/"
WEBDRIVER_BASEURL_USER_FRIENDLY = WEBDRIVER_BASEURL

# Chart data cached 10 s (Loop health refreshes every 10 s: many open screens share one query),
# metadata 5 minutes; Explore's and the filters' state in Redis too.
def _cache(prefix: str, seconds: int, db: int) -> dict:
    return {"CACHE_TYPE": "RedisCache", "CACHE_DEFAULT_TIMEOUT": seconds, "CACHE_KEY_PREFIX": f"drama_{prefix}_",
            "CACHE_REDIS_URL": f"{_REDIS}/{db}"}


# A dashboard's auto-refresh reads through that cache ("force" would bypass it on every tick).
DASHBOARD_AUTO_REFRESH_MODE = "fetch"
CACHE_CONFIG = _cache("meta", 300, 2)
DATA_CACHE_CONFIG = _cache("data", 10, 3)
FILTER_STATE_CACHE_CONFIG = {**_cache("filter", 86400, 4), "REFRESH_TIMEOUT_ON_RETRIEVAL": True}
EXPLORE_FORM_DATA_CACHE_CONFIG = {**_cache("explore", 86400, 4), "REFRESH_TIMEOUT_ON_RETRIEVAL": True}
RESULTS_BACKEND_USE_MSGPACK = True
try:
    from flask_caching.backends.rediscache import RedisCache

    RESULTS_BACKEND = RedisCache(host=os.environ.get("REDIS_HOST", "127.0.0.1"),
                                 port=int(os.environ.get("REDIS_PORT", "6379")), db=5, key_prefix="drama_results_",
                                 default_timeout=int(timedelta(days=1).total_seconds()))
except ImportError:  # the redis client comes with Superset; without it, no results backend
    RESULTS_BACKEND = None

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clickhouse_compat  # noqa: E402  (patches for ClickHouse 18.16; see that module)

clickhouse_compat.apply()
