"""A small TTL + LRU cache for replies that need no per-customer context.

Greetings, opening hours and delivery-zone questions get the same answer for everyone,
so paying the LLM for each of them is waste. Entries are keyed by the customer's text
normalised (lowercase, accents folded, punctuation and extra spaces removed), the
prompt version and the catalogue version: changing either makes old answers
unreachable, and they age out through the TTL and the LRU bound.

The clock is injected (``time.monotonic`` by default) so tests are deterministic.
"""

from __future__ import annotations

import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

_Key = tuple[str, str, str]


def normalise_text(text: str) -> str:
    """Lowercase ``text``, fold accents, drop punctuation and collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = (ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(kept).split())


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """Counters of a :class:`ReplyCache`, for logs and the dashboard."""

    hits: int
    misses: int
    entries: int
    evictions: int  # dropped by the LRU bound
    expirations: int  # dropped because older than the TTL


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    text: str
    stored_at: float


class ReplyCache:
    """Replies by (normalised text, prompt version, catalogue version), with TTL and LRU."""

    def __init__(
        self,
        ttl_seconds: float = 600,
        max_entries: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0 or max_entries <= 0:
            raise ValueError("ttl_seconds and max_entries must be positive")
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._hits = self._misses = self._evictions = self._expirations = 0

    def get(self, text: str, *, prompt_version: str, catalog_version: str) -> str | None:
        """The cached reply for ``text``, or None (counted as a miss) if absent or expired."""
        key = (normalise_text(text), prompt_version, catalog_version)
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry.stored_at >= self._ttl:
            del self._entries[key]
            self._expirations += 1
            entry = None
        if entry is None:
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return entry.text

    def put(self, text: str, reply: str, *, prompt_version: str, catalog_version: str) -> None:
        """Remember ``reply`` for ``text``; evicts the least recently used entry when full."""
        key = (normalise_text(text), prompt_version, catalog_version)
        self._entries[key] = _Entry(text=reply, stored_at=self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
            self._evictions += 1

    def stats(self) -> CacheStats:
        """Current counters."""
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            entries=len(self._entries),
            evictions=self._evictions,
            expirations=self._expirations,
        )
