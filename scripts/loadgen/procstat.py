"""Memory and open files of a process over time, from ``/proc`` (Linux only).

A soak passes when neither grows past a bound after the warm-up: the baseline is the
first sample taken once ``warmup`` seconds have passed, growth is the largest later
sample minus it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import Any

MIB = 1024 * 1024
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading: seconds since sampling began, resident memory, open descriptors."""

    at: float
    rss: int  # bytes
    fds: int
    cpu: float = 0.0  # CPU seconds used so far (user + system)


def read_sample(pid: int, at: float) -> Sample | None:
    """The process's VmRSS and open descriptor count now; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            kib = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, StopIteration):
        return None
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)
    return Sample(at=at, rss=kib * 1024, fds=fds, cpu=cpu)


@dataclass(slots=True)
class ProcessWatch:
    """Samples ``pid`` every ``every`` seconds while running; judges growth against bounds."""

    pid: int
    every: float = 5.0
    warmup: float = 60.0
    max_rss_growth: int = 64 * MIB
    max_fd_growth: int = 50
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _began: float = 0.0
    _load_ended: Sample | None = None

    def start(self) -> None:
        """Begin sampling in the background."""
        self._task = asyncio.create_task(self._run())

    def load_ended(self) -> None:
        """Sample now and mark the end of the load: CPU share is measured up to here
        (the quiescence wait after it would only dilute it)."""
        self._take(time.monotonic() - self._began)
        self._load_ended = self.samples[-1] if self.samples else None

    async def stop(self) -> None:
        """Take a last sample and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._take(time.monotonic() - self._began if self.samples else 0.0)

    async def _run(self) -> None:
        self._began = time.monotonic()
        while True:
            self._take(time.monotonic() - self._began)
            await asyncio.sleep(self.every)

    def _take(self, at: float) -> None:
        sample = read_sample(self.pid, at)
        if sample is not None:
            self.samples.append(sample)

    def baseline(self) -> Sample | None:
        """The first sample after the warm-up (the last one if the run was shorter)."""
        after = [s for s in self.samples if s.at >= self.warmup]
        return after[0] if after else (self.samples[-1] if self.samples else None)

    def growth(self) -> tuple[int, int]:
        """(RSS bytes, descriptors) of the largest sample after the baseline minus it."""
        base = self.baseline()
        if base is None:
            return 0, 0
        later = [s for s in self.samples if s.at >= base.at]
        return max(s.rss for s in later) - base.rss, max(s.fds for s in later) - base.fds

    @property
    def ok(self) -> bool:
        """Growth within both bounds."""
        rss, fds = self.growth()
        return rss <= self.max_rss_growth and fds <= self.max_fd_growth

    def series(self, step: float = 60.0) -> list[list[float]]:
        """``[seconds, RSS MiB, fds]`` about every ``step`` seconds, and the last sample."""
        out, due = [], 0.0
        for s in self.samples:
            if s.at >= due or s is self.samples[-1]:
                out.append([round(s.at), _mib(s.rss), s.fds])
                due = s.at + step
        return out

    def to_json(self) -> dict[str, Any]:
        """Start, baseline, end and max of both series, growth, bounds and verdict."""
        if not self.samples:
            return {"pid": self.pid, "samples": 0, "ok": True}
        base = self.baseline()
        assert base is not None
        first, last = self.samples[0], self.samples[-1]
        rss, fds = self.growth()
        return {
            "pid": self.pid,
            "samples": len(self.samples),
            "every_s": self.every,
            "warmup_s": self.warmup,
            "rss_mib": {
                "start": _mib(first.rss),
                "baseline": _mib(base.rss),
                "end": _mib(last.rss),
                "max": _mib(max(s.rss for s in self.samples)),
                "growth": _mib(rss),
                "bound": _mib(self.max_rss_growth),
            },
            "fds": {
                "start": first.fds,
                "baseline": base.fds,
                "end": last.fds,
                "max": max(s.fds for s in self.samples),
                "growth": fds,
                "bound": self.max_fd_growth,
            },
            "cpu_share": _share(first, self._load_ended or last),
            "series": self.series(),
            "ok": self.ok,
        }


def _share(first: Sample, last: Sample) -> float:
    """CPU seconds per wall second between two samples (1.0 = one core busy)."""
    wall = last.at - first.at
    return round((last.cpu - first.cpu) / wall, 2) if wall > 0 else 0.0


def _mib(n: int) -> float:
    return round(n / MIB, 1)
