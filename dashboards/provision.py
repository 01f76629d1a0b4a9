"""Import dashboards/assets/ into Superset (idempotent: objects are updated in place by UUID).

The assets are Superset's own export format (YAML linked by UUID). The database file is a
template: its SQLAlchemy URI, which may carry a password, is filled from infra/settings.py at
import time and never committed. To change a chart, edit it in Superset, export the dashboard
(`GET /api/v1/dashboard/export/`) and copy the YAML back here.
"""
from __future__ import annotations

import shutil
import string
import sys
from pathlib import Path

from infra.process import run
from infra.services import Superset
from infra.settings import Settings, load

ASSETS = Path(__file__).resolve().parent / "assets"


def render_assets(settings: Settings, target: Path) -> Path:
    """Copy the assets to target with the database URI filled in."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ASSETS, target)
    for path in (target / "databases").glob("*.yaml"):
        path.write_text(string.Template(path.read_text()).substitute(SQLALCHEMY_URI=settings.clickhouse_sqlalchemy_uri))
        path.chmod(0o600)
    return target


def chart_uuids() -> list[str]:
    import yaml
    return [yaml.safe_load(path.read_text())["uuid"] for path in sorted((ASSETS / "charts").glob("*.yaml"))]


def provision(settings: Settings) -> str:
    superset = Superset(settings)
    rendered = render_assets(settings, settings.state_dir / "superset" / "assets")
    run(superset.cli("import-directory", "--overwrite", str(rendered)), "importing dashboards into Superset",
        superset.log, env=superset.env(), fix="The assets under dashboards/assets/ may be malformed.")
    python = superset.venv / "bin" / "python"
    run([str(python) if python.exists() else "python", str(Path(__file__).with_name("relink.py")), *chart_uuids()],
        "relinking the charts' saved queries", superset.log, env=superset.env())
    return f"dashboards: imported into {settings.superset_url}/superset/dashboard/drama-loop/"


if __name__ == "__main__":
    print(provision(load()), file=sys.stdout)
