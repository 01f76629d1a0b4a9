"""Point each imported chart's saved query at the dataset it was imported onto.

Run with Superset's own Python after `superset import-directory` (dashboards/provision.py does).
The importer gives a chart its new dataset id but leaves the exported id inside the chart's
saved `query_context` and `params`, which the chart data API, reports and thumbnails use.

    python dashboards/relink.py UUID [UUID ...]
"""
import json
import sys


def relink(uuids: set[str]) -> int:
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.extensions import db
        from superset.models.slice import Slice

        changed = 0
        for chart in db.session.query(Slice).all():
            if str(chart.uuid) not in uuids:
                continue
            uid = f"{chart.datasource_id}__{chart.datasource_type}"
            params = json.loads(chart.params or "{}")
            params["datasource"] = uid
            chart.params = json.dumps(params)
            if chart.query_context:
                context = json.loads(chart.query_context)
                context["datasource"] = {"id": chart.datasource_id, "type": chart.datasource_type}
                if "form_data" in context:
                    context["form_data"]["datasource"] = uid
                chart.query_context = json.dumps(context)
            changed += 1
        db.session.commit()
        return changed


if __name__ == "__main__":
    print(f"relinked {relink(set(sys.argv[1:]))} charts")
