"""A logged-in session on Superset's REST API: the bearer token and the CSRF token its POSTs need."""
from __future__ import annotations

from infra.settings import Settings


def session(settings: Settings, username: str | None = None, password: str | None = None):
    """requests.Session logged in as username (the admin by default), with Referer and X-CSRFToken set."""
    import requests

    api = requests.Session()
    login = api.post(f"{settings.superset_url}/api/v1/security/login", timeout=30, json={
        "username": username or settings.superset_admin_user,
        "password": password if password is not None else settings.superset_admin_password,
        "provider": "db", "refresh": True})
    login.raise_for_status()
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    api.headers["X-CSRFToken"] = api.get(f"{settings.superset_url}/api/v1/security/csrf_token/",
                                         timeout=30).json()["result"]
    api.headers["Referer"] = settings.superset_url
    return api
