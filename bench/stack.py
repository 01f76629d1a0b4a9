"""The bench's namespaces: each stage gets a fresh one (its own topics and database), starts its
workers on it, and leaves nothing behind: workers stopped, database dropped, topics deleted
(Faust's own `drama-loop-<ns>-*` ones too), consumer groups deleted, Faust data directories
removed. `leftovers()` checks that afterwards.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

from infra import services
from infra.process import PidFile, ServiceError, pid_alive, tail
from infra.settings import ROOT, Settings, load
from infra.topics import admin, create_topics, list_groups
from warehouse.client import connect
from warehouse.migrate import migrate

PREFIX = "bench"
OURS = re.compile(rf"^{PREFIX}[0-9a-f]{{8}}$")   # the namespaces this harness makes, and only those
CREATED: list[str] = []     # every namespace made in this process, for leftovers()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_tree(pid: int) -> list[int]:
    """The process and its living descendants: a worker runs under infra/supervise.py, its Faust
    process a child."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, ()))
    return tree


def cpu_seconds(pid: int | None) -> float:
    """CPU seconds (utime + stime, /proc/<pid>/stat) of a process and every descendant so far, with
    the descendants already exited and reaped (cutime + cstime). 0.0 if the process is gone."""
    if pid is None:
        return 0.0
    ticks = 0
    for current in process_tree(pid):
        fields = _stat(current)
        if fields:
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / CLOCK_TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_id(namespace: str) -> str:
    return f"drama-loop-{namespace}"


def faust_dirs(settings: Settings) -> list[Path]:
    """Where a namespace's Faust workers may keep data: Faust's default `<app id>-data` in the
    workers' working directory (the checkout), and settings.faust_app_dir where settings have it."""
    dirs = [ROOT / f"{app_id(settings.namespace)}-data"]
    own = getattr(settings, "faust_app_dir", None)
    if own is not None:
        dirs.append(Path(own))
    return dirs


def owned_topic(name: str, namespace: str) -> bool:
    return name.startswith(f"{namespace}.") or name.startswith(f"{app_id(namespace)}-")


def owned_group(name: str, namespace: str) -> bool:
    """Faust's group (its app id) and the bench's own groups (`<ns>-…`)."""
    return name == app_id(namespace) or name.startswith(f"{app_id(namespace)}-") or name.startswith(f"{namespace}-")


def worker(settings: Settings, index: int) -> services.Worker:
    """A worker on the namespace with its own web port, PID file and log (as tests/conftest.py does)."""
    own = load(namespace=settings.namespace, worker_web_port=free_port())
    w = services.Worker(own)
    w.name = f"{w.name}-{index}"
    w.pidfile = PidFile(own.pid_dir / f"{w.name}.pid")
    w.log = own.log_dir / f"{w.name}.log"
    return w


