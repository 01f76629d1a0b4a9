"""A namespace with the demo's past and its own copy of the six dashboards.

The namespace is loaded the way `make demo` loads its past (launcher/demo.py): the simulator sends
HISTORY_DAYS simulated days ending now through the namespace's topics (the studio answering
signals, a little of every fault), its worker writes them to its own database, and the warehouse's
maintenance runs once; then the simulator is stopped, so the numbers hold still while tests compare
them, and the dashboards are provisioned for the namespace. Nothing is written to the demo's
database, and everything is removed afterwards.
"""
from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from infra.settings import ROOT, load
from tests.conftest import drop_namespace, free_port

HISTORY_DAYS = 32            # the study's model reads 30 closed days
USERS_PER_DAY = 400          # enough that the last hour has payers and a week has re-create signals
FORECAST_PERIOD_S = 3600     # Hit watch scored hourly, not every 10 minutes: the past is scored 6x sooner
SLATE_PER_DAY = 1            # new titles a day (the demo's 2): a week of them now, outcomes known; a slate hit
                             # brings up to 20 days of new users (word of mouth), so fewer titles, a shorter past


@pytest.fixture(scope="package")
def loop_namespace(stack):
    """Settings of a namespace with the demo's past in its warehouse, its worker running, and its dashboards."""
    from dashboards.provision import provision, unprovision
    from infra import services
    from launcher import bring_up, demo

    settings = load(namespace=f"d{os.getpid()}", worker_web_port=free_port(), demo_history_days=HISTORY_DAYS,
                    demo_users_per_day=USERS_PER_DAY, forecast_period_s=FORECAST_PERIOD_S,
                    demo_slate_per_day=SLATE_PER_DAY)
    apps = [services.Worker(settings), services.Simulator(settings)]
    try:
        bring_up(settings, stack=(), apps=(services.Worker, services.Simulator))
        print(demo.load_history(settings))
        print(apps[1].down())
        print(provision(settings))
        yield settings
    finally:
        try:
            unprovision(settings)
        finally:
            drop_namespace(settings, apps, wait=False)


@pytest.fixture(scope="package")
def viewer_login(loop_namespace) -> tuple[str, str]:
    """A user with the viewer role (created once, its password set anew): (username, password)."""
    from dashboards.superset_setup import VIEWER_ROLE
    from infra.services import Superset

    superset = Superset(loop_namespace)
    name, password = "drama-viewer-test", secrets.token_urlsafe(16)
    env = {**os.environ, **superset.env()}
    subprocess.run(superset.cli("fab", "create-user", "--role", VIEWER_ROLE, "--username", name, "--firstname",
                                "View", "--lastname", "Er", "--email", "viewer-test@localhost", "--password",
                                password), env=env, check=True, capture_output=True, timeout=120)
    subprocess.run(superset.cli("fab", "reset-password", "--username", name, "--password", password), env=env,
                   check=True, capture_output=True, timeout=120)
    return name, password


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Where tests leave files for people to look at (screenshots): DRAMA_TEST_OUTPUT, or .state/test-output."""
    path = Path(os.environ.get("DRAMA_TEST_OUTPUT", ROOT / ".state" / "test-output"))
    path.mkdir(parents=True, exist_ok=True)
    return path
