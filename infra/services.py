"""The services the platform runs natively: what each needs installed, how it starts, how
its health is read. The launcher (`python -m launcher`, a package above this one) drives them
(`make up`, `make down`, `make status`)."""
from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import signal
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from infra.process import PidFile, ServiceError, http_ok, pid_alive, port_open, run, spawn, tail, terminate
from infra.settings import ROOT, Settings, kept_secret
from infra.supervise import read_restarts

INFRA = ROOT / "infra"


def render(template: Path, target: Path, settings: Settings, **extra: str) -> Path:
    """Fill ${NAME} placeholders of a config template from the settings (and `extra`)."""
    values = {
        **extra,
        "ZOOKEEPER_HOST": settings.zookeeper_host,
        "ZOOKEEPER_PORT": str(settings.zookeeper_port),
        "STATE_DIR": str(settings.state_dir),
        "KAFKA_HOST": settings.kafka_host,
        "KAFKA_PORT": str(settings.kafka_port),
        "KAFKA_CONTROLLER_PORT": str(settings.kafka_controller_port),
        "KAFKA_PROXIED_PORT": str(settings.kafka_proxied_port),
        "KAFKA_PROXY_PORT": str(settings.kafka_proxy_port),
        "CLICKHOUSE_HOST": settings.clickhouse_host,
        "CLICKHOUSE_PORT": str(settings.clickhouse_port),
        "CLICKHOUSE_HTTP_PORT": str(settings.clickhouse_http_port),
        "CLICKHOUSE_USER": settings.clickhouse_user,
        "CLICKHOUSE_PASSWORD": settings.clickhouse_password,
        # the project's database, whichever namespace starts the server: the writer's and analyst's
        # grants must not follow a test's namespace (started from one, the demo's analyst was refused)
        "CLICKHOUSE_DB": settings.clickhouse_db_base,
        "WRITER_USER": settings.clickhouse_writer_user,
        "WRITER_SHA256": hashlib.sha256(settings.clickhouse_writer_password.encode()).hexdigest(),
        "ANALYST_USER": settings.clickhouse_analyst_user,
        "ANALYST_SHA256": hashlib.sha256(settings.clickhouse_analyst_password.encode()).hexdigest(),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(string.Template(template.read_text()).substitute(values))
    return target


class Service:
    """One process the project starts and stops. Subclasses say how."""

    name = ""
    start_timeout = 60.0

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pidfile = PidFile(settings.pid_dir / f"{self.name}.pid")
        self.log = settings.log_dir / f"{self.name}.log"

    # --- what a subclass provides ---------------------------------------------------------
    def ports(self) -> list[tuple[str, int]]:
        return []

    def installed(self) -> bool:
        return True

    def install(self) -> None:
        pass

    def prepare(self) -> None:
        """Render configuration and initialise storage, before each start (idempotent)."""

    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    def healthy(self) -> bool:
        return all(port_open(host, port) for host, port in self.ports())

    def address(self) -> str:
        return ", ".join(f"{h}:{p}" for h, p in self.ports())

    # --- the life cycle, the same for all -------------------------------------------------
    def pid(self) -> int | None:
        return self.pidfile.read()

    def start(self) -> int:
        """Spawn the process unless it runs (installed and prepared first); its pid. No waiting."""
        pid = self.pid()
        if pid is None:
            taken = [f"{h}:{p}" for h, p in self.ports() if port_open(h, p)]
            if taken:
                raise ServiceError(
                    f"{self.name}: cannot start, {', '.join(taken)} is already taken by a process this "
                    f"project did not start. Stop that process, or point the project elsewhere with the "
                    f"port variables in infra/settings.py (e.g. KAFKA_PORT, CLICKHOUSE_PORT, SUPERSET_PORT).")
            if not self.installed():
                print(f"{self.name}: installing (once; output in {self.log})", flush=True)
                self.install()
            self.prepare()
            pid = spawn(self.argv(), self.log, env=self.env(), cwd=ROOT)
            self.pidfile.write(pid)
        return pid

    def up(self) -> str:
        pid = self.pid()
        if pid and self.healthy():
            return f"{self.name}: already running (pid {pid}) on {self.address()}"
        pid = self.start()
        started = time.monotonic()
        while time.monotonic() - started < self.start_timeout:
            if not pid_alive(pid):
                self.pidfile.clear()
                raise ServiceError(f"{self.name}: the process exited while starting. The reason is usually "
                                   f"in the last lines of {self.log}:\n{tail(self.log)}")
            if self.healthy():
                return f"{self.name}: up (pid {pid}) on {self.address()} in {time.monotonic() - started:.1f}s"
            time.sleep(0.3)
        raise ServiceError(f"{self.name}: not healthy after {self.start_timeout:.0f}s (pid {pid} still running; "
                           f"`make down` stops it). Last lines of {self.log}:\n{tail(self.log)}")

    def down(self) -> str:
        pid = self.pid()
        if pid is None:
            self.pidfile.clear()
            return f"{self.name}: not running"
        terminate(pid)
        self.pidfile.clear()
        return f"{self.name}: stopped (pid {pid})"

    def status(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"{self.name:<11} stopped"
        health = "healthy" if self.healthy() else "NOT healthy (see `make logs`)"
        return f"{self.name:<11} pid {pid:<8} {health:<10} {self.address()}"


def make_secrets(settings: Settings) -> None:
    """The writer's and the analyst's passwords, generated once unless the environment gives them
    (.state/clickhouse/secrets/, readable by this user only; users.xml gets their sha256)."""
    folder = settings.state_dir / "clickhouse" / "secrets"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for role in ("writer", "analyst"):
        kept_secret(folder / role, 24)


class ClickHouse(Service):
    name = "clickhouse"

    def ports(self):
        return [(self.settings.clickhouse_host, self.settings.clickhouse_port),
                (self.settings.clickhouse_host, self.settings.clickhouse_http_port)]

    def binary(self) -> list[str] | None:
        """An official single `clickhouse` binary if on PATH, else Debian's clickhouse-server."""
        official = shutil.which("clickhouse")
        if official:
            return [official, "server"]
        debian = shutil.which("clickhouse-server") or ("/usr/sbin/clickhouse-server"
                                                       if Path("/usr/sbin/clickhouse-server").exists() else None)
        return [debian] if debian else None

    def installed(self) -> bool:
        return self.binary() is not None

    def install(self) -> None:
        fix = ("Install it by hand (`apt-get install clickhouse-server`, or put an official `clickhouse` "
               "binary on PATH) and run `make up` again.")
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise ServiceError(f"clickhouse: no ClickHouse server found and apt-get is not usable here. {fix}")
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], "apt-get update", self.log, env=env, fix=fix)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "clickhouse-server", "clickhouse-client"],
            "installing clickhouse-server", self.log, env=env, fix=fix)

    def prepare(self) -> None:
        conf = self.settings.state_dir / "clickhouse"
        for sub in ("data", "tmp", "user_files", "format_schemas"):
            (conf / sub).mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        make_secrets(self.settings)
        render(INFRA / "clickhouse" / "config.xml", conf / "config.xml", self.settings)
        render(INFRA / "clickhouse" / "users.xml", conf / "users.xml", self.settings)

    def argv(self):
        return [*self.binary(), f"--config-file={self.settings.state_dir / 'clickhouse' / 'config.xml'}"]

    def healthy(self) -> bool:
        s = self.settings
        return http_ok(f"http://{s.clickhouse_host}:{s.clickhouse_http_port}/ping", "Ok") and \
            port_open(s.clickhouse_host, s.clickhouse_port)


