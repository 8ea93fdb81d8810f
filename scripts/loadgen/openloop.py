"""An open-loop load generator: arrivals on a fixed clock, latency from the scheduled time.

Request ``i`` is due at ``start + i / rate`` whatever happened to the earlier ones, so a
slow service shows up as latency rather than as fewer requests (no coordinated
omission); latency runs from the scheduled moment, so time spent waiting on our own
event loop counts too. At most ``cap`` requests are in flight: an arrival finding the
cap reached is an ``overflow`` error, sent nowhere.

Whatever was not acknowledged with a 200 (overflow, connection refused or reset, a
timeout, a 5xx) is redelivered later with a growing delay, as Meta redelivers webhooks.
After the measured window the generator keeps redelivering until everything is
acknowledged or ``drain`` seconds have passed. Redeliveries are counted apart and never
enter the latency figures.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from scripts.loadgen.traffic import Delivery, Traffic


@dataclass(slots=True)
class LoadStats:
    """What the generator saw."""

    scheduled: int = 0  # arrivals due within the window
    ok: int = 0  # arrivals answered 200 on their first attempt
    latencies: list[float] = field(default_factory=list)  # s, first attempts answered 200
    errors: Counter[str] = field(default_factory=Counter)  # every failed attempt, by kind
    kinds: Counter[str] = field(default_factory=Counter)  # arrivals by traffic kind
    redeliveries: int = 0
    redelivered_ok: int = 0
    acked: dict[str, Delivery] = field(default_factory=dict)  # by body SHA-256
    unacked: dict[str, Delivery] = field(default_factory=dict)  # never acknowledged
    seconds: float = 0.0  # the measured window, as it really lasted
    drain_seconds: float = 0.0
    client_cpu: float = 0.0  # the generator's CPU seconds per second of the window
    loadavg: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start and end

    def percentile(self, q: float) -> float:
        """Latency at quantile ``q`` (0..1) in seconds; 0 with no samples."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class OpenLoop:
    """Sends ``traffic`` to ``targets`` (base URLs, taken in turn) at ``rate`` per second."""

    def __init__(
        self,
        targets: list[str],
        traffic: Traffic,
        *,
        rate: float,
        duration: float,
        cap: int = 256,
        timeout: float = 10.0,
        drain: float = 60.0,
    ) -> None:
        if rate <= 0 or duration <= 0 or cap < 1:
            raise ValueError("rate and duration must be positive and cap at least 1")
        self.targets, self.traffic = targets, traffic
        self.rate, self.duration, self.cap = rate, duration, cap
        self.timeout, self.drain = timeout, drain
        self.stats = LoadStats()
        self._inflight = 0
        self._retry: list[tuple[float, int, Delivery, int]] = []  # (due, tiebreak, d, attempt)
        self._tiebreak = itertools.count()
        self._turn = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()
        self.on_second: Callable[[LoadStats], None] | None = None

    async def run(self) -> LoadStats:
        """Run the window, then drain; returns :attr:`stats`."""
        connector = aiohttp.TCPConnector(limit=self.cap, limit_per_host=0)
        client_timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as http:
            started, cpu, load = time.monotonic(), time.process_time(), os.getloadavg()[0]
            await self._window(http, started)
            self.stats.seconds = time.monotonic() - started
            self.stats.client_cpu = (time.process_time() - cpu) / self.stats.seconds
            self.stats.loadavg = (load, os.getloadavg()[0])
            await self._drain(http)
            self.stats.drain_seconds = time.monotonic() - started - self.stats.seconds
        return self.stats

    async def _window(self, http: aiohttp.ClientSession, started: float) -> None:
        end, interval, tick = started + self.duration, 1.0 / self.rate, started + 1.0
        for i in itertools.count():
            due = started + i * interval
            if due >= end:
                break
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            self.stats.scheduled += 1
            delivery = self.traffic.next()
            self.stats.kinds[delivery.kind] += 1
            self._fire(http, delivery, due, attempt=0)
            if due >= tick:
                tick += 1.0
                self._redeliver_due(http)
                if self.on_second is not None:
                    self.on_second(self.stats)

    async def _drain(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + self.drain
        while time.monotonic() < deadline:
            if self._tasks:
                await asyncio.wait(tuple(self._tasks), timeout=0.2)
            elif not self._retry:
                break
            else:
                await asyncio.sleep(min(0.2, max(0.0, self._retry[0][0] - time.monotonic())))
            self._redeliver_due(http)
        if self._tasks:
            await asyncio.wait(tuple(self._tasks))
        for _due, _n, delivery, _attempt in self._retry:
            if delivery.sha256 not in self.stats.acked:
                self.stats.unacked[delivery.sha256] = delivery

    def _redeliver_due(self, http: aiohttp.ClientSession) -> None:
        now = time.monotonic()
        while self._retry and self._retry[0][0] <= now and self._inflight < self.cap:
            _due, _n, delivery, attempt = heapq.heappop(self._retry)
            self.stats.redeliveries += 1
            self._fire(http, delivery, now, attempt)

    def _fire(
        self, http: aiohttp.ClientSession, delivery: Delivery, due: float, attempt: int
    ) -> None:
        if self._inflight >= self.cap:
            self._failed(delivery, "overflow", attempt)
            return
        self._inflight += 1
        task = asyncio.create_task(self._post(http, delivery, due, attempt))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(
        self, http: aiohttp.ClientSession, delivery: Delivery, due: float, attempt: int
    ) -> None:
        base = self.targets[next(self._turn) % len(self.targets)]
        try:
            async with http.post(
                f"{base}/webhook", data=delivery.body, headers=delivery.headers()
            ) as resp:
                await resp.read()
                kind = "ok" if resp.status == 200 else f"http_{resp.status}"
        except TimeoutError:
            kind = "timeout"
        except aiohttp.ClientConnectorError:
            kind = "connect"
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            kind = "disconnected"
        except aiohttp.ClientError as exc:
            kind = type(exc).__name__
        finally:
            self._inflight -= 1
        if kind != "ok":
            self._failed(delivery, kind, attempt)
            return
        if attempt == 0:
            self.stats.ok += 1
            self.stats.latencies.append(time.monotonic() - due)
        else:
            self.stats.redelivered_ok += 1
        self.stats.acked[delivery.sha256] = delivery
        self.stats.unacked.pop(delivery.sha256, None)
        self.traffic.acknowledged(delivery)

    def _failed(self, delivery: Delivery, kind: str, attempt: int) -> None:
        """Count the failure and schedule the redelivery, as Meta would."""
        self.stats.errors[kind] += 1
        delay = min(0.5 * 2**attempt, 5.0)
        heapq.heappush(
            self._retry, (time.monotonic() + delay, next(self._tiebreak), delivery, attempt + 1)
        )
