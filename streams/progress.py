"""What the worker has done (GET /health, `make status`), and how it retries: never skipping.

    retry(what, attempt) ── await attempt() until it succeeds, backing off ──► progress.retrying
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone

RETRY_MAX_SECONDS = 30.0
STALLED_AFTER_S = 30.0        # messages in flight and no batch finished for this long: "stalled"
log = logging.getLogger(__name__)


class Progress:
    """Batches and messages done, the batch in flight, and what is being retried if anything."""

    def __init__(self, stalled_after_s: float = STALLED_AFTER_S):
        self.started = datetime.now(timezone.utc)
        self.batches = 0
        self.messages = 0
        self._in_flight = 0                   # messages taken and not yet written, 0 when idle
        self.moved_at = time.monotonic()      # the last batch finished, or work arrived while idle
        self.stalled_after_s = stalled_after_s
        self.last_batch_at: datetime | None = None
        self.retrying: str = ""
        self.seconds: dict[str, float] = {}   # where the agent's time went: fetches, preparing, writes

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        if self._in_flight <= 0 < value:
            self.moved_at = time.monotonic()  # idle until now: the stall clock starts here
        self._in_flight = value

    def status(self) -> str:
        """ok; retrying (a write or read is being retried: the reason is in `retrying`); stalled
        (messages in flight and no batch finished for stalled_after_s, whatever the reason)."""
        if self._in_flight > 0 and time.monotonic() - self.moved_at > self.stalled_after_s:
            return "stalled"
        return "retrying" if self.retrying else "ok"

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
        return {"status": self.status(), "retrying": self.retrying,
                "stalled_for_s": round(time.monotonic() - self.moved_at, 1) if self._in_flight > 0 else 0.0,
                "started": self.started.isoformat(), "batches": self.batches, "messages": self.messages,
                "in_flight": self.in_flight, "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "last_batch_at": self.last_batch_at.isoformat() if self.last_batch_at else None}


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
