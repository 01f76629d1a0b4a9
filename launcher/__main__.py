"""The native stack's launcher: `python -m launcher up|down|status|logs|demo|topics`.

    up       ClickHouse, Kafka (KRaft) and Superset; then topics, warehouse schema, dashboards, and the
             warehouse's maintenance (rollup reconciliation, parts retention)
    demo     `up`, then the Faust worker, the collector and the simulator, which first sends DEMO_HISTORY_DAYS
             simulated days ending now (a progress bar; DEMO_HISTORY_DAYS=0 skips it) and then goes on
             live; prints the Superset URL and login once the past is in the warehouse
    down     stops every process this project started (by PID file), apps first
    status   each service's PID and health
    logs     the last lines of each log (or `logs NAME`)
    topics   create the contract's topics (idempotent)
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time

from infra import cluster, services
from infra.process import ServiceError, tail
from infra.settings import load
from launcher import bring_up, demo, other_mode_running, stack_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "demo", "down", "status", "logs", "topics"])
    parser.add_argument("service", nargs="?", help="for `logs`: one service's log")
    parser.add_argument("--cluster", action="store_true",
                        help="the cluster mode (also DRAMA_CLUSTER=1, `make up CLUSTER=1`): 3 Kafka brokers, "
                             "ZooKeeper, ClickHouse shards × replicas (infra/SCALING.md)")
    args = parser.parse_args(argv)
    if args.cluster:
        os.environ["DRAMA_CLUSTER"] = "1"
    settings = load()
    everything = [kind(settings) for kind in (*stack_for(settings), *services.APPS)]
    if args.command == "down" and not settings.cluster:    # whichever mode started them
        on_cluster = load(cluster=True)
        everything = [kind(on_cluster) for kind in cluster.stack(on_cluster)
                      if kind not in services.STACK] + everything
    started = time.monotonic()
    report = functools.partial(print, flush=True)
    if args.command in ("up", "demo") and (running := other_mode_running(settings)):
        mode = "the single-node stack" if settings.cluster else "the cluster mode"
        print(f"ERROR {mode} runs ({', '.join(running)}); the two share Superset, whose dashboards would then read "
              f"this mode's warehouse. Stop it first: make down", file=sys.stderr)
        return 1
    try:
        if args.command == "up":
            bring_up(settings, apps=(services.Maintainer,), report=report)
        elif args.command == "demo":
            past = settings.demo_history_days
            if past > 0:
                bring_up(settings, report=report)
                if demo.has_events(settings):
                    report(f"the past: the warehouse already has events; going on live (no {past} days again)")
                    settings = dataclasses.replace(settings, demo_history_days=0)
                else:
                    report(f"the past: {past} simulated days ending now, at {settings.demo_users_per_day:,} new "
                           f"users a day, through Kafka and the worker (DEMO_HISTORY_DAYS=0 skips it)")
                bring_up(settings, stack=(), apps=services.APPS, report=report)   # the stack is up: the apps
            else:
                bring_up(settings, apps=services.APPS, report=report)
            if settings.demo_history_days > 0:
                demo.load_history(settings, report=report)
                # provisioning warmed the cache on the empty warehouse: warm it again on the past
                from dashboards import warmup

                report(warmup.summary(warmup.warm(settings)))
            alerts = settings.alert_webhook_url or "inactive (set DRAMA_ALERT_WEBHOOK_URL, then make dashboards)"
            print(f"\nThe platform is up in {time.monotonic() - started:.0f}s.\n"
                  f"  Superset:  {settings.superset_url}/superset/dashboard/loop-health/ (4 more under Dashboards)\n"
                  f"  login:     {settings.superset_admin_user} / {settings.superset_admin_password}\n"
                  f"  read-only: {settings.superset_viewer_user} / {settings.superset_viewer_password} "
                  f"(the dashboards, no SQL Lab)\n"
                  f"  alerts:    {alerts}\n"
                  f"  SQL:       clickhouse-client --port {settings.clickhouse_port} -d {settings.clickhouse_db}\n"
                  f"  HTTP in:   POST http://{settings.collector_host}:{settings.collector_port}/v1/events\n"
                  f"  stop:      make down")
        elif args.command == "down":
            for service in reversed(everything):
                print(service.down(), flush=True)
        elif args.command == "status":
            for service in everything:
                print(service.status())
            if settings.cluster:
                print("\n".join(cluster.in_sync_replicas(settings)))
        elif args.command == "logs":
            for service in everything:
                if args.service in (None, service.name):
                    print(f"==> {service.log} <==\n{tail(service.log, 40)}\n")
        elif args.command == "topics":
            from infra.topics import create_topics
            print("\n".join(create_topics(settings)))
    except ServiceError as error:
        print(f"\nERROR {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
