"""``dloop-bot serve`` processes spawned for a run, on a fresh database, killable at will.

Reuses the benchmark harness of :mod:`scripts.bench_e2e` (children with logs, the
service environment, fresh PostgreSQL databases). Every process of a pool shares one
database; on PostgreSQL several processes share the conversations through leases
(ADR 0004). A killed process is restarted on its own port, so the load generator's
targets stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scripts.bench_e2e import (
    Child,
    database,
    free_port,
    service_env,
    start_service,
)

__all__ = ["ServicePool", "database"]  # the load and crash runs take their database here


class ServicePool:
    """``count`` service processes on ``database_url`` talking to the fake at ``graph_base``."""

    def __init__(
        self,
        database_url: str,
        graph_base: str,
        tmp: Path,
        *,
        count: int = 1,
        roles: Sequence[str] = (),
        **env: str,
    ) -> None:
        self.env = service_env(database_url, graph_base, **env)
        self.tmp = tmp
        self.roles = list(roles) or ["all"] * count  # DLOOP_ROLE of each process
        self.ports = [free_port() for _ in self.roles]
        self.children: list[Child] = []

    @property
    def urls(self) -> list[str]:
        """Base URLs, one per process."""
        return [f"http://127.0.0.1:{port}" for port in self.ports]

    @property
    def webhook_targets(self) -> list[int]:
        """Indexes of the processes to send webhooks to: the ``web`` ones when the roles
        are split (the others run the reactors), else all."""
        web = [i for i, role in enumerate(self.roles) if role == "web"]
        return web or list(range(len(self.roles)))

    def pid(self, index: int = 0) -> int:
        """The process id of process ``index``."""
        return self.children[index].proc.pid

    async def start(self) -> None:
        """Start every process and wait until each answers ``/healthz``."""
        for index in range(len(self.ports)):
            self.children.append(await self._spawn(index))

    async def _spawn(self, index: int) -> Child:
        port, env = self.ports[index], {**self.env, "DLOOP_ROLE": self.roles[index]}
        return await start_service(port, env, self.tmp / f"service-{port}.log")

    async def kill(self, index: int) -> None:
        """SIGKILL process ``index`` and reap it."""
        child = self.children[index]
        child.kill()
        await child.proc.wait()

    async def restart(self, index: int) -> None:
        """Start process ``index`` again on its port."""
        self.children[index] = await self._spawn(index)

    async def stop(self) -> None:
        """SIGTERM every process (SIGKILL after 10 s)."""
        for child in self.children:
            await child.stop()
