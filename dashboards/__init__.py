"""Superset assets as code: the database, datasets, charts and dashboards under assets/."""
