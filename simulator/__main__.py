"""`python -m simulator`: a realistic, deterministic short-drama stream into Kafka (or a file).

    python -m simulator --rate 200                     # live, real time, until stopped
    python -m simulator --history-days 32 --users-per-day 1500   # 32 days ending now at full speed, then live
    python -m simulator --day-minutes 10 --hours 24    # a simulated day every 10 minutes, one day
    python -m simulator --file day.ndjson --hours 24   # no Kafka: NDJSON as fast as it goes
    python -m simulator --duplicates 0.01 --late 0.002 --out-of-order 0.02 --malformed 0.005
    python -m simulator report                         # the calibration report on the warehouse
    python -m simulator lifetime --users-per-day 2000  # the hit's year, sampled days (see CALIBRATION.md)
    python -m simulator slate --seed 3 --file s3.ndjson --truth s3.json   # a release slate and its outcomes

The same --seed and --start give the same stream. The studio (on by default in live mode)
reads drama.signals and answers each re-create signal with a derivative title.
"""
from __future__ import annotations

import argparse
import heapq
import queue
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import orjson

from infra.settings import load
from simulator import report
from simulator.calibration import LIFETIME_SAMPLE_AGES, STUDIO_REPEAT_DAYS, TRUTH_DAYS
from simulator.world import Cohort, Emission, Faults, World

EVENTS_PER_USER = 109          # measured: python -m simulator --file /dev/null --hours 24 (see CALIBRATION.md)


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def arguments(argv):
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", default="run", choices=["run", "report", "lifetime", "slate"],
                   help="run: the stream; report: the calibration report on the warehouse; lifetime: the hit's "
                        "year as sampled days, as fast as it goes (--users-per-day, default 2000); slate: new titles "
                        "launched over --slate-days, their events' first --hours-seen to --file and every title's "
                        "30-day outcome to --truth (the forecast's data, docs/forecast.md)")
    p.add_argument("--rate", type=float, default=50.0, help="events per wall-clock second (live mode; default 50)")
    p.add_argument("--day-minutes", type=float, default=1440.0,
                   help="wall-clock minutes per simulated day (default 1440: real time)")
    p.add_argument("--hours", type=float, default=0.0, help="simulated hours to run (0: until stopped)")
    p.add_argument("--events", type=int, default=0, help="stop after this many messages (0: no limit)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", type=parse_time, default=None,
                   help="simulated start time, RFC 3339 (default: now, to the second)")
    p.add_argument("--users-per-day", type=float, default=0.0,
                   help="new users per simulated day (default: what --rate and --day-minutes imply)")
    p.add_argument("--duplicates", type=float, default=0.0, help="share of events resent with the same event_id")
    p.add_argument("--late", type=float, default=0.0, help="share of events delayed beyond the allowed lateness")
    p.add_argument("--out-of-order", type=float, default=0.0, help="share of events delayed up to ten minutes")
    p.add_argument("--malformed", type=float, default=0.0, help="malformed messages added, per event")
    p.add_argument("--file", help="write NDJSON (the golden set's format) here instead of sending to Kafka")
    p.add_argument("--no-studio", action="store_true", help="do not answer re-create signals")
    p.add_argument("--history-days", type=float, default=0.0,
                   help="start this many days ago and send that past as fast as it goes (the studio answering "
                        "signals), then go on live in real time, one world throughout (the demo's past)")
    p.add_argument("--progress-file", help="keep the run's progress here as JSON (phase, sent, simulated time), "
                                           "for the launcher's progress bar")
    p.add_argument("--app-id", default="reelshort-like")
    p.add_argument("--slate-days", type=float, default=8.0, help="slate: days over which new titles launch")
    p.add_argument("--slate-per-day", type=float, default=None,
                   help="new original titles launched a day (slate: 3 by default; run: 0, the calibrated catalog only)")
    p.add_argument("--hours-seen", type=float, default=48.0, help="slate: hours after each launch written to --file")
    p.add_argument("--truth", help="slate: where each title's 30-day outcome goes (JSON)")
    return p.parse_args(argv)


