"""Where one worker's time goes on a drain, and whether a change made it cheaper:
`python -m bench.profile` (the stack must be up: `make up`).

Pre-loads N simulated messages on a fresh namespace (the messages are cached under
.state/bench-cache/), starts one worker, and measures the drain from the first rows visible
to the last. It prints:
- msg/s;
- the worker's CPU per message (µs, from /proc/<pid>/stat);
- the share of a core that ClickHouse and Kafka used meanwhile;
- the agent's `/health` seconds.

`--py-spy` also records the worker with `py-spy record --gil` (`pip install py-spy`) and
prints the functions holding the GIL longest. `--against REV` checks REV out in a git worktree
and alternates drains of that code and of this tree, `--runs` times each. The machine's speed
drifts by tens of percent within minutes, so only such interleaved pairs compare two versions.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.drain import events_in
from bench.load import Simulated, preload, simulate
from bench.stack import Namespace, process_tree
from infra.settings import ROOT, load
from warehouse.client import connect

PY_SPY_RATE = 200          # samples a second
# frames that hold every sample of their thread: left out of the inclusive list
WRAPPERS = re.compile(r"\((threading|asyncio/base_events|concurrent/futures/thread|<frozen runpy>|click/|mode/worker"
                      r"|mode/threads|faust/cli|faust/app/base|streams/__main__)")


def py_spy() -> str | None:
    """py-spy on the PATH or beside this Python (the project's venv)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_of(pid: int) -> tuple[int, int]:
    """(minor page faults so far, peak resident MB) of a process."""
    faults = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])
    peak = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM:"))
    return faults, peak // 1024


def service_pids(state_dir: Path) -> dict[str, int]:
    out = {}
    for name in ("clickhouse", "kafka"):
        path = state_dir / "pids" / f"{name}.pid"
        if path.exists():
            out[name] = int(path.read_text().split()[0])
    return out


CACHED_UP_TO = 1_000_000     # held and pickled up to this; beyond, generated on each pass (bench.load.Simulated)


def messages_for(count: int, cache_dir: Path):
    if count > CACHED_UP_TO:
        return Simulated(count)
    path = cache_dir / f"simulated-{count}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())
    messages = simulate(count)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(messages))
    return messages


def summarize(raw: Path, top: int = 25) -> str:
    """py-spy's raw output (`frame;frame;… count` lines) → the top functions, inclusive and self."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        own[stack.split(";")[-1]] += n
    if not total:
        return "py-spy recorded nothing"
    rows = [f"{total} samples holding the GIL", "inclusive:"]
    rows += [f"  {100 * n / total:5.1f}%  {frame}"
             for frame, n in [(f, n) for f, n in inclusive.most_common() if not WRAPPERS.search(f)][:top]]
    rows += ["self (by line):"] + [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(rows)


def drain_once(messages, spy: Path | None = None, say=print) -> dict:
    """One worker on a fresh namespace over the pre-loaded messages; the figures of its drain."""
    base = load()
    total = len(messages)
    with Namespace(base, "profile", say) as ns:
        preload(ns.settings, messages)
        client = connect(ns.settings)
        [worker] = ns.start_workers(1)
        tree = process_tree(worker.pid())   # infra/supervise.py, then the Faust process it runs
        pid = tree[1] if len(tree) > 1 else tree[0]
        recorder = None
        if spy is not None:
            recorder = subprocess.Popen([py_spy(), "record", "--gil", "-r", str(PY_SPY_RATE), "-f", "raw",
                                         "-o", str(spy), "-p", str(pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        others = service_pids(base.state_dir)
        first = None
        while True:
            done = events_in(client)
            now = time.monotonic()
            if first is None and done > 0:
                first = (now, done, cpu_seconds(pid), {k: cpu_seconds(p) for k, p in others.items()},
                         memory_of(pid)[0])
            if done >= total:
                break
            ns.check_workers()
            time.sleep(0.05)
        started, counted, cpu0, others0, faults0 = first
        seconds, drained = now - started, done - counted
        used = cpu_seconds(pid) - cpu0
        faults, peak_mb = memory_of(pid)
        if recorder is not None:
            recorder.send_signal(2)
            recorder.wait(timeout=60)
        health = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{worker.settings.worker_web_port}/health", timeout=5).read())
        return {"msgs_per_s": round(drained / seconds), "drain_s": round(seconds, 2),
                "worker_cpu_us_per_msg": round(1e6 * used / drained, 2),
                "worker_core_share": round(used / seconds, 2),
                "worker_page_faults_per_msg": round((faults - faults0) / drained, 3), "worker_peak_rss_mb": peak_mb,
                "others_core_share": {k: round((cpu_seconds(p) - others0[k]) / seconds, 2) for k, p in others.items()},
                "health_seconds": health.get("seconds"), "batches": health.get("batches")}


def worktree(rev: str) -> Path:
    """REV checked out beside the state (git worktree), its .state linked to ours."""
    sha = subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "--short", rev], text=True).strip()
    path = ROOT / ".state" / f"profile-{sha}"
    if not path.exists():
        subprocess.check_call(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), sha],
                              stdout=subprocess.DEVNULL)
        (path / ".state").symlink_to(ROOT / ".state")
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=1_000_000, help="pre-loaded messages (default 1,000,000)")
    p.add_argument("--py-spy", action="store_true", help="record with py-spy --gil and print the top functions")
    p.add_argument("--against", metavar="REV", help="alternate drains of REV's code and this tree's")
    p.add_argument("--runs", type=int, default=2, help="drains of each version with --against (default 2)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    if args.py_spy and py_spy() is None:
        p.error("py-spy is not installed: `make install` puts it in .state/venv (the test extras), then run again")
    messages = messages_for(args.messages, ROOT / ".state" / "bench-cache")
    if args.against:
        other = worktree(args.against)
        rows = []
        for n in range(args.runs):
            for label, tree in (("this tree", ROOT), (args.against, other)):
                # this file, run with `tree` first on the path: the worker it starts runs tree's code
                code = (f"import runpy, sys; sys.path.insert(0, {str(tree)!r}); "
                        f"sys.argv = [{__file__!r}, '--json', '--messages', '{args.messages}']; "
                        f"runpy.run_path({__file__!r}, run_name='__main__')")
                out = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True,
                                     env={**os.environ, "PYTHONPATH": str(tree)})
                if out.returncode:
                    print(out.stdout, out.stderr, file=sys.stderr)
                    return out.returncode
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append((label, figures))
                print(f"run {n + 1} {label:>12}: {figures['msgs_per_s']:>8,} msg/s, worker "
                      f"{figures['worker_cpu_us_per_msg']:.2f} µs CPU per message", flush=True)
        return 0
    spy = ROOT / ".state" / "bench-cache" / "py-spy.txt" if args.py_spy else None
    figures = drain_once(messages, spy, say=(lambda _: None) if args.json else print)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"{figures['msgs_per_s']:,} msg/s over {figures['drain_s']} s; worker {figures['worker_cpu_us_per_msg']} µs "
          f"CPU per message ({figures['worker_core_share']:.0%} of a core); meanwhile "
          + ", ".join(f"{k} {v:.0%}" for k, v in figures["others_core_share"].items()) + " of a core")
    print(f"worker memory: peak RSS {figures['worker_peak_rss_mb']:,} MB, "
          f"{figures['worker_page_faults_per_msg']} minor page faults per message")
    print(f"/health: {figures['batches']} batches; seconds {figures['health_seconds']}")
    if spy is not None:
        print(summarize(spy))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
