"""Superset's configuration for the platform (SUPERSET_CONFIG_PATH points here).

Metadata in SQLite under the state directory; SECRET_KEY generated per install into
.state/superset/secret_key (never committed); loopback only (set by the launcher's bind).
"""
import os
import sys
from pathlib import Path

_STATE = Path(os.environ.get("DRAMA_STATE_DIR", Path(__file__).resolve().parents[2] / ".state"))
_HOME = _STATE / "superset"

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY") or (
    (_HOME / "secret_key").read_text().strip() if (_HOME / "secret_key").exists() else None)
if not SECRET_KEY:
    sys.exit("Superset has no SECRET_KEY: run `make up` (it generates one) or set SUPERSET_SECRET_KEY.")

SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI", f"sqlite:///{_HOME / 'superset.db'}")
DATA_DIR = str(_HOME)

# No external calls from an offline machine; no CSP noise on loopback.
TALISMAN_ENABLED = False
WTF_CSRF_ENABLED = True
# The REST API is used with a bearer token by provisioning scripts and tests.
WTF_CSRF_EXEMPT_LIST = [
    "superset.views.core.log",
    "superset.views.core.explore_json",
    "superset.charts.data.api.data",
    "superset.dashboards.api.cache_dashboard_screenshot",
]
ROW_LIMIT = 50000

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clickhouse_compat  # noqa: E402  (patches for ClickHouse 18.16; see that module)

clickhouse_compat.apply()
