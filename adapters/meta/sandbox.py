"""The sandbox WhatsApp transport: messages are recorded here instead of reaching Meta.

Used when no Graph API credentials are configured (the embedded default) and by the
dashboard's simulator: each send is kept in a bounded in-memory log with a generated
wamid (``wamid.sandbox.<n>``) and pushed to every subscriber's queue, which is how
``/simulate?wait=`` sees the bot's answer. The JSON body is built with the same
:func:`core.outbound.payload_for` as the real sender, so what the simulator shows is
what Meta would have received.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from core.outbound import MarkRead, MediaInfo, OutboundMessage, SendResult, payload_for
from core.send_errors import PermanentSendError


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxSent:
    """One message the sandbox accepted: the value, its JSON body and its wamid."""

    seq: int  # 1, 2, 3... in send order
    wamid: str | None  # None for mark-as-read, as with Meta
    message: OutboundMessage
    payload: dict[str, Any]


class SandboxMessenger:
    """A :class:`core.ports.Messenger` that records instead of sending."""

    def __init__(self, *, capacity: int = 1000, queue_size: int = 1000) -> None:
        self._log: deque[SandboxSent] = deque(maxlen=capacity)
        self._counter = itertools.count(1)
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[SandboxSent]] = set()

    async def send(self, message: OutboundMessage) -> SendResult:
        """Record ``message``, notify subscribers and return its sandbox wamid."""
        seq = next(self._counter)
        wamid = None if isinstance(message.content, MarkRead) else f"wamid.sandbox.{seq}"
        sent = SandboxSent(seq=seq, wamid=wamid, message=message, payload=payload_for(message))
        self._log.append(sent)
        for queue in self._subscribers:
            _offer(queue, sent)
        return SendResult(wamid=wamid, outbound_id=message.outbound_id)

    async def fetch_media(self, media_id: str) -> MediaInfo:
        """Always refuses: the sandbox has no media store (simulated messages carry none)."""
        raise PermanentSendError(
            f"sandbox transport cannot fetch media {media_id!r}: "
            "configure WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID for real media"
        )

    async def download_media(self, url: str) -> bytes:
        """Always refuses, like :meth:`fetch_media`."""
        raise PermanentSendError(f"sandbox transport cannot download media from {url!r}")

    @property
    def sent(self) -> tuple[SandboxSent, ...]:
        """The most recent sends (at most ``capacity``), oldest first."""
        return tuple(self._log)

    def sent_to(self, recipient: str) -> tuple[SandboxSent, ...]:
        """The recorded sends addressed to ``recipient``."""
        return tuple(s for s in self._log if s.message.to == recipient)

    def subscribe(self) -> asyncio.Queue[SandboxSent]:
        """A queue that receives every later send; pass it to :meth:`unsubscribe` when done.

        The queue is bounded: a subscriber that stops reading loses the oldest items.
        """
        queue: asyncio.Queue[SandboxSent] = asyncio.Queue(maxsize=self._queue_size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[SandboxSent]) -> None:
        """Stop feeding ``queue`` (unknown queues are ignored)."""
        self._subscribers.discard(queue)

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[SandboxSent]]:
        """``subscribe()`` for the length of an ``async with`` block."""
        queue = self.subscribe()
        try:
            yield queue
        finally:
            self.unsubscribe(queue)


def _offer(queue: asyncio.Queue[SandboxSent], sent: SandboxSent) -> None:
    if queue.full():
        queue.get_nowait()  # drop the oldest: a slow reader must not block sending
    queue.put_nowait(sent)
