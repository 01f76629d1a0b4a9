"""After `superset import-directory`: what the importer does not do. Run with Superset's own
Python (dashboards/provision.py does), given the plan provision.py wrote:

    python dashboards/superset_setup.py PLAN.json
    python dashboards/superset_setup.py --remove PLAN.json    # a namespace's objects, when its test ends

1. Points each imported chart's saved form data and query context at the dataset it was imported
   onto (the importer gives a chart its new dataset id but leaves the rendered one inside `params`
   and `query_context`), and tags each dashboard for its cache warm-up (dashboards/layout.py's
   WARM_TAGS, which Celery beat's schedule names).
2. The viewer role, "Drama viewer": Superset's Gamma (dashboards and charts, no SQL Lab, no
   editing) plus read access to the dashboards' database. `superset fab create-user --role
   "Drama viewer"` gives someone that role. The default namespace's plan also names the demo's
   read-only login, which gets that role alone and the plan's password.
3. The alerts of dashboards/alerts.py as Superset Alerts & Reports, owned by the admin, on the
   Loop health dashboard, delivering to the webhook; created or updated by name.

This file imports only Superset and the standard library: it runs outside the project's venv.
"""
import json
import sys

VIEWER_ROLE = "Drama viewer"
# Gamma's permissions on these views would reach SQL Lab or its saved queries; the viewer gets none.
SQL_LAB_VIEWS = {"SQLLab", "SQL Lab", "SqlLab", "Query", "SavedQuery", "TabStateView", "TableSchemaView",
                 "Query Search", "Saved Queries", "SQL Editor"}


def relink(db, uuids: set) -> int:
    from superset.models.slice import Slice

    changed = 0
    for chart in db.session.query(Slice).all():
        if str(chart.uuid) not in uuids:
            continue
        params = json.loads(chart.params or "{}")
        params["datasource"] = f"{chart.datasource_id}__{chart.datasource_type}"
        chart.params = json.dumps(params)
        # its saved query context: what the cache warm-up asks for, on this dataset, as this chart
        # (whose cache_timeout Superset applies only to queries that name the chart)
        context = json.loads(chart.query_context or "null")
        if context:
            context["datasource"] = {"id": chart.datasource_id, "type": chart.datasource_type}
            context["form_data"].update(datasource=params["datasource"], slice_id=chart.id)
            chart.query_context = json.dumps(context)
        changed += 1
    return changed


def warm_tags(db, tags: dict) -> str:
    """Tag each dashboard (by UUID) with its warm-up tag, and only that one of them: Celery beat's
    cache-warmup (strategy dashboard_tags) re-runs a tagged dashboard's charts on the tag's schedule."""
    from superset.models.dashboard import Dashboard
    from superset.tags.models import ObjectType, Tag, TaggedObject, TagType

    for name in sorted(set(tags.values())):
        if db.session.query(Tag).filter_by(name=name).one_or_none() is None:
            db.session.add(Tag(name=name, type=TagType.custom))
    db.session.flush()
    by_name = {tag.name: tag for tag in db.session.query(Tag).filter(Tag.name.in_(set(tags.values()))).all()}
    for dashboard in db.session.query(Dashboard).filter(Dashboard.uuid.in_(list(tags))).all():
        untag(db, [dashboard.id])
        db.session.add(TaggedObject(tag_id=by_name[tags[str(dashboard.uuid)]].id, object_id=dashboard.id,
                                    object_type=ObjectType.dashboard))
    return f"{len(tags)} dashboards tagged for warm-up"


def untag(db, dashboard_ids: list) -> None:
    from superset.tags.models import ObjectType, TaggedObject

    db.session.query(TaggedObject).filter(TaggedObject.object_type == ObjectType.dashboard,
                                          TaggedObject.object_id.in_(dashboard_ids)).delete(synchronize_session=False)


def prune(db, dashboards: list, charts: set) -> int:
    """Charts on the provisioned dashboards that the code no longer has (the importer only adds)."""
    from superset.models.dashboard import Dashboard

    removed = 0
    for dashboard in db.session.query(Dashboard).filter(Dashboard.uuid.in_(dashboards)).all():
        for chart in list(dashboard.slices):
            if str(chart.uuid) not in charts:
                dashboard.slices.remove(chart)
                db.session.delete(chart)
                removed += 1
    return removed


def viewer_role(db, database_name: str) -> str:
    from superset import security_manager as sm
    from superset.models.core import Database

    gamma = sm.find_role("Gamma")
    role = sm.find_role(VIEWER_ROLE) or sm.add_role(VIEWER_ROLE)
    for permission in gamma.permissions:
        if permission not in role.permissions and permission.view_menu.name not in SQL_LAB_VIEWS:
            role.permissions.append(permission)
    database = db.session.query(Database).filter_by(database_name=database_name).one()
    access = sm.add_permission_view_menu("database_access", database.perm)
    if access not in role.permissions:
        role.permissions.append(access)
    sql_lab = [str(p) for p in role.permissions if p.view_menu.name in SQL_LAB_VIEWS]
    if sql_lab:
        raise SystemExit(f"the role {VIEWER_ROLE} would reach SQL Lab through {sql_lab}")
    return f"role {VIEWER_ROLE!r}: Gamma and {database.perm}"


def viewer_user(plan: dict) -> str:
    """The demo's read-only login (the default namespace's plan only): the viewer role and nothing
    else, and the password of the plan, whatever the user had before."""
    from superset import security_manager as sm

    viewer = plan.get("viewer")
    if not viewer:
        return "no viewer login (a test namespace makes its own)"
    role, user = sm.find_role(VIEWER_ROLE), sm.find_user(username=viewer["username"])
    if user is None:
        sm.add_user(viewer["username"], "Ops", "Viewer", f"{viewer['username']}@localhost", role,
                    password=viewer["password"])
    else:
        user.roles = [role]
        sm.reset_password(user.id, viewer["password"])
    return f"viewer login {viewer['username']!r}: role {VIEWER_ROLE!r} only"


