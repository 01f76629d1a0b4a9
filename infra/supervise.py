"""Keep a process running: `python -m infra.supervise RESTARTS_FILE -- ARGV...`.

    launcher ──spawn──► supervise ──runs──► ARGV (the worker)
                            └─ ARGV exits non-zero or is killed ──► counted in RESTARTS_FILE, started again

The worker exits non-zero when its agent fails (streams/ingest.py), having committed nothing past
what it wrote; started again, it resumes from the last commit. A clean exit (status 0) is not
restarted. SIGTERM or SIGINT stops the child and then the supervisor, without a restart. Restarts
back off from 1 s to 30 s, and the delay starts over once the child has run for 10 s.
RESTARTS_FILE holds `<count> <unix time of the last restart> <last exit status>` (`make status`).
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

FIRST_DELAY_S, MAX_DELAY_S, STEADY_S = 1.0, 30.0, 10.0


def record(path: Path, count: int, status: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{count} {time.time():.0f} {status}\n")


def read_restarts(path: Path) -> tuple[int, float, int]:
    """(restarts, when the last one was, the exit status that caused it); zeros when none."""
    try:
        count, at, status = path.read_text().split()
        return int(count), float(at), int(status)
    except (OSError, ValueError):
        return 0, 0.0, 0


def supervise(restarts: Path, argv: list[str]) -> int:
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame):  # noqa: ARG001
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    record(restarts, 0, 0)
    count, delay = 0, FIRST_DELAY_S
    while True:
        started = time.monotonic()
        child = subprocess.Popen(argv)
        status = child.wait()
        if stopping or status == 0:
            return status if status >= 0 else 128 - status
        count += 1
        record(restarts, count, status)
        if time.monotonic() - started > STEADY_S:
            delay = FIRST_DELAY_S
        print(f"supervise: {argv[0]} exited with status {status}; restart {count} in {delay:.0f}s",
              file=sys.stderr, flush=True)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not stopping:
            time.sleep(0.1)
        if stopping:
            return 0
        delay = min(delay * 2, MAX_DELAY_S)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m infra.supervise RESTARTS_FILE -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return supervise(Path(argv[0]), argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
