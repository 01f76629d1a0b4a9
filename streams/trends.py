"""Closing the loop: live audience feedback → re-create signals for the studio.

    ingest_events ──feedback per (title, minute), each batch (streams/batch.feedback_scores)──► FEEDBACK queue
        ──► detect_surges (an app task) ──► drama.signals (for the studio) and recreate_signals_log

(A plain asyncio queue, not a Faust channel: a channel is paused with the consumer during a
rebalance, while the rebalance waits for ingest_events to finish its batch: a deadlock.)

The rule (parameters in infra/settings.py, TREND_*): a title's feedback score in one minute of
event time is a weighted count of its audience's responses (FEEDBACK_WEIGHTS in streams/batch.py). The minute
surges when its score reaches TREND_MIN_SCORE and TREND_SURGE_RATIO × the title's own
baseline, the mean score of its previous TREND_BASELINE_MINUTES minutes (minutes without
feedback count as 0; the baseline is floored at TREND_MIN_BASELINE so a new title's first
viewers are not a surge by themselves). The check runs on every batch, so a surge is
signalled seconds after the events arrive, not when the minute ends. A title gets at most one
signal per TREND_COOLDOWN_MINUTES. The signal id is derived from the title and the minute, so
a worker that restarts and sees the surge again writes the same signal (one row in the
recreate_signals view; the studio may hear it twice).

One clock: a signal's `emitted_at` is event time, the latest event time of the surging minute's
feedback when the rule fired, so a loaded or replayed past gives the same signal at the same time
and the loop's cycle times (loop_cycles: signal → script → launch → first view, all event time)
are never negative. `detected_at` is the worker's wall clock, for how fast the rule fired.
"""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import orjson

from infra.settings import Settings
from schemas.topics import SIGNALS
from streams.app import SETTINGS, app
from streams.progress import in_thread, retry
from warehouse.client import connect
from warehouse.sink import ClickHouseSink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Signal:
    signal_id: str
    title_id: str
    score: float
    baseline: float
    window_start: datetime
    at: datetime                  # event time: the latest feedback of the surging minute when the rule fired

    def reason(self, settings: Settings) -> str:
        return (f"feedback score {self.score:g} in the minute from {self.window_start:%H:%M} UTC is "
                f"{self.score / self.baseline:.1f}× the title's baseline of {self.baseline:.1f} over the previous "
                f"{settings.trend_baseline_minutes} minutes (rule: ≥ {settings.trend_surge_ratio:g}× and ≥ "
                f"{settings.trend_min_score})")


class SurgeDetector:
    """Per-title scores by minute, and the rule. Pure: no I/O, tested alone."""

    def __init__(self, settings: Settings):
        self.s = settings
        self.scores: dict = defaultdict(dict)          # title_id → {minute: score}
        self.latest: dict = defaultdict(dict)          # title_id → {minute: latest event time of its feedback}
        self.last_signal: dict = {}                     # title_id → minute signalled

    def observe(self, increments: dict) -> list[Signal]:
        """`increments`: (title_id, minute) → (score added, latest event time among it), one batch's
        (streams/batch.feedback_scores). Returns the signals this batch fires."""
        touched = set()
        for (title, window), (score, at) in increments.items():
            self.scores[title][window] = self.scores[title].get(window, 0.0) + score
            self.latest[title][window] = max(at, self.latest[title].get(window, at))
            touched.add((title, window))
        signals = [signal for title, window in sorted(touched) if (signal := self._check(title, window))]
        self._forget_old()
        return signals

    def _check(self, title: str, window: datetime) -> Signal | None:
        s = self.s
        history = self.scores[title]
        score = history[window]
        minutes = s.trend_baseline_minutes
        baseline = max(sum(history.get(window - timedelta(minutes=n), 0.0) for n in range(1, minutes + 1)) / minutes,
                       float(s.trend_min_baseline))
        last = self.last_signal.get(title)
        if score < s.trend_min_score or score < s.trend_surge_ratio * baseline:
            return None
        if last is not None and window - last < timedelta(minutes=s.trend_cooldown_minutes):
            return None
        self.last_signal[title] = window
        return Signal(f"sig-{title}-{window:%Y%m%dT%H%M}", title, score, baseline, window, self.latest[title][window])

    def _forget_old(self) -> None:
        keep = timedelta(minutes=self.s.trend_baseline_minutes + 2)
        for title, history in self.scores.items():
            if len(history) > self.s.trend_baseline_minutes + 2:
                newest = max(history)
                for window in [w for w in history if newest - w > keep]:
                    del history[window]
                    self.latest[title].pop(window, None)


FEEDBACK: asyncio.Queue = asyncio.Queue(maxsize=1000)
signals_topic = app.topic(SETTINGS.topic(SIGNALS), key_type=bytes, value_type=bytes, value_serializer="raw")
detector = SurgeDetector(SETTINGS)
signals_log = ClickHouseSink(SETTINGS, "recreate_signals_log")


def signal_row(signal: Signal, trope: str, detected_at: datetime) -> dict:
    """The signal as recreate_signals_log stores it: `emitted_at`/`emitted_ts` on the event clock,
    `detected_at` the worker's wall clock."""
    return {"signal_id": signal.signal_id, "title_id": signal.title_id, "trope": trope, "score": signal.score,
            "reason": signal.reason(SETTINGS), "emitted_at": signal.at.replace(microsecond=0),
            "emitted_ts": (signal.at - datetime(1970, 1, 1)).total_seconds(), "window_start": signal.window_start,
            "window_end": signal.window_start + timedelta(minutes=1), "detected_at": detected_at.replace(microsecond=0)}


@app.task
async def detect_surges():
    def trope_of(title_id: str) -> str:
        client = connect(SETTINGS)
        try:
            rows = client.execute("SELECT trope FROM titles WHERE title_id = %(t)s", {"t": title_id})
        finally:
            client.disconnect()
        return rows[0][0] if rows else ""

    while True:
        increments = await FEEDBACK.get()
        for signal in detector.observe(increments):
            trope = await retry("looking up a trope", in_thread(trope_of, signal.title_id))
            row = signal_row(signal, trope, datetime.now(timezone.utc).replace(tzinfo=None))
            message = {**row, "kind": "recreate", **{column: row[column].isoformat() + "Z" for column in (
                "emitted_at", "window_start", "window_end", "detected_at")}}
            columns = [[row[c]] for c in signals_log.columns]
            await retry("writing a re-create signal", in_thread(signals_log.write, columns))
            key, value = signal.title_id.encode(), orjson.dumps(message)
            await retry("sending a re-create signal", lambda: send_signal(key, value))  # noqa: B023 - awaited here
            log.info("re-create signal %s: %s", signal.signal_id, row["reason"])


async def send_signal(key: bytes, value: bytes) -> None:
    await (await signals_topic.send(key=key, value=value))
