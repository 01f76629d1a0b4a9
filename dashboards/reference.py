"""The generated part of dashboards/README.md: each dashboard's charts, and the SQL on the
warehouse that reproduces each chart's numbers (its dataset's documented query, the dashboard's
default time range, the chart's grouping and metrics).

    python -m dashboards.reference           # rewrite the generated part
    python -m dashboards.reference --check   # fail if it is stale (make check runs it)
"""
from __future__ import annotations

import sys
from pathlib import Path

from dashboards import alerts, screens
from dashboards.layout import chart_sql

README = Path(__file__).with_name("README.md")
START = "<!-- reference:start (python -m dashboards.reference) -->"
END = "<!-- reference:end -->"


def render() -> str:
    out = [START, ""]
    for dashboard in screens.ALL:
        refresh = f", refreshed every {dashboard.refresh_s} s" if dashboard.refresh_s else ""
        out += [f"### {dashboard.title} (`/superset/dashboard/{dashboard.slug}/`)", "",
                f"Default time range `{dashboard.time_range}`{refresh}.", ""]
        for chart in dashboard.charts:
            out += [f"#### {chart.title}", "",
                    f"Dataset `{chart.dataset.name}` (`warehouse/queries/{chart.dataset.query}.sql`), "
                    f"metrics {', '.join(f'`{m}`' for m in chart.metrics) or '(rows)'}.", "",
                    "```sql", chart_sql(chart, dashboard), "```", ""]
    out += ["### Alerts", ""]
    for alert in alerts.ALERTS:
        out += [f"#### {alert['name']}", "", alert["description"], "",
                f"Fires when the value is `{alert['op']} {alert['threshold']}`, checked every minute.", "",
                "```sql", alert["sql"], "```", ""]
    return "\n".join(out + [END])


def main(argv: list[str]) -> int:
    text = README.read_text()
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    fresh = head + render() + tail
    if "--check" in argv:
        if fresh != text:
            print("dashboards/README.md is stale: run `python -m dashboards.reference`", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh)
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
