"""Where a benchmark run's wall time went: the service's event loop and its helpers.

CPU per turn alone cannot say what holds turns/s on a shared machine: a service that
used half a core may have wanted a whole one. The kernel keeps, per thread, the time it
ran and the time it waited runnable for a core (``/proc/<pid>/task/<tid>/schedstat``,
in nanoseconds). For the service's main thread (the event loop, where every handler,
reactor and driver hand-off runs) the run's wall time therefore splits into

* **on CPU**: the loop was working;
* **waiting for a core**: it had work but the machine gave the core to another process;
* **idle**: it had nothing to do (waiting for the assistant, the network, the driver).

A loop that is on CPU or waiting for a core for most of the run is saturated: turns/s is
then bound by the loop's CPU per turn and the share of a core the machine gives it, and
neither more customers nor a faster assistant raise it. The helpers (the bench driver,
the fake Graph API, the fake OpenAI API) are counted too, so their share of the machine
is on the record rather than guessed.
"""

from __future__ import annotations

import resource
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scripts.bench_profile import cpu_seconds

NANOS = 1e9
SATURATED = 0.8  # on CPU + waiting for a core, as a share of the wall time


class SchedstatError(RuntimeError):
    """``/proc/<pid>/task/<tid>/schedstat`` is missing or not three integers."""


def thread_sched(pid: int, tid: int | None = None) -> tuple[float, float]:
    """Seconds thread ``tid`` of ``pid`` (its main thread by default) ran and waited runnable."""
    path = Path(f"/proc/{pid}/task/{tid or pid}/schedstat")
    try:
        raw = path.read_text()
    except OSError as exc:
        raise SchedstatError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return parse_schedstat(raw, path)


def parse_schedstat(raw: str, source: Path | str = "schedstat") -> tuple[float, float]:
    """``"<ran ns> <waited ns> <slices>"`` -> (ran s, waited s); a clear error otherwise."""
    fields = raw.split()
    if len(fields) != 3 or not all(f.isdigit() for f in fields):
        raise SchedstatError(f"{source}: expected three integers, got {raw.strip()[:60]!r}")
    return int(fields[0]) / NANOS, int(fields[1]) / NANOS


def self_cpu() -> float:
    """User + system CPU seconds of this process (the bench driver) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True, slots=True)
class Where:
    """Shares of the run's wall time for the service's loop; helpers' CPU in seconds."""

    loop_on_cpu: float  # share of the wall time the service's main thread ran
    loop_waiting: float  # share of the wall time it was runnable but had no core
    helpers_cpu: Mapping[str, float]  # seconds of CPU per helper over the run

    @property
    def loop_idle(self) -> float:
        """Share of the wall time the loop had nothing to do."""
        return max(0.0, 1.0 - self.loop_on_cpu - self.loop_waiting)

    @property
    def saturated(self) -> bool:
        """True when the loop worked or waited for a core for most of the run."""
        return self.loop_on_cpu + self.loop_waiting >= SATURATED

    def render(self) -> str:
        """One line: the loop's split of the run and the helpers' CPU."""
        helpers = ", ".join(f"{name} {cpu:.2f} s" for name, cpu in self.helpers_cpu.items())
        verdict = "saturated" if self.saturated else "not saturated"
        return (
            f"service loop: on CPU {self.loop_on_cpu:.0%}, waiting for a core "
            f"{self.loop_waiting:.0%}, idle {self.loop_idle:.0%} ({verdict}); "
            f"helpers' CPU: {helpers}"
        )


class WhereClock:
    """Readings taken at the start and the end of a measured run (see the module docstring).

    ``helpers`` names the other processes of the run (pid by name); the driver itself is
    counted as ``driver``.
    """

    def __init__(self, service_pid: int, helpers: Mapping[str, int]) -> None:
        self.service_pid, self.helpers = service_pid, dict(helpers)
        self._start = self._read()

    def _read(self) -> tuple[float, float, dict[str, float]]:
        ran, waited = thread_sched(self.service_pid)
        cpu = {name: cpu_seconds(pid) for name, pid in self.helpers.items()}
        cpu["driver"] = self_cpu()
        return ran, waited, cpu

    def stop(self, wall: float) -> Where:
        """The split of ``wall`` seconds since this clock was made."""
        ran0, waited0, cpu0 = self._start
        ran1, waited1, cpu1 = self._read()
        span = max(wall, 1e-9)
        return Where(
            loop_on_cpu=round((ran1 - ran0) / span, 3),
            loop_waiting=round((waited1 - waited0) / span, 3),
            helpers_cpu={name: round(cpu1[name] - cpu0[name], 2) for name in cpu1},
        )
