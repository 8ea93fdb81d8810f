"""The reply cache: normalised keys, versions, TTL expiry, LRU bound and counters."""

from __future__ import annotations

import pytest

from adapters.assistant.cache import ReplyCache, normalise_text


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cache(clock: FakeClock, *, ttl_seconds: float = 600, max_entries: int = 1000) -> ReplyCache:
    return ReplyCache(ttl_seconds=ttl_seconds, max_entries=max_entries, clock=clock)


def test_normalise_folds_case_accents_punctuation_and_spaces() -> None:
    """Equivalent spellings of a message normalise to the same key text."""
    assert normalise_text("  Ciao!!  A che ORA   chiudete? È tardi… ") == (
        "ciao a che ora chiudete e tardi"
    )


def test_stored_reply_is_a_hit_for_an_equivalent_message() -> None:
    """A reply stored for one spelling is returned for another that normalises the same."""
    cache = _cache(FakeClock())
    cache.put("Ciao!", "Ciao, come posso aiutarti?", prompt_version="v1", catalog_version="c1")
    hit = cache.get("  ciao ", prompt_version="v1", catalog_version="c1")
    assert hit == "Ciao, come posso aiutarti?"
    assert cache.stats().hits == 1


def test_unknown_message_is_a_counted_miss() -> None:
    """A message never stored is a miss, and the miss is counted."""
    cache = _cache(FakeClock())
    assert cache.get("buongiorno", prompt_version="v1", catalog_version="c1") is None
    assert cache.stats().misses == 1


def test_other_prompt_or_catalogue_version_misses() -> None:
    """Changing the prompt or catalogue version makes old entries unreachable."""
    cache = _cache(FakeClock())
    cache.put("ciao", "Ciao!", prompt_version="v1", catalog_version="c1")
    assert cache.get("ciao", prompt_version="v2", catalog_version="c1") is None
    assert cache.get("ciao", prompt_version="v1", catalog_version="c2") is None


def test_entry_expires_after_the_ttl() -> None:
    """An entry older than the TTL is dropped and counted as an expiration."""
    clock = FakeClock()
    cache = _cache(clock, ttl_seconds=600)
    cache.put("ciao", "Ciao!", prompt_version="v1", catalog_version="c1")
    clock.now += 599
    assert cache.get("ciao", prompt_version="v1", catalog_version="c1") == "Ciao!"
    clock.now += 1
    assert cache.get("ciao", prompt_version="v1", catalog_version="c1") is None
    assert cache.stats().expirations == 1


def test_least_recently_used_entry_is_evicted_when_full() -> None:
    """Past max_entries the least recently used entry goes, a recently read one stays."""
    cache = _cache(FakeClock(), max_entries=2)
    cache.put("ciao", "1", prompt_version="v", catalog_version="c")
    cache.put("grazie", "2", prompt_version="v", catalog_version="c")
    cache.get("ciao", prompt_version="v", catalog_version="c")
    cache.put("orari", "3", prompt_version="v", catalog_version="c")
    assert cache.get("grazie", prompt_version="v", catalog_version="c") is None
    assert cache.get("ciao", prompt_version="v", catalog_version="c") == "1"
    assert cache.stats().entries == 2
    assert cache.stats().evictions == 1


def test_non_positive_bounds_are_refused() -> None:
    """A cache without room or lifetime is a configuration error."""
    with pytest.raises(ValueError, match="positive"):
        ReplyCache(max_entries=0)
