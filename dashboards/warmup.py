"""The cache warm-up: every chart of the dashboards run once into Superset's data cache, as its
dashboard will ask for it, so that the first screen to open reads from the cache.

    python -m dashboards.warmup     (make dashboards runs it after the import; make demo after the past)

Each chart's saved query context (dashboards/layout.py: query_context, the query the dashboard's
frontend sends on first opening it) is re-run through Superset's own PUT /api/v1/chart/warm_up_cache,
which is also what Celery beat's `cache-warmup` calls on its schedule for the tagged dashboards
(infra/superset/superset_config.py). A chart whose query fails is reported by name with its error.
"""
from __future__ import annotations

import sys
import time

from dashboards import api, screens
from dashboards.layout import slug
from infra.settings import Settings, load


def dashboard_charts(settings: Settings, session, dashboard_slug: str) -> list[dict]:
    """The charts on one dashboard: [{id, slice_name}, ...] (Superset's own listing)."""
    found = session.get(f"{settings.superset_url}/api/v1/dashboard/{dashboard_slug}/charts", timeout=60)
    if found.status_code == 404:
        raise SystemExit(f"no dashboard {dashboard_slug} in Superset: run `make dashboards` first")
    found.raise_for_status()
    return found.json()["result"]


def warm(settings: Settings, slugs: list[str] | None = None) -> dict:
    """Warms each chart of the settings' namespace's dashboards (those of `slugs`, by default all);
    {charts, failed: {title: error}, seconds}."""
    session = api.session(settings)
    started, failed, charts = time.monotonic(), {}, 0
    for dashboard in screens.ALL:
        if slugs is not None and dashboard.slug not in slugs:
            continue
        for chart in dashboard_charts(settings, session, slug(dashboard, settings.namespace)):
            charts += 1
            answer = session.put(f"{settings.superset_url}/api/v1/chart/warm_up_cache", timeout=300,
                                 json={"chart_id": chart["id"]})
            if answer.status_code != 200:
                failed[chart["slice_name"]] = f"HTTP {answer.status_code}: {answer.text[:200]}"
                continue
            for result in answer.json()["result"]:
                if result.get("viz_error"):
                    failed[chart["slice_name"]] = str(result["viz_error"])[:300]
    return {"charts": charts, "failed": failed, "seconds": round(time.monotonic() - started, 1)}


def summary(warmed: dict) -> str:
    line = f"cache warm-up: {warmed['charts']} charts in {warmed['seconds']} s"
    if warmed["failed"]:
        line += f"; {len(warmed['failed'])} FAILED (their dashboards will show the error):" + "".join(
            f"\n  {title}: {error}" for title, error in warmed["failed"].items())
    return line


if __name__ == "__main__":
    result = warm(load())
    print(summary(result))
    sys.exit(1 if result["failed"] else 0)
