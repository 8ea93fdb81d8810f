"""``dloop-bot serve`` on SQLite with ``SERVE_SPLIT=1``: a web process and a worker child.

Real processes on a fresh SQLite file, the fake Graph API in this process: the worker
child answers what the web parent records, comes back when killed (nothing acknowledged
lost, nothing sent twice), stops with its parent on SIGTERM or SIGINT, and dies with it
on SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from adapters.fakes.graph_api import FakeGraphApi
from scripts.bench_e2e import Child, migrate_url, post_text
from tests.engine.conftest import Spawn
from tests.engine.support import accepted_by_id, messages, replies, settled, streams, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux ``/proc``)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in listed.split()]


def alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def role_of(pid: int) -> str | None:
    """``DLOOP_ROLE`` in the environment ``pid`` was started with."""
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if item.startswith(b"DLOOP_ROLE="):
            return item.split(b"=", 1)[1].decode()
    return None


async def worker_of(child: Child, timeout: float = 30.0) -> int:  # noqa: ASYNC109 - a bounded wait
    """The one worker child of the ``serve`` process ``child``."""
    found: list[int] = []

    async def one() -> bool:
        found[:] = children(child.proc.pid)
        return len(found) == 1

    await wait_until(one, timeout)
    return found[0]


async def serve(tmp_path: Path, spawn: Spawn) -> tuple[Child, str, str]:
    """``serve`` on a fresh SQLite file: (the web process, its base URL, the database URL)."""
    url = f"sqlite+aiosqlite:///{tmp_path}/split.db"
    await migrate_url(url)
    child, base = await spawn(url, WHATSAPP_MESSAGES_PER_SECOND="1000", SERVE_SPLIT="1")
    return child, base, url


async def send(base: str, phones: list[str], text: str) -> None:
    """One acknowledged message from each phone."""
    async with aiohttp.ClientSession() as http:
        for phone in phones:
            status, _wamid = await post_text(http, base, phone, text)
            assert status == 200


async def answered(url: str, phones: list[str], per_phone: int) -> bool:
    """Every phone's ``per_phone`` messages are recorded and answered, every send settled."""
    found = await streams(url, phones)
    return all(
        len(messages(found[p])) == per_phone and replies(found[p]) and settled(found[p])
        for p in phones
    )


async def test_the_worker_child_answers_what_the_web_process_records(
    tmp_path: Path, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """Two processes: web (the parent, HTTP) and worker (the child, reactors); replies flow."""
    web, base, url = await serve(tmp_path, spawn)
    worker = await worker_of(web)
    assert (role_of(web.proc.pid), role_of(worker)) == (None, "worker")
    phones = [f"3934060000{n:02d}" for n in range(4)]
    await send(base, phones, "Buongiorno!")
    await wait_until(lambda: answered(url, phones, 1), 30)
    assert max(accepted_by_id(graph).values()) == 1


async def test_a_killed_worker_is_restarted_and_nothing_acknowledged_is_lost(
    tmp_path: Path, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """SIGKILL the worker: a new one starts, every message before and after is answered once."""
    web, base, url = await serve(tmp_path, spawn)
    phones = [f"3934070000{n:02d}" for n in range(6)]
    await send(base, phones, "Buongiorno!")
    first = await worker_of(web)
    os.kill(first, signal.SIGKILL)
    await send(base, phones, "Avete le crostate?")  # acknowledged while no worker runs

    async def replaced() -> bool:
        now = children(web.proc.pid)
        return len(now) == 1 and now[0] != first

    await wait_until(replaced, 30)
    await wait_until(lambda: answered(url, phones, 2), 60)
    assert max(accepted_by_id(graph).values()) == 1, "no reply sent twice"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_to_serve_stops_both_processes_cleanly(
    tmp_path: Path, spawn: Spawn, graph: FakeGraphApi, sig: signal.Signals
) -> None:
    """The parent alone is signalled: it stops its worker, both end, the parent exits 0."""
    web, base, url = await serve(tmp_path, spawn)
    phones = ["393408000001"]
    await send(base, phones, "Buongiorno!")
    await wait_until(lambda: answered(url, phones, 1), 30)  # the worker is up and working
    worker = await worker_of(web)
    web.proc.send_signal(sig)
    code = await asyncio.wait_for(web.proc.wait(), 60)
    assert code == 0, web.log.read_text()[-2000:]
    assert not alive(worker)
    assert "serve.worker_exited" not in web.log.read_text(), "a stop is not a crash"


async def test_a_killed_web_process_takes_its_worker_along(
    tmp_path: Path, spawn: Spawn, graph: FakeGraphApi
) -> None:
    """SIGKILL the parent: the kernel ends the worker too, so no orphan keeps the locks."""
    web, _base, _url = await serve(tmp_path, spawn)
    worker = await worker_of(web)
    web.kill()
    await web.proc.wait()

    async def gone() -> bool:
        return not alive(worker)

    await wait_until(gone, 10)
