"""Access: every service the project starts listens on loopback, the worker's web server serves
/health and nothing else, and no key, password or token is committed."""
from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infra.settings import ROOT, load

LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]):\d+$")


def descendants(pids: set[int]) -> set[int]:
    """These processes and all their children, from /proc."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent_of[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    out, grew = set(pids), True
    while grew:
        more = {pid for pid, parent in parent_of.items() if parent in out} - out
        out |= more
        grew = bool(more)
    return out


def project_listeners(pid_dir: Path) -> list[tuple[str, int, str]]:
    """(local address, pid, command) of every listening TCP socket of a process the project started
    (a PID file in pid_dir, and its children)."""
    ours = descendants({int(p.read_text().split()[0]) for p in pid_dir.glob("*.pid") if p.read_text().strip()})
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout.splitlines()
    out = []
    for line in lines:
        columns = line.split()
        for pid in map(int, re.findall(r"pid=(\d+)", line)):
            if pid in ours:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                out.append((columns[3], pid, command[:120]))
    return out


def test_every_service_the_project_started_listens_on_loopback_only(stack, worker):
    listeners = project_listeners(load().pid_dir)
    assert len({command.split()[0] for _, _, command in listeners}) >= 4, listeners   # Kafka, ClickHouse, Redis, …
    assert any(f":{worker.worker_web_port}" in address for address, _, _ in listeners), "the worker is not seen"
    exposed = [entry for entry in listeners if not LOOPBACK.match(entry[0])]
    assert exposed == [], f"listening beyond loopback: {exposed}"


def test_the_loopback_check_sees_a_socket_on_every_interface(tmp_path):
    """The check above catches what it claims: a child of a PID-file process bound to 0.0.0.0."""
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    server = subprocess.Popen(["python3", "-c", "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', 0)); "
                               "s.listen(); print(s.getsockname()[1], flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        (pid_dir / "probe.pid").write_text(str(server.pid))
        listeners = project_listeners(pid_dir)
        assert [a for a, _, _ in listeners] == [f"0.0.0.0:{port}"]
        assert not LOOPBACK.match(listeners[0][0])
    finally:
        server.kill()


@pytest.mark.parametrize("path", ["/", "/router/", "/table/", "/stats/", "/graph/", "/signal/", "/metrics",
                                  "/assignor/"])
def test_the_worker_web_server_serves_health_and_nothing_else(worker, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.worker_web_port}/health", timeout=5) as r:
        assert r.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{worker.worker_web_port}{path}", timeout=5)
    assert refused.value.code == 404


# --- secrets ---------------------------------------------------------------------------------------
SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    # a literal of 16+ characters with letters and digits assigned to a name that says it is secret
    "assigned secret": re.compile(r"(?i)\b(password|passwd|secret|secret_key|api_key|token)\b[\"']?\s*[:=]\s*"
                                  r"[\"'](?=[^\"']*\d)(?=[^\"']*[A-Za-z])([A-Za-z0-9+/_\-]{16,})[\"']"),
}


def secrets_in(text: str) -> list[str]:
    return [name for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]


def test_no_tracked_file_holds_a_key_password_or_token():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000 or name.endswith((".png", ".jpg")):
            continue
        text = path.read_text(errors="replace")
        found += [(name, kind) for kind in secrets_in(text)]
    assert found == [], found


# each sample is put together at run time, so that this file itself holds none of them
@pytest.mark.parametrize("sample", [
    "-----BEGIN RSA " + "PRIVATE KEY-----", "key = AKIA" + "ABCDEFGHIJKLMNOP",
    'SECRET_KEY = "' + 'd8f7a6s5d4f3g2h1j0k9"',
    "token: 'ghp_" + "a" * 36 + "'", '"password": "' + 'c0rrect-h0rse-battery"'])
def test_the_secret_scan_finds_each_kind_it_claims(sample):
    assert secrets_in(sample), sample