class Kafka(Service):
    name = "kafka"
    start_timeout = 90.0

    @property
    def home(self) -> Path:
        return self.settings.state_dir / "kafka"

    def ports(self):
        return [(self.settings.kafka_host, self.settings.kafka_port)]

    def installed(self) -> bool:
        libs = self.home / "libs"
        return libs.is_dir() and any(libs.glob("kafka_2.13-*.jar"))

    def install(self) -> None:
        maven_install(self, INFRA / "kafka", self.home / "libs", "the Kafka broker")

    def java(self, main: str, *args: str, heap: str = "") -> list[str]:
        memory = [f"-Xmx{heap}", f"-Xms{heap}"] if heap else ["-Xmx256m"]
        return ["java", *memory, "-XX:+UseG1GC", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={INFRA / 'kafka' / 'log4j2.yaml'}",
                "-cp", str(self.home / "libs" / "*"), main, *args]

    def prepare(self) -> None:
        props = render(INFRA / "kafka" / "server.properties", self.home / "server.properties", self.settings)
        if not (self.home / "data" / "meta.properties").exists():
            cluster_id = subprocess.check_output(self.java("kafka.tools.StorageTool", "random-uuid"),
                                                 text=True).strip().splitlines()[-1]
            run(self.java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props)),
                "formatting Kafka's storage", self.log,
                fix=f"If {self.home / 'data'} holds an older cluster, remove it (`make clean`).")

    def argv(self):
        return self.java("kafka.Kafka", str(self.home / "server.properties"), heap=self.settings.kafka_heap)


