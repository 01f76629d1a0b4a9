"""What the worker has done (GET /health, `make status`), and how it retries: never skipping.

    retry(what, attempt) ── await attempt() until it succeeds, backing off ──► progress.retrying
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

RETRY_MAX_SECONDS = 30.0
STALLED_AFTER_S = 30.0        # work waiting (in flight or lag) and no batch finished for this long: "stalled"
log = logging.getLogger(__name__)


class Progress:
    """Batches and messages done, the batch in flight, and what is being retried if anything."""

    def __init__(self, stalled_after_s: float = STALLED_AFTER_S):
        self.started = datetime.now(timezone.utc)
        self.batches = 0
        self.messages = 0
        self._in_flight = 0                   # messages taken and not yet written, 0 when idle
        self._lag = 0                         # messages in Kafka past the group's commits (measure_lag)
        self.lag_checked_at: datetime | None = None
        self.kafka_error = ""                 # why Kafka's end offsets could not be read, if so
        self.kafka_failing_since: float | None = None
        self.moved_at = time.monotonic()      # the last batch finished, or work arrived while idle
        self.stalled_after_s = stalled_after_s
        self.last_batch_at: datetime | None = None
        self.retrying: str = ""
        self.seconds: dict[str, float] = {}   # where the agent's time went: fetches, preparing, writes
        # the hit forecast's scorer (streams/forecasts.py): it runs on the leader only
        self.forecast_role = "off"            # starting | scoring (the leader) | elsewhere (another leads)
        self.forecast_moved_at = time.monotonic()   # the last moment scored, or check finished
        self.forecast_error = ""              # why the last check failed, if it did
        self.forecast_scored_to: datetime | None = None

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        self._work_arrives(value)
        self._in_flight = value

    def _work_arrives(self, amount: int) -> None:
        if not self.waiting and amount > 0:
            self.moved_at = time.monotonic()  # idle until now: the stall clock starts here

    @property
    def lag(self) -> int:
        return self._lag

    def lag_measured(self, lag: int) -> None:
        """Kafka's end offsets less the group's commits, over the worker's partitions. A consumer
        that stopped fetching while its topics grow has nothing in flight: its lag shows it."""
        self._work_arrives(lag)
        self._lag = lag
        self.lag_checked_at = datetime.now(timezone.utc)
        self.kafka_error, self.kafka_failing_since = "", None

    def lag_failed(self, reason: str) -> None:
        """Kafka did not answer for its end offsets: nothing can be said to move."""
        self.kafka_error = reason
        if self.kafka_failing_since is None:
            self.kafka_failing_since = time.monotonic()

    @property
    def waiting(self) -> bool:
        """Work that a batch should finish: messages in flight, or in Kafka past the commits."""
        return self._in_flight > 0 or self._lag > 0

    def forecast_starting(self) -> None:
        """This worker runs the scorer's timer: from now on, it must move (or say it is elsewhere)."""
        self.forecast_role, self.forecast_moved_at = "starting", time.monotonic()

    def forecast_moved(self, scored_to: datetime | None = None) -> None:
        """The scorer finished a moment, or a check with nothing due: title_forecasts moves."""
        self.forecast_role, self.forecast_error = "scoring", ""
        self.forecast_moved_at = time.monotonic()
        self.forecast_scored_to = scored_to or self.forecast_scored_to

    def forecast_failed(self, reason: str) -> None:
        """A check of the scorer failed (or it cannot run at all): retried at the next check."""
        self.forecast_role, self.forecast_error = "scoring", reason

    def forecast_elsewhere(self) -> None:
        """This worker is not the leader: another one scores, and its own /health says how."""
        self.forecast_role, self.forecast_error = "elsewhere", ""
        self.forecast_moved_at = time.monotonic()

    def forecast_stalled_for(self) -> float:
        """Seconds since the scorer last moved (a moment scored, a check done); 0 on a non-leader,
        or in a process without the scorer."""
        if self.forecast_role in ("off", "elsewhere"):
            return 0.0
        return time.monotonic() - self.forecast_moved_at

    def stalled_for(self) -> float:
        """Seconds that work has waited with no batch finished (or Kafka has not answered)."""
        now = time.monotonic()
        waited = now - self.moved_at if self.waiting else 0.0
        unanswered = now - self.kafka_failing_since if self.kafka_failing_since is not None else 0.0
        return max(waited, unanswered)

    def status(self) -> str:
        """ok; retrying (a write or read is being retried, Kafka does not answer, or the hit
        forecast's check failed: the reason is in `retrying`); stalled (work waiting, in flight or
        as lag, and no batch finished for stalled_after_s, or Kafka silent for as long, or the
        leader's scorer not moving for as long, whatever the reason)."""
        if max(self.stalled_for(), self.forecast_stalled_for()) > self.stalled_after_s:
            return "stalled"
        return "retrying" if self.retrying or self.kafka_error or self.forecast_error else "ok"

    def spent(self, **seconds: float) -> None:
        for name, value in seconds.items():
            self.seconds[name] = self.seconds.get(name, 0.0) + value

    def batch_done(self, messages: int) -> None:
        self.batches += 1
        self.messages += messages
        self._in_flight -= messages
        self.moved_at = time.monotonic()
        self.last_batch_at = datetime.now(timezone.utc)

    def as_dict(self) -> dict:
        forecast_error = f"hit forecast: {self.forecast_error}" if self.forecast_error else ""
        return {"status": self.status(),
                "retrying": "; ".join(filter(None, (self.retrying, self.kafka_error, forecast_error))),
                "stalled_for_s": round(self.stalled_for(), 1), "stalled_after_s": self.stalled_after_s,
                "started": self.started.isoformat(), "batches": self.batches, "messages": self.messages,
                "in_flight": self.in_flight, "lag": self.lag,
                "lag_checked_at": self.lag_checked_at.isoformat() if self.lag_checked_at else None,
                "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None,
                "forecast": {"role": self.forecast_role, "stalled_for_s": round(self.forecast_stalled_for(), 1),
                             "error": self.forecast_error,
                             "scored_to": self.forecast_scored_to.isoformat() if self.forecast_scored_to else None}}


progress = Progress()


def _backoff(what: str, error: Exception, delay: float) -> float:
    """Say what failed (on /health and in the log); the next delay."""
    progress.retrying = f"{what}: {error}"
    log.warning("%s failed (%s); retrying in %.1fs", what, error, delay)
    return min(delay * 2, RETRY_MAX_SECONDS)


async def retry(what: str, attempt):
    """Await attempt() until it succeeds, backing off up to RETRY_MAX_SECONDS: nothing is skipped."""
    delay = 0.5
    while True:
        try:
            result = await attempt()
            progress.retrying = ""
            return result
        except Exception as error:  # noqa: BLE001 - every failure is retried, never acknowledged
            next_delay = _backoff(what, error, delay)
            await asyncio.sleep(delay)
            delay = next_delay


def retry_blocking(what: str, attempt):
    """retry() for a thread that must not return before `attempt()` succeeds."""
    delay = 0.5
    while True:
        try:
            result = attempt()
            progress.retrying = ""
            return result
        except Exception as error:  # noqa: BLE001 - every failure is retried, never skipped
            next_delay = _backoff(what, error, delay)
            time.sleep(delay)
            delay = next_delay


def in_thread(blocking, *args):
    """An attempt for retry(): a blocking call (clickhouse-driver) run off the event loop."""
    return lambda: asyncio.get_running_loop().run_in_executor(None, blocking, *args)
