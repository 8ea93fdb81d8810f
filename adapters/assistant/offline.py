"""The offline assistant: the rule-based Italian NLU behind the :class:`Assistant` port.

Used when no OpenAI key is configured, as the LLM's deterministic twin, and by
``dloop-bot eval-nlu --engine offline``. It does no I/O; only its latency is measured.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from core.catalog import Catalog
from core.nlu import understand
from core.nlu.replies import default_reply
from core.ports import AssistantTrace, Reply, ReplyRequest, Turn, Understood

ENGINE = "offline"
PROMPT_VERSION = "offline-1"


def _trace(started: float) -> AssistantTrace:
    latency = round((time.perf_counter() - started) * 1000)
    return AssistantTrace(
        engine=ENGINE, model=None, prompt_version=PROMPT_VERSION, latency_ms=latency
    )


class OfflineAssistant:
    """Implements :class:`core.ports.Assistant` with :mod:`core.nlu` and its templates."""

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """Classify ``text`` and read its cart or question; ``history`` is not used."""
        started = time.perf_counter()
        understanding = understand(text, catalog)
        return Understood(understanding=understanding, trace=_trace(started))

    async def reply(self, request: ReplyRequest) -> Reply:
        """The composed draft when there is one, else a short template for the intent."""
        started = time.perf_counter()
        text = request.draft or default_reply(
            request.intent, request.customer_text, request.products
        )
        return Reply(text=text, trace=_trace(started))