def maven_install(service: Service, pom_dir: Path, libs: Path, what: str) -> None:
    """Resolve `pom_dir`/pom.xml's runtime jars from Maven Central into `libs` (Java 17+ and Maven needed)."""
    if not shutil.which("java"):
        raise ServiceError(f"{service.name}: Java is missing; {what} needs Java 17 or newer. Install it "
                           f"(`apt-get install openjdk-17-jre-headless`) and run `make up` again.")
    if not shutil.which("mvn"):
        raise ServiceError(f"{service.name}: Maven is missing; {what}'s jars are resolved from Maven Central with it. "
                           f"Install it (`apt-get install maven`) and run `make up` again.")
    run(["mvn", "-q", "-B", f"-Dmaven.repo.local={service.settings.state_dir / 'm2'}",
         "dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        f"resolving {what} from Maven Central", service.log, cwd=pom_dir,
        fix=f"Check that Maven Central is reachable and that {pom_dir.relative_to(ROOT)}/pom.xml names a "
            f"published version.")


class Superset(Service):
    name = "superset"
    start_timeout = 120.0

    @property
    def home(self) -> Path:
        return self.settings.state_dir / "superset"

    @property
    def venv(self) -> Path:
        return self.settings.state_dir / "superset-venv"

    def ports(self):
        return [(self.settings.superset_host, self.settings.superset_port)]

    def env(self) -> dict[str, str]:
        s = self.settings
        return {"SUPERSET_CONFIG_PATH": str(INFRA / "superset" / "superset_config.py"),
                "DRAMA_STATE_DIR": str(s.state_dir), "PYTHONPATH": str(ROOT), "SUPERSET_LOAD_EXAMPLES": "no",
                "REDIS_HOST": s.redis_host, "REDIS_PORT": str(s.redis_port), "SUPERSET_HOST": s.superset_host,
                "SUPERSET_PORT": str(s.superset_port), "SUPERSET_ADMIN_USER": s.superset_admin_user,
                "SUPERSET_DATABASE_URI": s.superset_database_uri}

    def cli(self, *args: str) -> list[str]:
        """Superset's CLI from the project's venv, or the one on PATH (in the Superset image)."""
        own = self.venv / "bin" / "superset"
        return [str(own) if own.exists() else (shutil.which("superset") or str(own)), *args]

    def requirements_digest(self) -> str:
        return hashlib.sha256((INFRA / "superset" / "requirements.txt").read_bytes()).hexdigest()[:16]

    def installed(self) -> bool:
        """Installed from the current infra/superset/requirements.txt (a changed pin installs again)."""
        marker = self.home / "installed"
        return marker.exists() and marker.read_text().strip() == self.requirements_digest()

    def install(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if not (self.venv / "bin" / "python").exists():
            run([sys.executable, "-m", "venv", str(self.venv)], "creating Superset's virtual environment", self.log)
        run([str(self.venv / "bin" / "pip"), "install", "-q", "--cache-dir", str(self.settings.state_dir / "pip-cache"),
             "-r", str(INFRA / "superset" / "requirements.txt")], "installing Superset from PyPI", self.log,
            fix="Check that PyPI is reachable; the pins are in infra/superset/requirements.txt.")
        (self.home / "installed").write_text(self.requirements_digest() + "\n")

    def metadata_database(self) -> str:
        """Which metadata database Superset uses (the URI without its password): a machine that moves
        from SQLite to Postgres, or to another Postgres, gets its schema, admin and roles made there."""
        uri = urlparse(self.settings.superset_database_uri)
        return f"{uri.scheme}://{uri.hostname or ''}:{uri.port or ''}{uri.path}"

    def prepare(self) -> None:
        """The metadata database's schema (`superset db upgrade`), the admin and the roles, once per
        metadata database (.state/superset/metadata names the one they were made in)."""
        self.home.mkdir(parents=True, exist_ok=True)
        kept_secret(self.home / "secret_key", 48)
        marker = self.home / "metadata"
        if marker.exists() and marker.read_text().strip() == self.metadata_database():
            return
        password = self.settings.superset_admin_password
        if not password:
            password = kept_secret(self.home / "admin_password")
            print(f"superset: generated admin password (kept in {self.home / 'admin_password'}): {password}",
                  flush=True)
        print(f"superset: making its metadata database in {self.metadata_database()} (once)", flush=True)
        run(self.cli("db", "upgrade"), "creating Superset's metadata database", self.log, env=self.env(),
            fix="Is the metadata database up (`make status`: postgres)? SUPERSET_DATABASE_URI overrides it.")
        run(self.cli("fab", "create-admin", "--username", self.settings.superset_admin_user, "--firstname", "Ops",
                     "--lastname", "Admin", "--email", "admin@localhost", "--password", password),
            "creating Superset's admin user", self.log, env=self.env())
        run(self.cli("init"), "initialising Superset's roles", self.log, env=self.env())
        marker.write_text(self.metadata_database() + "\n")

    def argv(self):
        s = self.settings
        return [str(self.venv / "bin" / "gunicorn"), "-w", str(s.superset_workers), "--threads", "4", "-k", "gthread",
                "--timeout", "120", "--max-requests", "5000", "--max-requests-jitter", "500",
                "-b", f"{s.superset_host}:{s.superset_port}", "superset.app:create_app()"]

    def healthy(self) -> bool:
        return http_ok(f"{self.settings.superset_url}/health", "OK")


def apt_install(service: Service, package: str, missing: str) -> None:
    """Install one of Debian's packages for `service`, or say how to where apt-get cannot run."""
    fix = f"Install it by hand (`apt-get install {package}`) and run `make up` again."
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ServiceError(f"{service.name}: {missing} and apt-get is not usable here. {fix}")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], "apt-get update", service.log, env=env, fix=fix)
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", package], f"installing {package}",
        service.log, env=env, fix=fix)


