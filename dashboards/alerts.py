"""The alerts, as code: Superset Alerts & Reports evaluate each one's SQL on the warehouse every
minute (Celery beat → worker) and post to the webhook at DRAMA_ALERT_WEBHOOK_URL when its
condition holds. Each returns one number; the condition is `op threshold` on it.

Without DRAMA_ALERT_WEBHOOK_URL the alerts are provisioned inactive (Superset lists them; set
the URL and run `make dashboards` again to turn them on).
"""
from __future__ import annotations

from urllib.parse import urlparse

from infra.settings import Settings

EVERY_MINUTE = "* * * * *"

ALERTS = (
    {"key": "freshness", "name": "Freshness lag above 60 s",
     "description": "Events arrive, but the newest in the warehouse is more than 60 s old "
                    "(warehouse/queries/freshness.sql): the worker or the producers are behind. (No events at all "
                    "is the 'No events for 5 minutes' alert.)",
     "sql": "SELECT if(count() = 0, 0, toUnixTimestamp(now()) - toUnixTimestamp(max(event_time))) AS freshness_s\n"
            "FROM events_raw WHERE event_time >= now() - 3600 AND event_time <= now() + 60",
     "op": ">", "threshold": 60},
    {"key": "rejected_share", "name": "Rejected share above 1% over 5 minutes",
     "description": "More than 1% of the messages of the last 5 minutes were rejected; the reasons are in "
                    "events_rejected and on the Loop health dashboard.",
     "sql": "SELECT ifNull(sum(rejected) / nullIf(sum(events_in), 0), 0) AS rejected_share\n"
            "FROM pipeline_health_1m WHERE window_start >= now() - 300",
     "op": ">", "threshold": 0.01},
    {"key": "paywall_conversion", "name": "A title's paywall conversion below half its 7-day level",
     "description": "Titles (with 20 paywalls or more in the last 30 minutes) whose paywall conversion over those "
                    "30 minutes is below half of their last 7 days': a broken paywall, price or unlock path.",
     "sql": "SELECT count() AS titles_below_half FROM\n"
            "(\n"
            "    SELECT title_id, sumIf(paywalls, recent = 1) AS recent_paywalls,\n"
            "           sumIf(unlocks, recent = 1) AS recent_unlocks,\n"
            "           sumIf(paywalls, recent = 0) AS week_paywalls, sumIf(unlocks, recent = 0) AS week_unlocks\n"
            "    FROM\n"
            "    (\n"
            "        SELECT title_id, 1 AS recent, paywalls_shown AS paywalls,\n"
            "               unlocks_coins + unlocks_subscription + unlocks_rewarded_ad AS unlocks\n"
            "        FROM title_metrics_1m WHERE window_start >= now() - 1800\n"
            "        UNION ALL\n"
            "        SELECT title_id, 0 AS recent, paywalls_shown AS paywalls,\n"
            "               unlocks_coins + unlocks_subscription + unlocks_rewarded_ad AS unlocks\n"
            "        FROM title_metrics_1h WHERE window_start >= now() - 7 * 86400\n"
            "    ) AS both_windows\n"
            "    GROUP BY title_id\n"
            ") AS per_title\n"
            "WHERE recent_paywalls >= 20\n"
            "  AND recent_unlocks / recent_paywalls < 0.5 * week_unlocks / nullIf(week_paywalls, 0)",
     "op": ">", "threshold": 0},
    {"key": "no_events", "name": "No events for 5 minutes",
     "description": "The worker processed no message in the last 5 minutes: producers, Kafka or the worker "
                    "are down.",
     "sql": "SELECT sum(events_in) AS events_in FROM pipeline_health_1m WHERE window_start >= now() - 300",
     "op": "==", "threshold": 0},
    {"key": "new_signal", "name": "New re-create signal",
     "description": "The platform emitted a re-create signal in the last 2 minutes: a title is surging; the "
                    "studio can answer with a derived title (Content and re-create dashboard).",
     "sql": "SELECT count() AS new_signals FROM recreate_signals_log WHERE written_at >= now() - 120",
     "op": ">", "threshold": 0, "grace_period": 90},
)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_webhook(url: str) -> str:
    """The URL if alerts may post to it: https, or http to a receiver on this machine."""
    parsed = urlparse(url)
    if url and not (parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK)):
        raise ValueError(f"DRAMA_ALERT_WEBHOOK_URL={url!r}: alerts post over https only (or http to 127.0.0.1, "
                         f"e.g. a local relay). Give an https:// URL.")
    return url


def definitions(settings: Settings) -> list[dict]:
    """The alerts for the settings' namespace (names carry it), with the webhook from the settings."""
    check_webhook(settings.alert_webhook_url)
    suffix = f" [{settings.namespace}]" if settings.namespace else ""
    return [{**alert, "name": alert["name"] + suffix, "crontab": EVERY_MINUTE,
             "grace_period": alert.get("grace_period", 900), "webhook": settings.alert_webhook_url,
             "active": bool(settings.alert_webhook_url)} for alert in ALERTS]
