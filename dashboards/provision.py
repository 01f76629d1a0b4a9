"""`make dashboards`: the six dashboards (dashboards/screens.py) into Superset, idempotently.

    python -m dashboards.provision

Renders Superset's import format from the code (dashboards/layout.py) into
.state/superset/assets[-<namespace>]/, with each dataset's columns read from the warehouse and the
database URI (which carries a password) filled from infra/settings.py, never committed; imports
it with `superset import-directory --overwrite` (objects are updated in place by UUID); then
points each chart's saved query at its dataset, tags the dashboards for their warm-up, sets up
the viewer role and provisions the alerts (dashboards/superset_setup.py, run with Superset's own
Python); then warms the cache (dashboards/warmup.py).

A namespace (DRAMA_NAMESPACE, as tests use) gets its own copy, on its own database: UUIDs, slugs
and titles carry the namespace, so tests never touch the demo's dashboards or data.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from dashboards import screens
from dashboards.layout import object_uuid, render, warm_tag
from infra.process import run
from infra.services import Superset
from infra.settings import Settings, kept_secret, load

SETUP = Path(__file__).with_name("superset_setup.py")


def named(settings: Settings, base: str) -> str:
    """A name of the settings' namespace's copy: base, or base-<namespace>."""
    return f"{base}-{settings.namespace}" if settings.namespace else base


def dataset_columns(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """Each dataset's result columns and their ClickHouse types, as the warehouse returns them."""
    from warehouse.client import connect

    client = connect(settings)
    try:
        found = {}
        for dashboard in screens.ALL:
            for chart in dashboard.charts:
                if chart.dataset.name not in found:
                    _, types = client.execute(f"SELECT * FROM ({chart.dataset.sql}) LIMIT 0", with_column_types=True)
                    found[chart.dataset.name] = types
        return found
    finally:
        client.disconnect()


def render_assets(settings: Settings, target: Path, columns: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    if target.exists():
        shutil.rmtree(target)
    return render(screens.ALL, target, namespace=settings.namespace, database=settings.clickhouse_db,
                  sqlalchemy_uri=settings.clickhouse_sqlalchemy_uri,
                  columns=columns if columns is not None else dataset_columns(settings))


def plan(settings: Settings) -> dict:
    """What superset_setup.py does after the import: the charts to relink, the dashboards the viewer
    role sees, and the alerts (dashboards/alerts.py)."""
    from dashboards import alerts

    return {"charts": [object_uuid(settings.namespace, "chart", c.key) for d in screens.ALL for c in d.charts],
            "dashboards": [object_uuid(settings.namespace, "dashboard", d.slug) for d in screens.ALL],
            # the demo's dashboards are re-warmed on Celery beat's schedule; a test namespace's are warmed
            # once, by provisioning (so many namespaces never load the one Celery worker)
            "warm_tags": {} if settings.namespace else {
                object_uuid(settings.namespace, "dashboard", d.slug): warm_tag(d) for d in screens.ALL},
            "database": settings.clickhouse_db,
            "alerts": alerts.definitions(settings),
            # the demo's read-only login (a test namespace makes its own): the plan file is 0600
            "viewer": None if settings.namespace else {
                "username": settings.superset_viewer_user,
                "password": settings.superset_viewer_password
                or kept_secret(settings.state_dir / "superset" / "viewer_password")}}


def setup_command(settings: Settings, *options: str) -> list[str]:
    """dashboards/superset_setup.py with Superset's Python, on the settings' plan."""
    superset = Superset(settings)
    steps = superset.home / f"{named(settings, 'plan')}.json"
    steps.write_text(json.dumps(plan(settings)))
    steps.chmod(0o600)
    python = superset.venv / "bin" / "python"
    return [str(python) if python.exists() else "python", str(SETUP), *options, str(steps)]


def unprovision(settings: Settings) -> None:
    """Remove a namespace's dashboards, charts, datasets, database and alerts from Superset."""
    assert settings.namespace, "unprovision removes a namespace's copy, never the demo's dashboards"
    superset = Superset(settings)
    run(setup_command(settings, "--remove"), f"removing namespace {settings.namespace}'s dashboards", superset.log,
        env=superset.env())
    shutil.rmtree(superset.home / named(settings, "assets"), ignore_errors=True)
    (superset.home / f"{named(settings, 'plan')}.json").unlink(missing_ok=True)


def provision(settings: Settings) -> str:
    superset = Superset(settings)
    rendered = render_assets(settings, superset.home / named(settings, "assets"))
    for path in (rendered / "databases").glob("*.yaml"):
        path.chmod(0o600)
    run(superset.cli("import-directory", "--overwrite", str(rendered)), "importing dashboards into Superset",
        superset.log, env=superset.env(), fix="dashboards/layout.py may have rendered something Superset refuses.")
    run(setup_command(settings), "relinking charts, the viewer role and the alerts", superset.log,
        env=superset.env())
    from dashboards import warmup

    return (f"dashboards: {len(screens.ALL)} imported; Loop health at "
            f"{settings.superset_url}/superset/dashboard/{named(settings, screens.LOOP_HEALTH.slug)}/\n"
            f"{warmup.summary(warmup.warm(settings))}")


if __name__ == "__main__":
    print(provision(load()), file=sys.stdout)
