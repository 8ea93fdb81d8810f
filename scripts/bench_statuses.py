"""``dloop-bot bench statuses``: what three status webhooks cost against the send they report.

In process, on a fresh store per backend (SQLite file; a PostgreSQL schema when
reachable), with the offline assistant and the sandbox messenger. ``--customers``
customers each write once (untimed warm-up: people created, state kept), then two timed
phases, ``--lanes`` customers at a time (so the group commit batches, as under load),
each on the real path from the webhook body to the read tables (projections caught up
at the end of the phase, inside its timing):

* send: a signed-shape text webhook through the :class:`~adapters.ingest.Ingestor` (parse,
  pseudonymise, group commit), the conversation turn, the outbox's send, projections;
* statuses: Meta's three status webhooks (sent, delivered, read) for that reply, each
  through the Ingestor, the outbox (which reconciles statuses; the conversation reactor
  does not take them: ``is_conversation_input``), projections.

CPU is the process's user + system time (the SQLite driver thread included) per send and
per three statuses. Goal (issue 15): three statuses cost less than the send.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.engine.conversation import ConversationReactor
from adapters.engine.outbox import OutboxSender
from adapters.fakes.graph_api import status_webhook
from adapters.ingest import Ingestor
from adapters.meta.sandbox import SandboxMessenger
from adapters.readmodel.registry import all_projections
from adapters.readmodel.runner import ProjectionsRunner
from adapters.store.event_store import EventStore
from adapters.store.group_commit import GroupCommitter
from adapters.web.simulate import text_delivery
from events.conversation import OutboundSent, ReplyQueued
from scripts.bench_rebuild import PG_URL, fresh_store, reachable_backends
from scripts.ingest_mix import DISPLAY, NUMBER_ID, STATUSES, WABA, digits


class Pipeline:
    """The stages a webhook goes through in the worker, driven one customer at a time."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.committer = GroupCommitter(store)
        self.ingestor = Ingestor(self.committer)
        self.bot = ConversationReactor(store, OfflineAssistant(), lambda: load_catalog(None))
        self.outbox = OutboxSender(store, SandboxMessenger(), pair_interval=0.0)
        self.projections = ProjectionsRunner(store, all_projections())

    async def send(self, customer: int, text: str) -> None:
        """A customer's text, answered and projected."""
        stream = await self.store.people.stream_of(f"conversation-+{digits(customer)}")
        before = await self.store.stream_version(stream)
        body = json.dumps(text_delivery(digits(customer), text), ensure_ascii=False).encode()
        await self.ingestor.ingest(body)
        await self.bot.handle(stream, [])
        await self.outbox.handle(stream, await self.store.read_stream(stream, after_version=before))

    async def statuses(self, customer: int, oid: str, wamid: str) -> None:
        """Meta's three statuses of our reply ``oid``, reconciled and projected."""
        stream = await self.store.people.stream_of(f"conversation-+{digits(customer)}")
        before = await self.store.stream_version(stream)
        for status in STATUSES:
            doc = status_webhook(
                waba_id=WABA, phone_number_id=NUMBER_ID, display_phone_number=DISPLAY,
                wamid=wamid, status=status, timestamp=int(time.time()),
                request={"to": digits(customer), "biz_opaque_callback_data": oid},
            )  # fmt: skip
            await self.ingestor.ingest(json.dumps(doc).encode())
        await self.outbox.handle(stream, await self.store.read_stream(stream, after_version=before))

    async def last_send(self, customer: int) -> tuple[str, str]:
        """(outbound id, wamid) of the latest reply sent to ``customer``."""
        stream = await self.store.people.stream_of(f"conversation-+{digits(customer)}")
        history = await self.store.read_stream(stream)
        queued = [e.payload.outbound_id for e in history if isinstance(e.payload, ReplyQueued)]
        sent = {e.payload.outbound_id: e.payload.wamid for e in history
                if isinstance(e.payload, OutboundSent)}  # fmt: skip
        return queued[-1], sent[queued[-1]]


async def measure(store: EventStore, customers: int, lanes: int) -> tuple[float, float]:
    """CPU ms per send and per three statuses, ``lanes`` customers at a time."""
    pipe = Pipeline(store)
    lane = asyncio.Semaphore(lanes)

    async def each(step: Callable[[int], Awaitable[None]]) -> float:
        async def one(c: int) -> None:
            async with lane:
                await step(c)

        cpu = time.process_time()
        await asyncio.gather(*(one(c) for c in range(customers)))
        await pipe.projections.catch_up()  # the read tables, as the runner batches them
        return (time.process_time() - cpu) * 1000 / customers

    await pipe.committer.start()
    try:
        await each(lambda c: pipe.send(c, "Buongiorno!"))  # warm-up: people, kept state
        send_ms = await each(lambda c: pipe.send(c, "Avete la crostata di ricotta?"))
        sends = [await pipe.last_send(c) for c in range(customers)]
        status_ms = await each(lambda c: pipe.statuses(c, *sends[c]))
    finally:
        await pipe.committer.close()
    return send_ms, status_ms


async def run(args: argparse.Namespace) -> int:
    """Every reachable backend; prints one line each and the verdict."""
    notes: list[str] = []
    backends = await reachable_backends(args.backends, args.pg_url, notes)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            async with fresh_store(backend, Path(tmp), args.pg_url, "bench_statuses") as store:
                send_ms, status_ms = await measure(store, args.customers, args.lanes)
            ratio = status_ms / send_ms if send_ms else 0.0
            ok = ok and ratio < 1.0
            print(
                f"{backend:8} CPU per send {send_ms:6.2f} ms, per three statuses"
                f" {status_ms:6.2f} ms: x{ratio:.2f} of a send (goal < 1)",
                flush=True,
            )
    for note in notes:
        print(note)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``dloop-bot bench statuses``."""
    parser = argparse.ArgumentParser(prog="dloop-bot bench statuses", description=__doc__)
    parser.add_argument("--customers", type=int, default=300, help="customers (one send each)")
    parser.add_argument("--lanes", type=int, default=16, help="customers handled at once")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args(argv)
    if args.customers < 1 or args.lanes < 1:
        parser.error("--customers and --lanes must be at least 1")
    return asyncio.run(run(args))