def alerts(db, plan: dict) -> str:
    from flask import current_app
    from superset import security_manager as sm
    from superset.models.core import Database
    from superset.models.dashboard import Dashboard
    from superset.reports.models import ReportRecipients, ReportSchedule

    admin = sm.find_user(username=current_app.config.get("DRAMA_ADMIN_USER", "admin"))
    database = db.session.query(Database).filter_by(database_name=plan["database"]).one()
    dashboard = db.session.query(Dashboard).filter_by(uuid=plan["dashboards"][0]).one()
    for alert in plan["alerts"]:
        schedule = db.session.query(ReportSchedule).filter_by(name=alert["name"], type="Alert").one_or_none()
        if schedule is None:
            schedule = ReportSchedule(name=alert["name"], type="Alert")
            db.session.add(schedule)
        schedule.description = alert["description"]
        schedule.sql = alert["sql"]
        schedule.database = database
        schedule.dashboard = dashboard
        schedule.crontab = alert["crontab"]
        schedule.timezone = "UTC"
        schedule.creation_method = "alerts_reports"
        schedule.report_format = "PNG"
        schedule.validator_type = "operator"
        schedule.validator_config_json = json.dumps({"op": alert["op"], "threshold": alert["threshold"]})
        schedule.grace_period = alert["grace_period"]
        schedule.working_timeout = 120
        schedule.log_retention = 7
        schedule.active = alert["active"]
        schedule.owners = [admin]
        for old in list(schedule.recipients):
            db.session.delete(old)
        schedule.recipients = [ReportRecipients(type="Webhook",
                                                recipient_config_json=json.dumps({"target": alert["webhook"]}))]
    active = sum(1 for alert in plan["alerts"] if alert["active"])
    return f"{len(plan['alerts'])} alerts ({active} active)"


def remove(db, plan: dict) -> str:
    """Everything provisioned for a plan: its alerts, dashboards, charts, datasets and database, in
    the caller's one transaction; removing what is already gone removes nothing.

    Alerts go first, as Superset's API deletes them (ReportScheduleDAO.delete: the ORM takes their
    execution logs, recipients and owners along), but only once their rows are locked: the Celery
    worker logs each run in its own transaction, and a log committed between reading the logs and
    deleting the alert broke Postgres's foreign key (SQLite never checked it). Under the lock a run's
    log waits for this transaction, and then finds its alert gone."""
    from sqlalchemy import and_, or_
    from superset.connectors.sqla.models import SqlaTable
    from superset.daos.report import ReportScheduleDAO
    from superset.databases.ssh_tunnel.models import SSHTunnel
    from superset.models.core import Database
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice
    from superset.models.sql_lab import Query, SavedQuery
    from superset.reports.models import ReportSchedule

    database = db.session.query(Database).filter_by(database_name=plan["database"]).one_or_none()
    datasets = (db.session.query(SqlaTable).filter_by(database_id=database.id).all()
                if database is not None else [])
    dashboards = db.session.query(Dashboard).filter(Dashboard.uuid.in_(plan["dashboards"])).all()
    charts = db.session.query(Slice).filter(or_(
        Slice.uuid.in_(plan["charts"]),
        and_(Slice.datasource_type == "table", Slice.datasource_id.in_([d.id for d in datasets])))).all()

    # The namespace's alerts: by name, and any other on its database, dashboards or charts.
    owned = [ReportSchedule.name.in_([a["name"] for a in plan["alerts"]]),
             ReportSchedule.dashboard_id.in_([d.id for d in dashboards]),
             ReportSchedule.chart_id.in_([c.id for c in charts])]
    if database is not None:
        owned.append(ReportSchedule.database_id == database.id)
    schedules = (db.session.query(ReportSchedule).filter(or_(*owned))
                 .order_by(ReportSchedule.id).with_for_update().populate_existing().all())
    ReportScheduleDAO.delete(schedules)
    db.session.flush()

    untag(db, [d.id for d in dashboards])
    for row in (*dashboards, *charts):
        db.session.delete(row)
    db.session.flush()
    if database is not None:
        for model, column in ((Query, Query.database_id), (SavedQuery, SavedQuery.db_id),
                              (SSHTunnel, SSHTunnel.database_id)):
            db.session.query(model).filter(column == database.id).delete(synchronize_session=False)
        for dataset in datasets:
            db.session.delete(dataset)
        db.session.flush()
        db.session.delete(database)
        db.session.flush()
    counts = {"alerts": len(schedules), "dashboards": len(dashboards), "charts": len(charts),
              "datasets": len(datasets)}
    return f"removed {counts} and {'the' if database is not None else 'no'} database {plan['database']}"


def main(path: str, removing: bool = False) -> None:
    from superset.app import create_app

    plan = json.load(open(path))
    app = create_app()
    with app.app_context():
        from superset.extensions import db

        if removing:
            print(remove(db, plan))
            db.session.commit()
            return

        done = [f"relinked {relink(db, set(plan['charts']))} charts",
                f"removed {prune(db, plan['dashboards'], set(plan['charts']))} charts no longer in the code",
                warm_tags(db, plan["warm_tags"]),
                viewer_role(db, plan["database"]),
                viewer_user(plan),
                alerts(db, plan)]
        db.session.commit()
        print("; ".join(done))


if __name__ == "__main__":
    main(sys.argv[-1], removing="--remove" in sys.argv)