class Redis(Service):
    """Debian's redis-server: Superset's Celery broker and its cache (infra/superset/superset_config.py).
    Nothing in it needs to outlive a restart, so it keeps no snapshot."""
    name = "redis"

    def ports(self):
        return [(self.settings.redis_host, self.settings.redis_port)]

    def binary(self) -> str | None:
        return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists()
                                                else None)

    def installed(self) -> bool:
        return self.binary() is not None

    def install(self) -> None:
        apt_install(self, "redis-server", "no redis-server found")

    def prepare(self) -> None:
        (self.settings.state_dir / "redis").mkdir(parents=True, exist_ok=True)

    def argv(self):
        s = self.settings
        return [self.binary(), "--bind", s.redis_host, "--port", str(s.redis_port), "--protected-mode", "yes",
                "--dir", str(s.state_dir / "redis"), "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--maxmemory", "512mb", "--maxmemory-policy", "allkeys-lru"]


class Postgres(Service):
    """Debian's postgresql-15: Superset's metadata database (SQLite allowed one writer at a time, so an
    alert backing off on a dead webhook held up every other write). Data in .state/postgres/data,
    loopback only; the role's password generated into .state/postgres/password. Run as the `postgres`
    user when the launcher runs as root (postgres refuses root)."""
    name = "postgres"
    BIN = Path("/usr/lib/postgresql/15/bin")

    @property
    def home(self) -> Path:
        return self.settings.state_dir / "postgres"

    @property
    def data(self) -> Path:
        return self.home / "data"

    def ports(self):
        return [(self.settings.postgres_host, self.settings.postgres_port)]

    def installed(self) -> bool:
        return (self.BIN / "postgres").exists()

    def install(self) -> None:
        apt_install(self, "postgresql-15", f"no {self.BIN / 'postgres'} found")

    def as_owner(self, *argv: str) -> list[str]:
        """argv as the data directory's owner: the `postgres` user when we are root, else ourselves."""
        if os.geteuid() != 0:
            return list(argv)
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]

    def prepare(self) -> None:
        s = self.settings
        self.home.mkdir(parents=True, exist_ok=True)
        password = s.postgres_password_env or kept_secret(self.home / "password", 24)
        run_dir = self.home / "run"
        for folder in (self.data, run_dir):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            if os.geteuid() == 0:
                try:
                    owner = pwd.getpwnam("postgres")
                except KeyError:
                    raise ServiceError("postgres: running as root and there is no `postgres` user to run the "
                                       "server as (postgresql-15's package makes it). Reinstall postgresql-15, "
                                       "or run `make up` as an ordinary user.") from None
                os.chown(folder, owner.pw_uid, owner.pw_gid)
        if (self.data / "PG_VERSION").exists():
            return
        fix = f"If {self.data} holds a half-made cluster, remove it (`make clean`) and run `make up` again."
        pwfile = self.home / "run" / "initdb-password"     # readable by the server's user only, removed after
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            self._feed(self.as_owner(str(self.BIN / "initdb"), "-D", str(self.data), "--username", s.postgres_user,
                                     f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=peer",
                                     "--encoding=UTF8", "--locale=C"), "", "initdb", fix)
        finally:
            pwfile.unlink(missing_ok=True)
        self._feed(self.as_owner(str(self.BIN / "postgres"), "--single", "-D", str(self.data), "postgres"),
                   f'CREATE DATABASE "{s.postgres_db}";\n', f"creating the database {s.postgres_db}", fix)

    def _feed(self, argv: list[str], stdin: str, what: str, fix: str) -> None:
        """Run a set-up step with its input on stdin (a password, a statement), output to the log."""
        with open(self.log, "ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {what}: {' '.join(argv)}\n".encode())
            out.flush()
            code = subprocess.run(argv, input=stdin.encode(), stdout=out, stderr=subprocess.STDOUT,
                                  cwd="/").returncode
        if code != 0:
            raise ServiceError(f"postgres: {what} failed (exit {code}). {fix}\nLast lines of {self.log}:\n"
                               f"{tail(self.log)}")

    def argv(self):
        s = self.settings
        return self.as_owner(str(self.BIN / "postgres"), "-D", str(self.data), "-c",
                             f"listen_addresses={s.postgres_host}", "-p", str(s.postgres_port),
                             "-k", str(self.home / "run"), "-c", "max_connections=200")

    def healthy(self) -> bool:
        s = self.settings
        return subprocess.call([str(self.BIN / "pg_isready"), "-q", "-h", s.postgres_host, "-p",
                                str(s.postgres_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0

    def down(self) -> str:
        """A fast shutdown (SIGINT: clients disconnected, then a clean stop); SIGTERM would wait for every
        client to leave."""
        pid = self.pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 30
            while pid_alive(pid) and time.monotonic() < deadline:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
                time.sleep(0.2)
            if not pid_alive(pid):
                self.pidfile.clear()
                return f"{self.name}: stopped (pid {pid})"
        return super().down()


class SupersetCelery(Superset):
    """Superset's Celery processes (Alerts & Reports): same venv, configuration and environment."""
    start_timeout = 60.0

    def installed(self) -> bool:
        return (self.venv / "bin" / "celery").exists()

    def install(self) -> None:
        raise ServiceError(f"{self.name}: Superset is not installed; start the superset service first (`make up`).")

    def prepare(self) -> None:
        pass   # the superset service makes the metadata database

    def ports(self):
        return []

    def healthy(self) -> bool:
        return self.pid() is not None

    def address(self) -> str:
        return f"-> redis {self.settings.redis_host}:{self.settings.redis_port}"

    def celery(self, *args: str) -> list[str]:
        return [str(self.venv / "bin" / "celery"), "--app=superset.tasks.celery_app:app", *args]


class SupersetWorker(SupersetCelery):
    """Runs the alerts' queries and sends their notifications."""
    name = "superset-worker"

    def argv(self):
        return self.celery("worker", "--pool=prefork", "--concurrency=2", "-O", "fair", "--loglevel=INFO",
                           f"--hostname=drama-{self.settings.superset_port}@%h")


class SupersetBeat(SupersetCelery):
    """Schedules the alerts: reports.scheduler every minute."""
    name = "superset-beat"

    def argv(self):
        return self.celery("beat", "--loglevel=INFO", f"--schedule={self.home / 'celerybeat-schedule'}",
                           f"--pidfile={self.home / 'celerybeat.pid'}")

    def prepare(self) -> None:
        (self.home / "celerybeat.pid").unlink(missing_ok=True)   # a beat killed hard leaves it behind


class App(Service):
    """A process of the project's own Python code, run with the settings it was given."""

    def __init__(self, settings: Settings):
        if settings.namespace:  # one PID file and log per namespace, so namespaces run side by side
            self.name = f"{self.name}-{settings.namespace}"
        super().__init__(settings)

    def env(self) -> dict[str, str]:
        return {**self.settings.as_env(), "PYTHONPATH": str(ROOT)}


class Worker(App):
    """The Faust worker: events from Kafka to metrics in ClickHouse."""
    name = "worker"

    def ports(self):
        return [("127.0.0.1", self.settings.worker_web_port)]

    @property
    def restarts_file(self) -> Path:
        return self.settings.pid_dir / f"{self.name}.restarts"

    def healthy(self) -> bool:
        """/health answers 200 with a status: ok or retrying (503 when stalled)."""
        return http_ok(f"http://127.0.0.1:{self.settings.worker_web_port}/health", '"status"')

    def health(self) -> dict | None:
        """The worker's /health as it answered, 503 (stalled) included; None when it does not answer."""
        url = f"http://127.0.0.1:{self.settings.worker_web_port}/health"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as error:
            try:
                return json.loads(error.read())
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def status(self) -> str:
        pid = self.pid()
        if pid is None:
            return f"{self.name:<11} stopped"
        restarts, at, code = read_restarts(self.restarts_file)
        restarted = (f"  restarted {restarts}x (last {time.strftime('%H:%M:%S', time.localtime(at))}, "
                     f"exit {code})" if restarts else "  restarted 0x")
        state = self.health()
        if state is None:
            return f"{self.name:<11} pid {pid:<8} NOT answering /health (see `make logs`)  {self.address()}{restarted}"
        word = {"ok": "healthy", "retrying": "RETRYING", "stalled": "STALLED"}.get(state["status"], state["status"])
        line = (f"{self.name:<11} pid {pid:<8} {word:<10} {self.address()}  {state['batches']} batches, "
                f"{state['messages']} messages, {state['in_flight']} in flight, lag {state.get('lag', '?')}, "
                f"last {state['last_batch_at'] or '—'}")
        forecast = state.get("forecast") or {}
        if forecast.get("role") == "scoring":
            line += f", hit forecast scored to {forecast.get('scored_to') or '—'}"
        if state["status"] == "stalled":
            limit = state.get("stalled_after_s", 30)
            why = ([f"no batch finished for {state['stalled_for_s']}s with work waiting"]
                   if state.get("stalled_for_s", 0) > limit else [])
            why += ([f"the hit forecast has not moved for {forecast['stalled_for_s']}s"]
                    if forecast.get("stalled_for_s", 0) > limit else [])
            line += f"  ({'; '.join(why) or 'stalled'})"
        return line + (f"  retrying: {state['retrying']}" if state["retrying"] else "") + restarted

    def env(self) -> dict[str, str]:
        """The production worker (no namespace) writes as the writer, which may use the project's
        database only; namespaced workers (tests, bench) keep the admin, whose databases come and go."""
        env = super().env()
        if not self.settings.namespace:
            env.update(CLICKHOUSE_USER=self.settings.clickhouse_writer_user,
                       CLICKHOUSE_PASSWORD=self.settings.clickhouse_writer_password)
        return env

    def prepare(self) -> None:
        # Faust creates its datadir (settings.faust_app_dir) but not the directories above it.
        self.settings.faust_data_dir.mkdir(parents=True, exist_ok=True)

    def argv(self):
        """The worker under infra/supervise.py, which starts it again when it exits non-zero."""
        return [sys.executable, "-m", "infra.supervise", str(self.restarts_file), "--",
                sys.executable, "-m", "streams", "worker", "--loglevel=info",
                f"--web-port={self.settings.worker_web_port}", "--web-host=127.0.0.1",
                f"--web-bind={self.settings.worker_web_bind}"]


class Collector(App):
    """The HTTP collector: POST /v1/events → Kafka."""
    name = "collector"

    def ports(self):
        return [(self.settings.collector_host, self.settings.collector_port)]

    def argv(self):
        return [sys.executable, "-m", "collector"]

    def healthy(self) -> bool:
        s = self.settings
        return http_ok(f"http://{s.collector_host}:{s.collector_port}/health", "ok")


class Simulator(App):
    """Simulated traffic for the demo."""
    name = "simulator"

    @property
    def progress_file(self) -> Path:
        return self.settings.state_dir / f"{self.name}-progress.json"

    def prepare(self) -> None:
        self.progress_file.unlink(missing_ok=True)

    def down(self) -> str:
        said = super().down()
        self.progress_file.unlink(missing_ok=True)
        return said

    def argv(self):
        # A little of every fault, so the demo shows the dead-letter path and late data honestly.
        faults = ["--duplicates", "0.005", "--late", "0.001", "--out-of-order", "0.01", "--malformed", "0.002"]
        days = self.settings.demo_history_days
        slate = ["--slate-per-day", str(self.settings.demo_slate_per_day)]    # new titles for the hit forecast
        if days > 0:   # the past, then live at the same sample of the audience
            return [sys.executable, "-m", "simulator", "--history-days", str(days), "--users-per-day",
                    str(self.settings.demo_users_per_day), "--progress-file", str(self.progress_file), *faults,
                    *slate]
        return [sys.executable, "-m", "simulator", "--rate", os.environ.get("SIMULATOR_RATE", "50"), *faults, *slate]

    def healthy(self) -> bool:
        return self.pid() is not None

    def address(self) -> str:
        return f"-> {self.settings.kafka_bootstrap}"


class Maintainer(App):
    """Rollup reconciliation and parts retention, every DRAMA_MAINTAIN_EVERY_S (warehouse/maintain.py)."""
    name = "maintain"

    def argv(self):
        return [sys.executable, "-m", "warehouse.maintain", "--every", str(self.settings.maintain_every_s)]

    def healthy(self) -> bool:
        return self.pid() is not None

    def address(self) -> str:
        return f"every {self.settings.maintain_every_s}s -> {self.settings.clickhouse_db}"


STACK = (ClickHouse, Kafka, Redis, Postgres, Superset, SupersetWorker, SupersetBeat)
APPS = (Maintainer, Worker, Collector, Simulator)
