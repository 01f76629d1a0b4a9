"""Scoring new titles: what the warehouse holds of each new title's first hours → title_forecasts,
and the hit_forecast signal for the studio (metrics-v1, `title_forecasts`; docs/forecast.md).

    title_metrics_1m_rollup, titles ──warehouse/queries/title_forecast_features.sql──► forecast.features
        ──► forecast/model.json: P(pays back), P(hit) ──► title_forecasts_log (the title_forecasts view)
        ──P(hit) first at the model's threshold──► drama.signals (kind hit_forecast)

One clock, event time: a moment `as_of` on the FORECAST_PERIOD_S grid is due once every partition
has written metrics up to it, but for a partition more than IDLE behind the newest, which is not
waited for (so a live score lags by IDLE at most). Each due moment scores every original title
launched in the 7 days before it, from the same query and model the evaluation (python -m forecast
evaluate) uses; nothing a simulator adds (sim_*) is read. A worker that starts goes on from the
newest moment scored; on a warehouse never scored, it scores the last week's moments and, before
that, each title's 24-hour moment (Scorer.due), a day of moments at a time. Only the leader scores.

A signal is sent before its row is written: a worker that dies between the two sends it again
(the same signal_id, `hit-<title>`), never not at all. A title whose features cannot be scored is
logged and left out of that moment; a failed check is retried on the next. The leader's /health
says so (streams/progress.py): retrying while a check fails, stalled once no moment was scored
and no check finished for 30 s (a check that keeps failing or hangs, or no model at all).
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta

import orjson

from forecast import features
from forecast.model import MODEL, Forecast
from infra.settings import Settings
from streams.app import SETTINGS, app
from streams.progress import in_thread, progress
from streams.trends import send_signal
from warehouse.client import connect
from warehouse.sink import ClickHouseSink

log = logging.getLogger(__name__)
FIRST_DAYS = 7                      # a title is scored in its first week
BACKFILL_DAYS = 40                  # a first start scores the past back to the launches whose 30 days are known
MOMENTS_PER_CHECK = 144             # a day of moments at the default period: a long past catches up in steps
IDLE = timedelta(minutes=15)        # a partition this far behind the newest is idle: not waited for
SHOWN = ("hook_rate", "completion", "pay_through")     # features kept beside the scores, for Hit watch
HOURS_SCORED = FIRST_DAYS * 24


def ceil_to(moment: datetime, period: timedelta) -> datetime:
    """The first moment on the grid at or after `moment`."""
    epoch = datetime(1970, 1, 1)
    return epoch - (epoch - moment) // period * period


def forecast_row(row: dict, vector: list[float], as_of: datetime, p_payback: float | None, p_hit: float | None,
                 version: str, crossed: bool) -> dict:
    """A title's row of title_forecasts_log: its scores and, for Hit watch, a few of what they came from."""
    return {"title_id": row["title_id"], "as_of": as_of, "hours_since_launch": float(row["hours_since_launch"]),
            "p_payback": p_payback, "p_hit": p_hit, "model_version": version, "viewers": int(row["viewers"] or 0),
            "revenue_usd": float((row["iap_revenue"] or 0) + (row["ad_revenue"] or 0)),
            **{name: float(vector[features.FEATURES.index(name)]) for name in SHOWN},
            "hit_signal": int(crossed)}


