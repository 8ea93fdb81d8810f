"""``serve``'s worker child: started beside the web process, restarted when it dies.

On the embedded default (SQLite) ``dloop-bot serve`` runs as two processes so that both
cores work and a webhook's answer never queues behind a conversation turn: the parent
serves HTTP (``DLOOP_ROLE=web``: ingestion, API, dashboard) and this supervisor keeps one
child running the reactors and projections (``DLOOP_ROLE=worker``, no HTTP). The
reactors stay single-owner through their lock files (ADR 0004); both processes write the
same WAL file, each through its own connection.

* A child that exits while the parent is not stopping is started again after a delay
  (1 s, doubled up to 30 s while it keeps failing, reset after a minute of running).
* :meth:`WorkerSupervisor.stop` sends SIGTERM (the child finishes its turns and sends
  within its own ``SHUTDOWN_GRACE``), waits, and kills only past the deadline.
* The child dies with the parent (:func:`die_with_parent`): a crashed web process never
  leaves an orphan holding the reactors' locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Mapping, Sequence

import structlog

log = structlog.get_logger(__name__)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerSupervisor:
    """Runs ``command`` as the worker child and keeps it running until :meth:`stop`."""

    def __init__(
        self,
        command: Sequence[str],
        env: Mapping[str, str],
        *,
        stop_timeout: float,
        restart_delay: float = 1.0,
        restart_cap: float = 30.0,
    ) -> None:
        self.command = list(command)
        self.env = {**env, "DLOOP_ROLE": "worker"}
        self.stop_timeout = stop_timeout
        self.restart_delay = restart_delay
        self.restart_cap = restart_cap
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pid(self) -> int | None:
        """The running child's pid (None between a death and its restart)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def stopping(self) -> bool:
        """True once :meth:`terminate` or :meth:`stop` was called."""
        return self._stopping

    async def start(self) -> None:
        """Start the child and the task that restarts it."""
        await self._spawn()
        self._task = asyncio.create_task(self._keep(), name="worker-supervisor")

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM) and never restart it; :meth:`stop` waits."""
        self._stopping = True
        if self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)

    async def stop(self) -> int | None:
        """SIGTERM, wait up to ``stop_timeout`` s, then SIGKILL; the child's exit status."""
        self.terminate()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        proc = self._proc
        if proc is None:
            return None
        try:
            async with asyncio.timeout(self.stop_timeout):
                await proc.wait()
        except TimeoutError:
            log.warning("serve.worker_killed", pid=proc.pid, after=self.stop_timeout)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        log.info("serve.worker_stopped", pid=proc.pid, status=proc.returncode)
        return proc.returncode

    async def _spawn(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(*self.command, env=self.env)
        log.info("serve.worker_started", pid=self._proc.pid)

    async def _keep(self) -> None:
        delay = self.restart_delay
        while True:
            assert self._proc is not None
            started = time.monotonic()
            status = await self._proc.wait()
            if self.stopping():
                return
            if time.monotonic() - started > 60:
                delay = self.restart_delay  # it ran a good while: not a crash loop
            log.error("serve.worker_exited", pid=self._proc.pid, status=status, restart_in=delay)
            await asyncio.sleep(delay)
            if self.stopping():  # told to stop while waiting
                return
            delay = min(delay * 2, self.restart_cap)
            await self._spawn()


def die_with_parent(parent: int) -> None:
    """In the child: have the kernel SIGKILL us when ``parent`` dies (Linux ``prctl``).

    A parent already gone before the call (the race the kernel cannot cover) makes us
    exit at once.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        raise SystemExit(f"dloop-bot worker: parent {parent} is gone")
