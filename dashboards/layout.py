"""Charts and dashboards as data, and their rendering into Superset's import format.

`render(...)` writes the folder `superset import-directory` reads: metadata.yaml, databases/,
datasets/, charts/, dashboards/, linked by UUID. UUIDs derive from the namespace and each object's
key, so a second import updates the same objects in place, and a test namespace gets its own.
Each chart also renders as the SQL that reproduces its numbers on the warehouse (`chart_sql`),
which dashboards/README.md lists and a test holds equal to Superset's chart data API.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from dashboards.datasets import COUNT, MONEY, PERCENT, SECONDS, Dataset

NAMESPACE_UUID = uuid.UUID("5b1f6c3e-8f0a-4a57-9c55-7d3a6a2f1e10")

# Native filters: (column, label). A dashboard gets each one that a dataset on it has.
FILTER_COLUMNS = (("app_id", "App"), ("title_name", "Title"), ("trope", "Trope"), ("channel", "Channel"),
                  ("gender", "Gender"), ("age_band", "Age band"), ("country", "Country"))


@dataclass(frozen=True)
class Chart:
    key: str                       # unique across dashboards; the chart's UUID derives from it
    title: str
    dataset: Dataset
    viz: str                       # line, bar, stacked, number, table, pie, raw
    metrics: tuple[str, ...]
    groupby: tuple[str, ...] = ()
    x_axis: str | None = None      # a non-temporal x axis (line and bar); default: the time column
    width: int = 4
    series_limit: int = 0          # top N series by the first metric
    row_limit: int = 1000
    columns: tuple[str, ...] = ()  # raw tables: the columns shown
    order_by: str | None = None    # raw tables: newest first on this column
    where: str = ""                # a fixed condition in SQL on the dataset's columns
    time_range: str | None = None  # its own window, outside the dashboard's time filter (default: the dashboard's)


@dataclass(frozen=True)
class Dashboard:
    slug: str
    title: str
    rows: tuple[tuple[Chart, ...], ...]
    time_range: str = 'DATEADD(DATETIME("now"), -7, day) : now'
    grain: str = "P1D"
    refresh_s: int = 0
    description: str = ""

    @property
    def charts(self) -> list[Chart]:
        return [chart for row in self.rows for chart in row]


def object_uuid(namespace: str, kind: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE_UUID, f"{namespace}/{kind}/{key}"))


def slug(dashboard: Dashboard, namespace: str) -> str:
    """The dashboard's slug in Superset: a namespace's copy carries the namespace."""
    return dashboard.slug + (f"-{namespace}" if namespace else "")


def suffix(namespace: str) -> str:
    return f" [{namespace}]" if namespace else ""


VIZ = {"line": "echarts_timeseries_line", "bar": "echarts_timeseries_bar", "stacked": "echarts_timeseries_bar",
       "number": "big_number_total", "table": "table", "raw": "table", "pie": "pie"}


GRAIN_TITLES = {"PT1M": "Minute (UTC)", "PT1H": "Hour (UTC)", "P1D": "Day (UTC)"}


UNITS = {MONEY: "US$", PERCENT: "Rate", COUNT: "Count", SECONDS: "Seconds"}


def axis_title(chart: Chart, first) -> str:
    """The y axis's title: the metric's label, or for several metrics (which the legend names) their unit."""
    return first.label if len(chart.metrics) == 1 else UNITS.get(first.format, first.label)


def chart_params(chart: Chart, dashboard: Dashboard) -> dict:
    """The chart's form data (Superset's `params`), as the Explore view would save it."""
    time_column = chart.dataset.time_column
    time_range = chart.time_range or dashboard.time_range
    filters = [{"clause": "WHERE", "subject": time_column, "operator": "TEMPORAL_RANGE",
                "comparator": time_range, "expressionType": "SIMPLE"}] if time_column else []
    if chart.where:
        filters.append({"clause": "WHERE", "expressionType": "SQL", "sqlExpression": chart.where})
    params: dict = {"viz_type": VIZ[chart.viz], "datasource": "0__table", "adhoc_filters": filters,
                    "row_limit": chart.row_limit, "time_range": time_range if time_column else "No filter"}
    if chart.viz in ("line", "bar", "stacked"):
        first = next(m for m in chart.dataset.metrics if m.name == chart.metrics[0])
        params.update(x_axis=chart.x_axis or time_column, metrics=list(chart.metrics), groupby=list(chart.groupby),
                      show_legend=True, rich_tooltip=True, truncate_metric=True,
                      # every axis says what it is, in the first metric's units ($, %, ×, counts)
                      y_axis_format=first.format, y_axis_title=axis_title(chart, first), y_axis_title_margin=60,
                      y_axis_title_position="Left", x_axis_title=(chart.x_axis or "").replace("_", " ").capitalize()
                      or GRAIN_TITLES.get(dashboard.grain, "Time"), x_axis_title_margin=30)
        if not chart.x_axis:
            params["time_grain_sqla"] = dashboard.grain
        else:
            params["x_axis_sort_asc"] = True
            params["xAxisForceCategorical"] = True
        if chart.series_limit:
            params.update(series_limit=chart.series_limit, series_limit_metric=chart.metrics[0])
        if chart.viz == "stacked":
            params["stack"] = "Stack"
    elif chart.viz == "number":
        params.update(metric=chart.metrics[0], header_font_size=0.4, subheader_font_size=0.15)
    elif chart.viz == "pie":
        params.update(metric=chart.metrics[0], groupby=list(chart.groupby), show_labels=True, show_legend=True)
    elif chart.viz == "table":
        params.update(query_mode="aggregate", groupby=list(chart.groupby), metrics=list(chart.metrics),
                      order_desc=True, timeseries_limit_metric=chart.metrics[0])
    elif chart.viz == "raw":
        params.update(query_mode="raw", all_columns=list(chart.columns),
                      order_by_cols=[json.dumps([chart.order_by, False])] if chart.order_by else [])
    return params


def chart_query(chart: Chart, dashboard: Dashboard) -> dict:
    """The query object Superset's frontend asks for this chart on first opening its dashboard, with
    the dashboard's default time range applied: its cache key is the one the dashboard hits, so a
    warm-up that asks for it warms what the screens read (tests/dashboards/test_browser.py holds the
    two equal, by the dashboard's own requests being served from that cache)."""
    time_column = chart.dataset.time_column
    time_range = chart.time_range or dashboard.time_range
    query: dict = {"time_range": time_range,
                   "filters": [{"col": time_column, "op": "TEMPORAL_RANGE", "val": time_range}] if time_column else [],
                   "extras": {"having": "", "where": f"({chart.where})" if chart.where else ""},
                   "applied_time_extras": {}, "columns": [], "metrics": list(chart.metrics)}
    common = {"annotation_layers": [], "row_limit": chart.row_limit, "series_limit": 0,
              "group_others_when_limit_reached": False, "order_desc": True, "url_params": {}, "custom_params": {},
              "custom_form_data": {}}
    if chart.viz in ("line", "bar", "stacked"):
        x = chart.x_axis or time_column
        axis = {"columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL",
                "isColumnReference": True}
        if not chart.x_axis:
            axis = {"timeGrain": dashboard.grain, **axis}
            query["extras"] = {"time_grain_sqla": dashboard.grain, **query["extras"]}
        query.update(columns=[axis, *chart.groupby], orderby=[[chart.metrics[0], False]], **common,
                     series_columns=list(chart.groupby), time_offsets=[])
        if chart.series_limit:
            query.update(series_limit=chart.series_limit, series_limit_metric=chart.metrics[0])
        pivot = {"operation": "pivot", "options": {
            "index": [x], "columns": list(chart.groupby),
            "aggregates": {m: {"operator": "mean"} for m in chart.metrics}, "drop_missing_columns": False}}
        rename = ([{"operation": "rename", "options": {"columns": {chart.metrics[0]: None}, "level": 0,
                                                        "inplace": True}}]
                  if chart.groupby and len(chart.metrics) == 1 else [])
        query["post_processing"] = [pivot, *rename, {"operation": "flatten"}]
    elif chart.viz == "number":
        query.update(common)
    elif chart.viz == "table":
        query.update(columns=list(chart.groupby), orderby=[[chart.metrics[0], False]], **common,
                     series_limit_metric=chart.metrics[0], post_processing=[], time_offsets=[])
    elif chart.viz == "raw":
        del query["metrics"]
        query.update(columns=list(chart.columns), orderby=[[chart.order_by, False]] if chart.order_by else [],
                     **common, post_processing=[], time_offsets=[])
    else:   # pie: its frontend query has not been compared with this; add it here, then run test_browser.py
        raise ValueError(f"chart {chart.key}: no query known for viz {chart.viz!r}")
    return query


def query_context(chart: Chart, dashboard: Dashboard, dataset_id: int = 0) -> dict:
    """The chart's saved query context (Superset's `query_context`): what its cache warm-up and its
    GET /api/v1/chart/<id>/data ask for. The importer does not know the dataset's id; superset_setup.py
    fills it in after the import."""
    form_data = {**chart_params(chart, dashboard), "datasource": f"{dataset_id}__table"}
    return {"datasource": {"id": dataset_id, "type": "table"}, "force": False,
            "queries": [chart_query(chart, dashboard)], "form_data": form_data,
            "result_format": "json", "result_type": "full"}


def chart_sql(chart: Chart, dashboard: Dashboard) -> str:
    """SQL on the warehouse that gives the chart's numbers: the dataset's documented query,
    the dashboard's default time range, the chart's grouping and metrics."""
    dataset = chart.dataset
    conditions = [f"{dataset.time_column} >= {SQL_RANGES[dashboard.time_range]}"] if dataset.time_column else []
    conditions += [f"({chart.where})"] if chart.where else []
    where = f"\nWHERE {' AND '.join(conditions)}" if conditions else ""
    if chart.viz == "raw":
        order = f"\nORDER BY {chart.order_by} DESC" if chart.order_by else ""
        return (f"SELECT {', '.join(chart.columns)}\nFROM ({_indent(dataset.sql)}\n) AS q{where}{order}"
                f"\nLIMIT {chart.row_limit}")
    keys: list[str] = []
    if chart.viz in ("line", "bar", "stacked"):
        keys.append(chart.x_axis or (f"{GRAIN_SQL[dashboard.grain]}({dataset.time_column})"
                                     f" AS {dataset.time_column}__"))
    keys += list(chart.groupby)
    metrics = [f"{dataset.metric(name).expression} AS {name}" for name in chart.metrics]
    names = ", ".join(key.split(" AS ")[-1] for key in keys)
    grouped = f"\nGROUP BY {names}\nORDER BY {names}" if keys else ""
    return f"SELECT {', '.join(keys + metrics)}\nFROM ({_indent(dataset.sql)}\n) AS q{where}{grouped}"


def cache_timeout(dashboard: Dashboard) -> int:
    """Seconds a chart's data stays in Superset's cache. A live dashboard's charts are warmed every
    refresh (WARM_TAGS) and kept three refreshes, so no screen ever finds its chart expired; the
    others, warmed every 5 minutes, are kept 10."""
    return 3 * dashboard.refresh_s if dashboard.refresh_s else 600


# Superset's tag on a dashboard → how often Celery beat re-runs its charts' queries into the cache
# (infra/superset/superset_config.py's beat_schedule names the same tags and periods).
WARM_TAGS = {"warm-every-10s": 10, "warm-every-5m": 300}


def warm_tag(dashboard: Dashboard) -> str:
    tag = f"warm-every-{dashboard.refresh_s}s" if dashboard.refresh_s else "warm-every-5m"
    if tag not in WARM_TAGS:
        raise ValueError(f"dashboard {dashboard.slug}: no warm-up every {dashboard.refresh_s} s; add it to WARM_TAGS "
                         "and to superset_config.py's beat_schedule")
    return tag


SQL_RANGES = {'DATEADD(DATETIME("now"), -60, minute) : now': "now() - 3600",
              'DATEADD(DATETIME("now"), -7, day) : now': "now() - 7 * 86400"}
GRAIN_SQL = {"PT1M": "toStartOfMinute", "PT1H": "toStartOfHour", "P1D": "toStartOfDay"}


def _indent(sql: str) -> str:
    return "\n" + "\n".join("    " + line for line in sql.splitlines())


# --- rendering into Superset's import format --------------------------------------------------------

def render(dashboards: tuple[Dashboard, ...], target: Path, *, namespace: str, database: str, sqlalchemy_uri: str,
           columns: dict[str, list[tuple[str, str]]]) -> Path:
    """Write the import folder. `columns` maps each dataset's name to its (column, ClickHouse type)
    pairs, as the warehouse returns them (see provision.dataset_columns)."""
    database_uuid = object_uuid(namespace, "database", database)
    _write(target / "metadata.yaml", {"version": "1.0.0", "type": "Dashboard",
                                      "timestamp": "2026-11-28T00:00:00+00:00"})
    _write(target / "databases" / f"{database}.yaml", {
        "database_name": database, "sqlalchemy_uri": sqlalchemy_uri, "cache_timeout": None,
        "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
        "allow_dml": False, "allow_file_upload": False, "extra": {"metadata_params": {}, "engine_params": {}},
        "impersonate_user": False, "uuid": database_uuid, "version": "1.0.0"})
    datasets = {chart.dataset.name: chart.dataset for d in dashboards for chart in d.charts}
    for dataset in datasets.values():
        _write(target / "datasets" / database / f"{dataset.name}.yaml",
               dataset_asset(dataset, namespace, database, database_uuid, columns[dataset.name]))
    for dashboard in dashboards:
        for chart in dashboard.charts:
            _write(target / "charts" / f"{chart.key}.yaml", {
                "slice_name": chart.title, "description": None, "viz_type": VIZ[chart.viz],
                "params": chart_params(chart, dashboard),
                "query_context": json.dumps(query_context(chart, dashboard)),
                "cache_timeout": cache_timeout(dashboard),
                "uuid": object_uuid(namespace, "chart", chart.key), "version": "1.0.0",
                "dataset_uuid": object_uuid(namespace, "dataset", chart.dataset.name)})
        _write(target / "dashboards" / f"{dashboard.slug}.yaml",
               dashboard_asset(dashboard, namespace, columns))
    return target


def dataset_asset(dataset: Dataset, namespace: str, database: str, database_uuid: str,
                  columns: list[tuple[str, str]]) -> dict:
    return {
        # Superset's metadata keeps dataset names unique across databases: a namespace's carry it.
        "table_name": dataset.name + (f"_{namespace}" if namespace else ""), "main_dttm_col": dataset.time_column,
        "description": dataset.description,
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "schema": database, "sql": dataset.sql,
        "params": None, "template_params": None, "filter_select_enabled": True, "fetch_values_predicate": None,
        "extra": None, "normalize_columns": False, "always_filter_main_dttm": False,
        "uuid": object_uuid(namespace, "dataset", dataset.name), "version": "1.0.0", "database_uuid": database_uuid,
        "metrics": [{"metric_name": m.name, "verbose_name": m.label, "metric_type": None, "expression": m.expression,
                     "description": None, "d3format": m.format, "extra": None, "warning_text": None}
                    for m in dataset.metrics],
        "columns": [{"column_name": name, "verbose_name": None, "is_dttm": _is_time(kind), "is_active": True,
                     "type": kind.upper(), "groupby": True, "filterable": True, "expression": None,
                     "description": None, "python_date_format": None, "extra": None}
                    for name, kind in columns],
    }


def _is_time(kind: str) -> bool:
    return kind.removeprefix("Nullable(").startswith(("DateTime", "Date"))


def dashboard_asset(dashboard: Dashboard, namespace: str, columns: dict[str, list[tuple[str, str]]]) -> dict:
    chart_ids = {chart.key: n for n, chart in enumerate(dashboard.charts, start=1)}
    position: dict = {"DASHBOARD_VERSION_KEY": "v2",
                      "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
                      "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
                      "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER",
                                    "meta": {"text": dashboard.title + suffix(namespace)}}}
    if dashboard.description:       # what the dashboard shows and how to read it, above its charts
        position["GRID_ID"]["children"].append("ROW-intro")
        position["ROW-intro"] = {"type": "ROW", "id": "ROW-intro", "children": ["MARKDOWN-intro"],
                                 "parents": ["ROOT_ID", "GRID_ID"], "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        position["MARKDOWN-intro"] = {"type": "MARKDOWN", "id": "MARKDOWN-intro", "children": [],
                                      "parents": ["ROOT_ID", "GRID_ID", "ROW-intro"],
                                      "meta": {"width": 12, "height": 16, "code": dashboard.description}}
    for n, row in enumerate(dashboard.rows):
        row_id = f"ROW-{n}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart in row:
            node = f"CHART-{chart.key}"
            position[row_id]["children"].append(node)
            position[node] = {"type": "CHART", "id": node, "children": [], "parents": ["ROOT_ID", "GRID_ID", row_id],
                              "meta": {"chartId": chart_ids[chart.key], "width": chart.width,
                                       "height": 30 if chart.viz == "number" else 50,
                                       "uuid": object_uuid(namespace, "chart", chart.key), "sliceName": chart.title}}
    filters = [time_filter(dashboard, namespace,
                           excluded=[chart_ids[c.key] for c in dashboard.charts if c.time_range])]
    for column, label in FILTER_COLUMNS:
        having = [c for c in dashboard.charts if column in {name for name, _ in columns[c.dataset.name]}]
        if having:
            filters.append(select_filter(dashboard, namespace, column, label, having[0].dataset,
                                         excluded=[chart_ids[c.key] for c in dashboard.charts if c not in having]))
    return {
        "dashboard_title": dashboard.title + suffix(namespace), "description": dashboard.description or None,
        "css": None, "slug": slug(dashboard, namespace), "certified_by": None,
        "certification_details": None, "published": True, "uuid": object_uuid(namespace, "dashboard", dashboard.slug),
        "position": position, "version": "1.0.0",
        "metadata": {"refresh_frequency": dashboard.refresh_s, "timed_refresh_immune_slices": [],
                     "color_scheme": "supersetColors", "label_colors": {}, "shared_label_colors": [],
                     "expanded_slices": {}, "cross_filters_enabled": False, "default_filters": "{}",
                     "chart_configuration": {}, "global_chart_configuration": {},
                     "native_filter_configuration": filters},
    }


