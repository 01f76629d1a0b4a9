"""infra/supervise.py: a worker that exits non-zero is started again and counted; a clean exit or
a SIGTERM is not restarted."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from infra.supervise import read_restarts

# exits 3 on its first two runs, then 0 (a run count kept in a file)
FLAKY = """
import pathlib, sys
runs = pathlib.Path(sys.argv[1]); n = int(runs.read_text()) if runs.exists() else 0
runs.write_text(str(n + 1)); sys.exit(3 if n < 2 else 0)
"""


def test_a_child_that_fails_is_restarted_and_counted_until_it_exits_cleanly(tmp_path):
    restarts = tmp_path / "worker.restarts"
    done = subprocess.run([sys.executable, "-m", "infra.supervise", str(restarts), "--", sys.executable, "-c", FLAKY,
                           str(tmp_path / "runs")], timeout=30, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "runs").read_text() == "3"
    count, at, status = read_restarts(restarts)
    assert (count, status) == (2, 3) and abs(time.time() - at) < 30
    assert "exited with status 3; restart 2" in done.stderr


def test_sigterm_stops_the_child_and_the_supervisor_without_a_restart(tmp_path):
    restarts = tmp_path / "worker.restarts"
    proc = subprocess.Popen([sys.executable, "-m", "infra.supervise", str(restarts), "--", sys.executable, "-c",
                             "import time; time.sleep(60)"])
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)                      # it stops within seconds: no restart loop
    assert read_restarts(restarts)[0] == 0
