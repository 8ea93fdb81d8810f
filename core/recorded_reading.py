"""The assistant's reading of a turn as a recorded event, and read back from it.

The reactor records ``MessageUnderstood`` before anything acts on the reading (and
``what-if`` compares today's with it); a turn decided again reads the recorded one
instead of asking the assistant.
"""

from __future__ import annotations

from core import checkout_turn
from core.ports import Understood
from core.understanding import (
    CartLine,
    Intent,
    ProductHit,
    Understanding,
    UnresolvedItem,
)
from events.conversation import (
    AssistantTraceRecord,
    MessageUnderstood,
    ProductMatch,
    UnderstoodLine,
    UnresolvedLine,
)


def understanding_event(wamids: tuple[str, ...], understood: Understood) -> MessageUnderstood:
    """The event recording what the assistant understood of a turn (before acting on it)."""
    u, t = understood.understanding, understood.trace
    return MessageUnderstood(
        wamids=wamids,
        intent=u.intent.value,
        confidence=u.confidence,
        cart=tuple(UnderstoodLine(product_id=c.product_id, quantity=c.quantity) for c in u.cart),
        unresolved=tuple(
            UnresolvedLine(text=x.text, quantity=x.quantity, candidates=x.candidates)
            for x in u.unresolved
        ),
        products=tuple(ProductMatch(product_id=p.product_id, score=p.score) for p in u.products),
        trace=AssistantTraceRecord(
            engine=t.engine,
            model=t.model,
            prompt_version=t.prompt_version,
            latency_ms=t.latency_ms,
            prompt_tokens=t.prompt_tokens,
            completion_tokens=t.completion_tokens,
            cached=t.cached,
        ),
        topic=u.topic.value if u.topic is not None else None,
        delivery=checkout_turn.delivery_reading(u.delivery),
    )


def understanding_of(e: MessageUnderstood) -> Understanding:
    """The :class:`Understanding` a recorded event holds (replay and what-if runs)."""
    return Understanding(
        intent=Intent(e.intent),
        confidence=e.confidence,
        cart=tuple(CartLine(product_id=c.product_id, quantity=c.quantity) for c in e.cart),
        unresolved=tuple(
            UnresolvedItem(text=x.text, quantity=x.quantity, candidates=x.candidates)
            for x in e.unresolved
        ),
        products=tuple(ProductHit(product_id=p.product_id, score=p.score) for p in e.products),
        topic=checkout_turn.topic_of(e.topic),
        delivery=checkout_turn.delivery_hints(e.delivery),
    )
