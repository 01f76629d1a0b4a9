"""Bringing the platform up: the one place that knows the order of things.

`bring_up` is shared by `python -m launcher`, the tests' `stack` fixture and the benchmarks, so
they all get the same platform. It sits above infra/ (services, topics), warehouse/ (schema) and
dashboards/ (Superset assets); nothing below imports it.

warehouse, dashboards and infra.topics need the project's dependencies (clickhouse-driver, PyYAML,
kafka-python); they are imported where used, so `python -m launcher down` and `status` also
work from a bare interpreter.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from infra import cluster, services
from infra.services import Service
from infra.settings import Settings


def stack_for(settings: Settings) -> tuple[type[Service], ...]:
    """The services `make up` starts: services.STACK, or on the cluster (DRAMA_CLUSTER=1) infra/cluster.py's."""
    return cluster.stack(settings) if settings.cluster else services.STACK


def other_mode_running(settings: Settings) -> list[str]:
    """The engines of the other mode (single-node or cluster) that run: the two modes share Superset,
    Postgres and Redis, so starting one beside the other would point the dashboards at its warehouse."""
    from infra.settings import load
    other = load(cluster=not settings.cluster)
    engines = stack_for(other)
    return [service.name for service in (kind(other) for kind in engines if kind not in stack_for(settings))
            if service.pid() is not None]


def bring_up(settings: Settings, *, stack: Iterable[type[Service]] | None = None,
             apps: Iterable[type[Service]] = (), started: list[Service] | None = None,
             report: Callable[[str], None] = print) -> list[Service]:
    """Start the services in `stack` (reusing those already running), create the settings'
    namespace's topics, migrate its warehouse database, import the dashboards (when Superset is
    in `stack`), then start the `apps` (e.g. services.Worker).

    Returns the services this call started, in start order, and only those: a service that was
    already running stays out, so `bring_down(returned)` stops exactly what was started here.
    Pass `started` to receive them as they come up, so that a caller still knows what to stop
    when a later step raises (a ServiceError from infra.process says how to fix it).
    `report` gets one line per step (print by default).
    """
    from dashboards.provision import provision
    from infra.topics import create_topics
    from warehouse.migrate import migrate

    started = [] if started is None else started
    stack = tuple(stack_for(settings) if stack is None else stack)
    for kind in stack:
        _start(kind(settings), started, report)
    if settings.cluster and stack:
        cluster.wait_replicated(settings)
    report(f"topics: {', '.join(create_topics(settings))}")
    applied = migrate(settings)
    report(f"warehouse: database {settings.clickhouse_db}, "
           f"{len(applied)} new migration(s){': ' + ', '.join(applied) if applied else ''}")
    if services.Superset in stack:
        report(provision(settings))
    for kind in apps:
        _start(kind(settings), started, report)
    return started


def bring_down(started: Iterable[Service], report: Callable[[str], None] = print) -> None:
    """Stop the given services (what bring_up returned), last started first."""
    for service in reversed(list(started)):
        report(service.down())


def _start(service: Service, started: list[Service], report: Callable[[str], None]) -> None:
    already = service.pid() is not None and service.healthy()
    try:
        report(service.up())
    finally:
        # A process that was spawned but never became healthy is still ours to stop.
        if not already and service.pid() is not None:
            started.append(service)