class Progress:
    """A live line on a terminal; a line every ten seconds in a log. With a past to send first
    (--history-days), how much of it is sent; `file` keeps the same as JSON (the launcher draws a bar)."""

    def __init__(self, history: tuple[datetime, datetime] | None = None, file: str | None = None):
        self.started = time.monotonic()
        self.shown = 0.0
        self.tty = sys.stdout.isatty()
        self.history = history
        self.file = Path(file) if file else None
        self.logged = 0.0

    def show(self, sent: int, sim_time: datetime, errors: int, derived: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.shown < (0.5 if self.tty else (1.0 if self.file else 10.0)):
            return
        log_due = final or self.tty or now - self.logged >= 10.0
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        line = (f"{sent:,} messages, {sent / elapsed:,.0f}/s | simulated {sim_time:%Y-%m-%d %H:%M:%S}Z | "
                f"sequels {derived} | send errors {errors}")
        phase, done = "live", 1.0
        if self.history and sim_time < self.history[1]:
            phase = "history"
            done = max(0.0, (sim_time - self.history[0]) / (self.history[1] - self.history[0]))
            line = f"the past: {done:4.0%} | " + line
        if self.file:
            self.file.write_text(orjson.dumps({"phase": phase, "done": done, "sent": sent,
                                               "simulated": sim_time.isoformat(), "errors": errors,
                                               "sequels": derived}).decode())
        if log_due:
            self.logged = now
            print(("\r" + line) if self.tty else line, end="\n" if final or not self.tty else "", flush=True)


def studio(settings, signals: queue.Queue, stop: threading.Event) -> None:
    """Read drama.signals; the main loop answers each re-create signal with a title, and each hit_forecast
    with the title's teaser budget (World.answer_forecast). A signal without `kind` is a re-create one."""
    from kafka import KafkaConsumer
    consumer = KafkaConsumer(settings.topic("drama.signals"), bootstrap_servers=settings.kafka_bootstrap,
                             group_id=f"studio{'-' + settings.namespace if settings.namespace else ''}",
                             auto_offset_reset="latest", consumer_timeout_ms=500)
    try:
        while not stop.is_set():
            for message in consumer:
                try:
                    signal = orjson.loads(message.value)
                    signals.put((signal.get("kind") or "recreate", signal["title_id"], signal["signal_id"], signal))
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    print(f"studio: ignoring a signal it cannot read: {message.value[:200]!r}", file=sys.stderr)
    finally:
        consumer.close()


def horizon(seed: int, launch: datetime, users_per_day: float, app_id: str) -> Iterator[Emission]:
    """The hit's year as sampled days (LIFETIME_SAMPLE_AGES): each day's newcomers, arriving between
    00:15 and 23:45 UTC so that their first day is one date, followed through their whole life, in
    one stream in time order. The catalog comes once, with the first day."""
    day = launch.replace(hour=0, minute=15, second=0, microsecond=0)
    worlds = [World(seed=seed, start=day + timedelta(days=age), users_per_day=users_per_day, app_id=app_id,
                    cohort=Cohort(f"a{age}", age, catalog=n == 0, days=23.5 / 24))
              for n, age in enumerate(LIFETIME_SAMPLE_AGES)]
    return heapq.merge(*(w.stream() for w in worlds), key=lambda e: e.emit_time)


def report_failures(failures: list) -> int:
    """Say which events Kafka did not take (the first few of each flush); how many."""
    for failure in failures[:5]:
        print(f"\nsend error: {failure.event_id} on {failure.topic}: {failure.error}", file=sys.stderr, flush=True)
    return len(failures)


def run(args) -> int:
    settings = load()
    compression = 1440.0 / args.day_minutes                   # simulated seconds per wall second
    users_per_day = args.users_per_day or max(1.0, args.rate * 86400 / (compression * EVENTS_PER_USER))
    start = args.start or datetime.now(timezone.utc).replace(microsecond=0)
    history = None
    if args.history_days:
        if args.command != "run" or args.day_minutes != 1440.0 or args.hours or args.file:
            raise SystemExit("--history-days goes with a live run in real time: no --file, --hours or --day-minutes")
        history = (start - timedelta(days=args.history_days), start)
        start = history[0]
    if args.command == "lifetime" and args.start is None:
        start -= timedelta(days=LIFETIME_SAMPLE_AGES[-1] + 2)          # the year ends yesterday
    if args.command == "lifetime":
        compression = float("inf")
        world = None
        emissions = horizon(args.seed, start, args.users_per_day or 2000.0, args.app_id)
    else:
        world = World(seed=args.seed, start=start, users_per_day=users_per_day, app_id=args.app_id,
                      faults=Faults(args.duplicates, args.late, args.out_of_order, args.malformed),
                      slate_per_day=args.slate_per_day or 0.0)
        emissions = world.stream(start + timedelta(hours=args.hours) if args.hours else None)
    progress, sent, errors = Progress(history, args.progress_file), 0, 0
    signals: queue.Queue = queue.Queue()
    stop = threading.Event()
    if args.file:
        out = open(args.file, "wb")
        sink = None
    else:
        from producer import EventProducer
        sink = EventProducer(settings)
        if not args.no_studio and world is not None:
            threading.Thread(target=studio, args=(settings, signals, stop), daemon=True).start()
    wall_start = time.monotonic()
    derived = 0
    try:
        for emission in emissions:
            if sink is not None:
                if history:    # the past as fast as it goes, then real time: never ahead of the clock
                    ahead = (emission.emit_time - datetime.now(timezone.utc)).total_seconds()
                else:
                    ahead = (emission.emit_time - start).total_seconds() / compression - (time.monotonic() - wall_start)
                if ahead > 0:
                    time.sleep(ahead)
                sink.send_raw(emission.topic, emission.key, emission.value, emission.event_type)
                while world is not None and not signals.empty():
                    kind, parent, signal_id, signal = signals.get()
                    if kind == "hit_forecast":
                        budget = world.answer_forecast(parent, signal.get("p_payback"), signal.get("p_hit"),
                                                       signal.get("threshold", 0.5))
                        print(f"\nstudio: hit_forecast {signal_id} (P(hit) {signal.get('p_hit')}) → teaser budget "
                              f"{budget if budget is not None else 'unchanged (not a title of this run)'}", flush=True)
                        continue
                    if kind != "recreate":
                        continue
                    title = world.answer_signal(parent, signal_id)
                    if title is None:
                        print(f"\nstudio: signal {signal_id} on {parent} noted: it has a sequel from the last "
                              f"{STUDIO_REPEAT_DAYS} days", flush=True)
                        continue
                    derived += 1
                    print(f"\nstudio: signal {signal_id} on {parent} → sequel {title.title_id} ({title.origin}, "
                          f"{title.episodes} episodes)", flush=True)
            else:
                out.write(emission.line())
            sent += 1
            if sink is not None and sent % 5000 == 0:
                errors += report_failures(sink.flush())
            progress.show(sent, emission.emit_time, errors, derived)
            if args.events and sent >= args.events:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if sink is not None:
            errors += report_failures(sink.flush())
            sink.close()
        else:
            out.close()
        progress.show(sent, world.now if world else start, errors, derived, final=True)
    return 1 if errors else 0


def slate(args) -> int:
    """New titles launched over --slate-days, followed TRUTH_DAYS past the last launch: the events of
    each title's first --hours-seen (and its content events) to --file, as NDJSON; every title's
    outcome to --truth. The truth goes only to its file: the events carry no appeal and no label."""
    if not args.file or not args.truth:
        raise SystemExit("slate needs --file (the events) and --truth (the outcomes)")
    start = args.start or datetime(2026, 1, 5, tzinfo=timezone.utc)
    world = World(seed=args.seed, start=start, users_per_day=args.users_per_day or 1000.0, app_id=args.app_id,
                  slate_per_day=3.0 if args.slate_per_day is None else args.slate_per_day,
                  slate_until=start + timedelta(days=args.slate_days))
    until = start + timedelta(days=args.slate_days + TRUTH_DAYS + 1)
    seen = timedelta(hours=args.hours_seen)
    progress, kept, sent = Progress(), 0, 0
    with open(args.file, "wb") as out:
        for emission in world.stream(until):
            sent += 1
            progress.show(sent, emission.emit_time, 0, 0)
            if not emission.event_type or '"title_id"' not in emission.value.decode("utf-8", "replace")[:400]:
                continue
            event = orjson.loads(emission.value)
            title = world.slate_titles.get(event.get("title_id", ""))
            if title is None or parse_time(event["event_time"]) >= title.launched_at + seen:
                continue
            kept += 1
            out.write(emission.line())
    outcomes = [t for t in world.truth(until) if t["complete"]]
    Path(args.truth).write_bytes(orjson.dumps({"seed": args.seed, "users_per_day": world.users_per_day,
                                               "hours_seen": args.hours_seen, "titles": outcomes},
                                              option=orjson.OPT_INDENT_2))
    progress.show(sent, until, 0, 0, final=True)
    print(f"slate: {len(outcomes)} titles, {sum(t['pays_back'] for t in outcomes)} pay back, "
          f"{sum(t['hit'] for t in outcomes)} hits; {kept:,} of {sent:,} events kept in {args.file}")
    return 0


def main(argv=None) -> int:
    args = arguments(argv)
    if args.command == "slate":
        return slate(args)
    if args.command == "report":
        found = report.from_warehouse(load())
        print(report.render(found))
        return 0 if report.passed(found) else 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
