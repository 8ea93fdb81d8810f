"""Ingestion: a verified webhook body becomes durable facts before we answer 200.

The raw delivery (``WebhookReceived``) and every fact parsed from it go to the group
committer as ONE unit, so they are committed in the same transaction; the caller is
released only once that transaction is durable. A redelivery produces the same
deterministic event ids and is a reported no-op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.meta.parse import ParsedDelivery, StreamEvent, parse_delivery
from adapters.store.event_store import STORE_ERRORS
from adapters.store.group_commit import GroupCommitter
from adapters.store.people import People
from adapters.store.types import AppendRequest, Expect, StoreUnavailableError
from core.phones import conversation_stream


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to one delivery."""

    delivery_id: str
    facts: int  # facts parsed from the body
    new_facts: int  # facts stored now (the rest were already stored)
    duplicate: bool  # the very same body was stored before
    last_position: int  # highest position written now (0 when nothing was new)


class Ingestor:
    """Parses a verified body and commits it with its facts through group commit."""

    def __init__(
        self,
        committer: GroupCommitter,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.committer = committer
        self._clock = clock

    async def ingest(self, body: bytes, content_type: str = "application/json") -> IngestOutcome:
        """Record ``body`` and its facts durably; raises StoreUnavailableError if it cannot.

        Never waits for room in the group commit's queue: past saturation it raises
        :class:`~adapters.store.types.StoreBusyError` (503: Meta redelivers) and writes
        nothing, so a webhook's latency stays bounded by the queue, not by the load.
        """
        parsed = parse_delivery(body, received_at=self._clock(), content_type=content_type)
        try:
            parsed = await pseudonymise(parsed, self.committer.store.people)
        except STORE_ERRORS as exc:  # the person table is in the same database
            raise StoreUnavailableError(f"person lookup failed: {exc}"[:300]) from exc
        results = await self.committer.append(_unit(parsed), wait=False)
        appended = [a for r in results for a in r.appended]
        return IngestOutcome(
            delivery_id=str(parsed.delivery.event.event_id),
            facts=len(parsed.facts),
            new_facts=sum(len(r.appended) for r in results[1:]),
            duplicate=results[0].was_duplicate,
            last_position=max((a.position for a in appended), default=0),
        )


async def pseudonymise(parsed: ParsedDelivery, people: People) -> ParsedDelivery:
    """``parsed`` with every conversation stream named by the person id, not the phone."""
    facts = []
    for fact in parsed.facts:
        key = fact.stream.removeprefix(_CONVERSATION)
        stream = fact.stream
        if key != stream:
            stream = conversation_stream(await people.person_of(key))
        facts.append(
            StreamEvent(stream=stream, event=fact.event) if stream != fact.stream else fact
        )
    return ParsedDelivery(delivery=parsed.delivery, facts=tuple(facts))


_CONVERSATION = "conversation-"


def _unit(parsed: ParsedDelivery) -> list[AppendRequest]:
    """The delivery first, then one request per fact, in document order."""
    unit = [AppendRequest(parsed.delivery.stream, Expect.ANY, [parsed.delivery.event])]
    unit.extend(AppendRequest(f.stream, Expect.ANY, [f.event]) for f in parsed.facts)
    return unit