def time_filter(dashboard: Dashboard, namespace: str, excluded: list[int]) -> dict:
    """The dashboard's time range, on every chart but those with a window of their own (`excluded`)."""
    return {"id": f"NATIVE_FILTER-{object_uuid(namespace, 'filter', dashboard.slug + '/time')[:8]}",
            "name": "Time range", "filterType": "filter_time", "type": "NATIVE_FILTER", "targets": [{}],
            "controlValues": {"enableEmptyFilter": False}, "cascadeParentIds": [],
            "defaultDataMask": {"extraFormData": {"time_range": dashboard.time_range},
                                "filterState": {"value": dashboard.time_range}, "ownState": {}},
            "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded}, "description": ""}


def select_filter(dashboard: Dashboard, namespace: str, column: str, label: str, dataset: Dataset,
                  excluded: list[int]) -> dict:
    return {"id": f"NATIVE_FILTER-{object_uuid(namespace, 'filter', dashboard.slug + '/' + column)[:8]}",
            "name": label, "filterType": "filter_select", "type": "NATIVE_FILTER",
            "targets": [{"datasetUuid": object_uuid(namespace, "dataset", dataset.name), "column": {"name": column}}],
            "controlValues": {"enableEmptyFilter": False, "multiSelect": True, "searchAllOptions": False,
                              "inverseSelection": False, "defaultToFirstItem": False},
            "cascadeParentIds": [], "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
            "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded}, "description": ""}


def _write(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True))