class Scorer:
    """Due moments, their scores, the rows and signals. `connect_to` and `forecast` are handed in
    (tests give their own database and model); `write` is the title_forecasts_log sink's."""

    def __init__(self, settings: Settings, forecast: Forecast, connect_to: Callable[[], object] | None = None,
                 sink: ClickHouseSink | None = None):
        self.period = timedelta(seconds=settings.forecast_period_s)
        self.forecast = forecast
        self.connect = connect_to or (lambda: connect(settings))
        self.sink = sink or ClickHouseSink(settings, "title_forecasts_log", self.connect)
        self.signalled: set[str] | None = None           # titles whose hit_forecast was sent
        self.failures = 0                                 # titles left out of a moment since the start

    def clock(self, client) -> datetime | None:
        """The event time up to which every moving partition has written its metrics."""
        newest = [at for (at,) in client.execute(
            "SELECT max(window_start) FROM title_metrics_1m_parts GROUP BY src_topic, src_partition") if at.year > 2000]
        if not newest:
            return None
        return min(at for at in newest if at >= max(newest) - IDLE)

    def due(self, client) -> list[datetime]:
        """The moments to score now, oldest first, after the newest scored and up to the clock: every
        moment of the last FIRST_DAYS; before that (a first start, or a worker down for a week), only
        the moment each title launched in the BACKFILL_DAYS before turned 24 hours old (what Hit
        watch sets against its 30-day outcome). MOMENTS_PER_CHECK at most."""
        clock = self.clock(client)
        if clock is None:
            return []
        last, scored = client.execute("SELECT max(as_of), count() FROM title_forecasts_log")[0]
        launches = [at for (at,) in client.execute(
            "SELECT assumeNotNull(launched_at) FROM titles WHERE parent_title_id = '' AND launched_at IS NOT NULL "
            "AND assumeNotNull(launched_at) > %(since)s AND assumeNotNull(launched_at) <= %(clock)s",
            {"since": clock - timedelta(days=BACKFILL_DAYS), "clock": clock})]
        if not launches:
            return []
        week = max(ceil_to(clock - timedelta(days=FIRST_DAYS), self.period), ceil_to(min(launches), self.period))
        moments = sorted({ceil_to(at + timedelta(hours=24), self.period) for at in launches})
        moments = [m for m in moments if m < week]
        while week <= clock:
            moments.append(week)
            week += self.period
        return [m for m in moments if not scored or m > last][:MOMENTS_PER_CHECK]

    def score(self, client, as_of: datetime) -> tuple[list[dict], list[dict]]:
        """Every title in its first week at `as_of`: its row of title_forecasts_log, and the hit_forecast
        signals this moment fires."""
        if self.signalled is None:
            self.signalled = {t for (t,) in client.execute(
                "SELECT DISTINCT title_id FROM title_forecasts_log WHERE hit_signal = 1")}
        found, vectors = [], []
        for row in features.read(client, as_of, HOURS_SCORED):
            try:
                vector = features.vector(row)
                if not all(math.isfinite(x) for x in vector):
                    raise ValueError(f"a feature is not finite: {dict(zip(features.FEATURES, vector))}")
            except (ArithmeticError, ValueError, TypeError, KeyError) as e:
                self.failures += 1
                log.error("forecast: title %s at %s left out: %s", row.get("title_id"), as_of, e)
                continue
            found.append(row)
            vectors.append(vector)
        if not found:
            return [], []
        rows, signals = [], []
        for n, (row, (p_payback, p_hit)) in enumerate(zip(found, self.forecast.scores(vectors))):
            crossed = p_hit is not None and p_hit >= self.forecast.threshold and row["title_id"] not in self.signalled
            rows.append(forecast_row(row, vectors[n], as_of, p_payback, p_hit, self.forecast.version, crossed))
            if crossed:
                signals.append({"kind": "hit_forecast", "signal_id": f"hit-{row['title_id']}",
                                "title_id": row["title_id"], "p_hit": p_hit, "p_payback": p_payback,
                                "as_of": as_of.isoformat() + "Z", "emitted_at": as_of.isoformat() + "Z",
                                "model_version": self.forecast.version, "threshold": self.forecast.threshold})
        return rows, signals

    def write(self, rows: list[dict]) -> int:
        return self.sink.write([[row[c] for row in rows] for c in self.sink.columns])

    def check(self, send: Callable[[dict], None], moved: Callable[..., None] = lambda *_: None) -> list[datetime]:
        """Score every due moment: signals sent (`send`), then rows written; `moved(as_of)` after each
        moment, and `moved()` at the end of a check with nothing due. The moments scored."""
        client = self.connect()
        try:
            moments = self.due(client)
            if not moments:
                moved()
            for as_of in moments:
                rows, signals = self.score(client, as_of)
                for signal in signals:
                    send(signal)
                    log.info("hit_forecast %s: P(hit) %.2f, P(pays back) %s at %s", signal["title_id"],
                             signal["p_hit"], signal["p_payback"], as_of)
                self.write(rows)
                self.signalled |= {s["title_id"] for s in signals}
                moved(as_of)
        finally:
            client.disconnect()
        return moments


def build_scorer(settings: Settings) -> Scorer | None:
    try:
        return Scorer(settings, Forecast.load())
    except (OSError, ValueError) as e:
        log.error("forecast: no model, title_forecasts is not scored: %s", e)
        return None


scorer = build_scorer(SETTINGS)
progress.forecast_starting()


@app.timer(SETTINGS.forecast_check_s)
async def score_new_titles() -> None:
    """On the leader, score the moments due (Scorer.check) off the event loop; a signal is sent from
    the loop. What it does goes to /health (progress.forecast_*)."""
    if not app.is_leader():
        progress.forecast_elsewhere()
        return
    if scorer is None:
        progress.forecast_failed(f"no model ({MODEL}): title_forecasts is not scored; `make forecast-model`")
        return
    loop = asyncio.get_running_loop()

    def send(signal: dict) -> None:
        message = orjson.dumps(signal)
        asyncio.run_coroutine_threadsafe(send_signal(signal["title_id"].encode(), message), loop).result(60)

    try:
        check = in_thread(scorer.check, send, progress.forecast_moved)
        while moments := await check():     # a past to catch up: check after check
            log.info("forecast: scored %d moment(s) up to %s", len(moments), moments[-1])
            if len(moments) < MOMENTS_PER_CHECK:
                break
    except Exception as e:  # noqa: BLE001 - the next check tries again; the worker goes on
        progress.forecast_failed(f"{type(e).__name__}: {e}"[:300])
        log.exception("forecast: a check failed; retrying in %ss", SETTINGS.forecast_check_s)
