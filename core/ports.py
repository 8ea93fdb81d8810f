"""Ports: the small protocols through which the core's shell reaches outside systems.

All of them are here: :class:`Assistant` (understand and write replies), :class:`Messenger`
(the WhatsApp Cloud API), :class:`MarketOrders` (the Dloop market) and :class:`PushClient`
(FCM). The store's own seams (``KeyStore``, ``Leases``) stay with the store and engine.

Each port has a real adapter and a deterministic fake in ``adapters/`` that pass the
same contract tests. Adapters return our own types and raise the errors below, never
SDK objects or SDK exceptions.

Error tree (one place, used by every adapter):

* :class:`TransientError`  - worth retrying later (timeouts, 5xx, rate limits);
* :class:`PermanentError`  - record the failure, do not retry (bad request, expired token);
* :class:`ConcurrencyError` - an optimistic-concurrency conflict: reload and decide again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.catalog import Catalog, Product
from core.understanding import Intent, Understanding

if TYPE_CHECKING:  # the value types live with their rules, which import the errors below
    from core.market import MarketOrderRequest
    from core.outbound import MediaInfo, OutboundMessage, SendResult


class PortError(Exception):
    """Base of every error an adapter raises."""


class TransientError(PortError):
    """The outside system failed in a way that may pass: retry with backoff."""


class PermanentError(PortError):
    """The outside system refused for good: record the failure, do not retry."""


class ConcurrencyError(PortError):
    """Someone else wrote first: reload the state and decide again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One line of conversation history given to the assistant."""

    role: str  # "customer" | "assistant" | "agent"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantTrace:
    """How an assistant answer was produced; recorded with the answer for audit and replay."""

    engine: str  # "offline" | "openai" | "cache"
    model: str | None
    prompt_version: str
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Understood:
    """An :class:`Understanding` with the trace of how it was obtained."""

    understanding: Understanding
    trace: AssistantTrace


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyRequest:
    """Everything the reply writer may use: grounding rows, history and what to convey."""

    intent: Intent
    customer_text: str
    history: Sequence[Turn] = ()
    products: Sequence[Product] = ()  # matched catalogue rows (names, prices, stock, dealer)
    facts: dict[str, str] = field(default_factory=dict)  # opening hours, zones, fees...
    draft: str = ""  # the deterministic text our rules composed; the LLM may rephrase it


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A generated reply in Italian with its trace."""

    text: str
    trace: AssistantTrace


class AssistantError(PortError):
    """The assistant could not answer after the SDK's own retries (or refused, or was cut)."""


class Assistant(Protocol):
    """Understands Italian customer messages and writes replies.

    Promises (``tests/contract/test_assistant_contract.py``): cart lines and product hits
    name only products of the given catalogue; what cannot be matched is kept as an
    unresolved item, never dropped; every answer carries a trace naming its engine and
    prompt version; an engine that cannot answer raises :class:`AssistantError`.
    """

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """Classify ``text`` and extract its cart or the products it asks about."""
        ...

    async def reply(self, request: ReplyRequest) -> Reply:
        """Write the customer-facing reply for ``request`` (Italian, short, grounded).

        The text is never empty and has no surrounding blanks.
        """
        ...


class Messenger(Protocol):
    """Outbound half of the WhatsApp Cloud API, as the rest of the service sees it."""

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message`` once; raise :mod:`core.send_errors` errors on failure."""
        ...

    async def fetch_media(self, media_id: str) -> MediaInfo:
        """Look up a received media item's download URL."""
        ...

    async def download_media(self, url: str) -> bytes:
        """Download the bytes behind a :class:`MediaInfo` URL."""
        ...


class MarketOrders(Protocol):
    """Creates Dloop market orders.

    ``create`` returns the market order id; calling it again for the same ``relay_id``
    (even concurrently) returns the same id and makes no second order. It raises
    ``core.ports.TransientError`` (retry later; nothing was created) or
    ``core.ports.PermanentError`` (the market refused the order, e.g. one without
    lines). Contract:
    ``tests/contract/test_market_contract.py``.
    """

    async def create(self, order: MarketOrderRequest) -> str:
        """Create (or find) the market order for ``order.relay_id``."""
        ...


class UnregisteredTokenError(PermanentError):
    """The push provider says the device token is no longer valid: remove it."""


class PushClient(Protocol):
    """Push notifications (FCM), as the notify sender needs them.

    Promises (``tests/contract/test_push_contract.py``): each accepted notification gets
    its own message name; a body too long for the provider's 4 KB limit is shortened,
    never refused; data alone over the limit is a :class:`PermanentError`; a token the
    provider no longer knows is an :class:`UnregisteredTokenError`; an unreachable
    provider is a :class:`TransientError`.
    """

    async def send(self, token: str, *, title: str, body: str, data: dict[str, str]) -> str:
        """Send one notification; returns the provider's message name."""
        ...