class Namespace:
    """with Namespace(base, "drain-1") as ns: a fresh namespace, gone when the block ends."""

    def __init__(self, base: Settings, stage: str, say=print, namespace: str | None = None):
        self.base = base
        self.stage = stage
        self.say = say
        self.settings = load(namespace=namespace or f"{PREFIX}{uuid.uuid4().hex[:8]}")
        CREATED.append(self.namespace)
        self.workers: list[services.Worker] = []
        self.cleanups: list = []            # callables run first on close (e.g. dropping the peer's tables)

    @property
    def namespace(self) -> str:
        return self.settings.namespace

    def __enter__(self) -> "Namespace":
        try:
            names = create_topics(self.settings)
            client = admin(self.settings)
            try:  # leaders elected before anything is produced (else the first sends are retried)
                client.wait_for_topics(names, timeout_ms=30_000)
            finally:
                client.close()
            migrate(self.settings)
        except BaseException:
            self.close(keep_logs=True)
            raise
        self.say(f"[{self.stage}] namespace {self.namespace}: topics and database "
                 f"{self.settings.clickhouse_db} created")
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        problems = self.close(keep_logs=exc_type is not None)
        if problems and exc_type is None:
            raise ServiceError(f"[{self.stage}] cleaning up {self.namespace} failed: " + "; ".join(problems))
        return False

    # --- workers -------------------------------------------------------------------------------
    def start_workers(self, count: int) -> list[services.Worker]:
        """Start `count` workers at once (each in a thread, as two machines would); return when all
        answer /health. A worker that fails to start raises ServiceError with its log's tail."""
        new = [worker(self.settings, len(self.workers) + i) for i in range(count)]
        self.workers.extend(new)
        errors: list[BaseException] = []

        def up(w):
            try:
                w.up()
            except BaseException as error:  # re-raised below in the calling thread
                errors.append(error)

        threads = [threading.Thread(target=up, args=(w,), daemon=True) for w in new]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return new

    def check_workers(self) -> None:
        for w in self.workers:
            if w.pid() is None:
                raise ServiceError(f"{w.name} exited; last lines of {w.log}:\n{tail(w.log)}")

    # --- cleaning up ---------------------------------------------------------------------------
    def close(self, keep_logs: bool = False, timeout: float = 30.0, outage: float = 120.0) -> list[str]:
        """Remove everything the stage made; each step runs even if one before failed, and is
        tried again for up to `outage` seconds while ClickHouse or Kafka is unreachable (another
        session's outage test may be restarting them). Returns what could not be removed."""
        problems: list[str] = []

        def attempt(what, step):
            deadline = time.monotonic() + outage
            while True:
                try:
                    step()
                    return
                except Exception as error:  # noqa: BLE001 - collected, reported once all steps ran
                    if time.monotonic() > deadline:
                        problems.append(f"{what}: {error!r}")
                        return
                    self.say(f"[{self.stage}] {what} failed ({error!r}); trying again")
                    time.sleep(3)

        for cleanup in reversed(self.cleanups):
            attempt(getattr(cleanup, "__name__", "cleanup"), cleanup)
        pids = [w.pid() for w in self.workers]
        for w in self.workers:
            attempt(f"stopping {w.name}", w.down)
        running = [pid for pid in pids if pid is not None and pid_alive(pid)]
        if running:
            problems.append(f"workers still running: {running}")
        attempt("dropping the database", self._drop_database)
        attempt("deleting the topics and groups", lambda: self._delete_kafka(timeout))
        for path in faust_dirs(self.settings):
            attempt(f"removing {path}", lambda path=path: shutil.rmtree(path, ignore_errors=True))
        if keep_logs:
            logs = [str(w.log) for w in self.workers if w.log.exists()]
            if logs:
                self.say(f"[{self.stage}] worker logs kept: {', '.join(logs)}")
        else:
            for w in self.workers:
                w.log.unlink(missing_ok=True)
        if not problems:
            problems.extend(leftovers(self.base, [self.namespace]))
        self.say(f"[{self.stage}] namespace {self.namespace} removed" + (f"; LEFT: {problems}" if problems else ""))
        return problems

    def _drop_database(self) -> None:
        connect(self.base, "default").execute(f"DROP DATABASE IF EXISTS `{self.settings.clickhouse_db}`")

    def _delete_kafka(self, timeout: float) -> None:
        client = admin(self.base)
        try:
            deadline = time.monotonic() + timeout
            while True:
                topics = [t for t in client.list_topics() if owned_topic(t, self.namespace)]
                groups = [g["group_id"] for g in list_groups(client) if owned_group(g["group_id"], self.namespace)]
                if not topics and not groups:
                    return
                if time.monotonic() > deadline:
                    raise ServiceError(f"still there after {timeout:.0f}s: topics {topics}, groups {groups}")
                if topics:
                    client.delete_topics(topics, raise_errors=False)
                if groups:
                    # a group whose last member is leaving is not empty yet: asked again next round
                    client.delete_groups(groups)
                time.sleep(0.5)
        finally:
            client.close()


def leftovers(base: Settings, namespaces: list[str]) -> list[str]:
    """What is left of these namespaces: topics, consumer groups, databases, Faust data
    directories, worker PID files. Empty when nothing is."""
    if not namespaces:
        return []
    found: list[str] = []
    try:
        client = admin(base)
        try:
            found += [f"topic {t}" for t in client.list_topics() if any(owned_topic(t, ns) for ns in namespaces)]
            found += [f"group {g['group_id']}" for g in list_groups(client)
                      if any(owned_group(g["group_id"], ns) for ns in namespaces)]
        finally:
            client.close()
    except Exception as error:  # noqa: BLE001 - unknown is reported as such, never as nothing
        found.append(f"Kafka not checked: {error!r}")
    try:
        databases = {row[0] for row in connect(base, "default").execute("SHOW DATABASES")}
        found += [f"database {db}" for db in sorted(databases)
                  if any(db == load(namespace=ns).clickhouse_db for ns in namespaces)]
    except Exception as error:  # noqa: BLE001
        found.append(f"ClickHouse not checked: {error!r}")
    for ns in namespaces:
        found += [f"directory {p}" for p in faust_dirs(load(namespace=ns)) if p.exists()]
        found += [f"pid file {p}" for p in base.pid_dir.glob(f"worker-{ns}*.pid")]
    return found


def stray(base: Settings) -> list[str]:
    """Namespaces of earlier bench runs still present (a run killed before its clean-up)."""
    client = admin(base)
    try:
        names = {t.split(".", 1)[0] for t in client.list_topics()}
        names |= {g["group_id"].removeprefix("drama-loop-").split("-", 1)[0] for g in list_groups(client)}
    finally:
        client.close()
    names |= {db.removeprefix(f"{base.clickhouse_db_base}_")
              for (db,) in connect(base, "default").execute("SHOW DATABASES")}
    return sorted(n for n in names if OURS.match(n) and n not in CREATED)


def remove_stray(base: Settings, say=print) -> list[str]:
    """Remove what earlier bench runs left behind; returns what could not be removed."""
    problems = []
    for namespace in stray(base):
        problems += Namespace(base, "clean", say, namespace=namespace).close()
    return problems
