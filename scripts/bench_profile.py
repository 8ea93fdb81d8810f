"""Where a benchmarked ``serve`` spends its CPU: the child's CPU clock and a py-spy profile.

``dloop-bot bench e2e --profile FILE`` records the service child with py-spy (sampling,
from outside the process, so the service runs unchanged) while the measured customers
run, and writes py-spy's raw collapsed stacks to FILE. ``python -m scripts.bench_profile
FILE --turns N --cpu-ms C`` then prints the top costs per turn: the share of working
samples by the deepest function of our own code and the package it was running in, by
package, and inclusive per function, each also as ms of the measured CPU per turn.

CPU per turn without a profiler comes from ``/proc/<pid>/stat`` (user + system of every
thread of the child, the SQLite driver thread included), read before and after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path

RATE = 250  # samples per second: 4 ms apart, about 1% of one core for py-spy itself


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds that process ``pid`` has used so far (Linux ``/proc``)."""
    # The command name in field 2 may hold spaces; the fields after its ")" are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def py_spy() -> str:
    """The py-spy executable beside this interpreter or on PATH; a clear error otherwise."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -e '.[bench]'")
    return found


class Recorder:
    """py-spy attached to a running process, writing collapsed stacks when stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        self.pid, self.output = pid, output
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Attach; samples are taken from now on."""
        argv = [py_spy(), "record", "--pid", str(self.pid), "--rate", str(RATE)]
        argv += ["--format", "raw", "--output", str(self.output), "--nonblocking"]
        self._proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )

    async def stop(self) -> None:
        """Detach and let py-spy write its file (it does so on SIGINT)."""
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGINT)
            await self._proc.wait()


def read_stacks(path: Path) -> Counter[tuple[str, ...]]:
    """py-spy's raw format: one ``frame;frame;...;leaf COUNT`` line per distinct stack."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[tuple(stack.split(";"))] += int(count)
    return stacks


def _function(frame: str) -> str:
    """``name (path/to/module.py:12)`` -> ``name (module path)``, line numbers dropped."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.", "/work/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


def _package(frame: str) -> str:
    """The top-level package of a frame's file (``sqlalchemy``, ``adapters``, ...)."""
    path = _function(frame).rsplit(" (", 1)[1].rstrip(")")
    parts = [p for p in path.split("/") if p]
    if parts and parts[0].isdigit():  # the standard library: "11/asyncio/..."
        return f"stdlib {parts[1].removesuffix('.py')}" if len(parts) > 1 else "stdlib"
    if len(parts) > 2 and parts[0] not in {"adapters", "core", "events", "projections"}:
        parts = parts[2:] if parts[0] in {"wt", "main"} else parts  # a worktree's own code
    return parts[0].removesuffix(".py") if parts else "?"


def inclusive(stacks: Counter[tuple[str, ...]]) -> Counter[str]:
    """Samples in which each function is on the stack (counted once per sample)."""
    totals: Counter[str] = Counter()
    for stack, count in stacks.items():
        for name in {_function(f) for f in stack}:
            totals[name] += count
    return totals


# Frames where a thread waits rather than works: py-spy's idle test misses these (the
# aiosqlite worker blocked on its queue, asyncio's loop in epoll), so they are dropped.
# Under uvloop the loop is C code below ``run_app``: its waits and its own work both show
# as that frame, and are dropped together (the loop's own CPU is then in no row).
WAITS = ("aiosqlite/core.py:59)", "EpollSelector.select (", "run_app (aiohttp/web.py")


def working(stacks: Counter[tuple[str, ...]]) -> Counter[tuple[str, ...]]:
    """The samples in which the thread was running code, not waiting."""
    return Counter({s: n for s, n in stacks.items() if not any(w in s[-1] for w in WAITS)})


# The costs of a turn, first match wins: (name, where the running frame is, or None for
# anywhere on the stack). Ordered so a library's work is charged to what it does.
BUCKETS: tuple[tuple[str, str, bool], ...] = (
    ("SQLite executing statements and commits (driver thread)", "_connection_worker_thread", False),
    ("JSON through the standard library", "(json/", True),
    ("event codec and sealing", "(events/", True),
    ("event codec and sealing", "(adapters/store/people.py", False),
    ("SQLAlchemy: building, compiling, executing, results", "(sqlalchemy/", False),
    ("OpenAI SDK and httpx per assistant call", "(openai/", False),
    ("OpenAI SDK and httpx per assistant call", "(httpcore2/", False),
    ("aiohttp client: the send to the Graph API", "GraphMessenger.send", False),
    ("aiohttp server: webhook requests", "(aiohttp/web_protocol", False),
    ("aiohttp server: webhook requests", "(aiohttp/http_parser", False),
    ("projections and read-model writes", "(adapters/readmodel/", False),
    ("core: decide, evolve, rules", "(core/", True),
    ("asyncio: loop, tasks, futures, sockets", "(asyncio/", True),
    ("asyncio: loop, tasks, futures, sockets", "(selectors", True),
    ("other own code (adapters/)", "(adapters/", True),
)


def costs(stacks: Counter[tuple[str, ...]]) -> Counter[str]:
    """Samples by the cost they belong to (:data:`BUCKETS`), "other" for the rest."""
    totals: Counter[str] = Counter()
    for stack, count in stacks.items():
        for name, marker, leaf_only in BUCKETS:
            frames = stack[-1:] if leaf_only else stack
            if any(marker in f for f in frames):
                totals[name] += count
                break
        else:
            totals[f"other: {_package(stack[-1])}"] += count
    return totals


def by_leaf_package(stacks: Counter[tuple[str, ...]]) -> Counter[str]:
    """Samples by the package of the frame that was running (self time)."""
    totals: Counter[str] = Counter()
    for stack, count in stacks.items():
        totals[_package(stack[-1])] += count
    return totals


def report(path: Path, turns: int, cpu_ms: float, top: int = 40) -> str:
    """The per-turn tables of one profile, its working samples scaled to ``cpu_ms`` a turn.

    On a shared machine a runnable thread waiting for a core is sampled as working, so
    samples give shares; the measured CPU per turn (``bench e2e`` prints it) gives ms.
    """
    stacks = working(read_stacks(path))
    total = sum(stacks.values())
    scale = cpu_ms / total  # ms of CPU per turn for one sample
    lines = [f"{total} working samples over {turns} turns, scaled to {cpu_ms:.2f} ms CPU/turn"]
    tables = [
        ("top costs", costs(stacks), 12),
        ("self time by package", by_leaf_package(stacks), 15),
        ("inclusive by function", inclusive(stacks), top),
    ]
    for title, counts, rows in tables:
        lines.append(f"\n{title} (ms/turn, share):")
        for name, n in counts.most_common(rows):
            lines.append(f"  {n * scale:7.3f}  {n / total:6.1%}  {name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the per-turn tables of a profile written by ``bench e2e --profile``."""
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_profile", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--turns", type=int, required=True, help="turns the profile covers")
    parser.add_argument(
        "--cpu-ms", type=float, required=True, help="the run's CPU per turn, from bench e2e"
    )
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    if args.turns < 1 or args.cpu_ms <= 0:
        parser.error("--turns must be at least 1 and --cpu-ms positive")
    if not args.file.is_file():
        parser.error(f"no profile at {args.file}")
    print(report(args.file, args.turns, args.cpu_ms, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
