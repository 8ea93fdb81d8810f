"""Properties: ``understand`` never raises and is deterministic."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.catalog import parse_catalog
from core.nlu import understand
from core.understanding import Intent

ROOT = Path(__file__).resolve().parents[2]
CATALOG = parse_catalog(
    json.loads((ROOT / "adapters" / "data" / "catalog_demo.json").read_text("utf-8"))
)
WORDS = "vorrei ordino avete il mio ordine 2 tre x2 4x85 1,5 kg crocchette rose uova , e ? più"
ITALIAN = st.sampled_from((*WORDS.split(), "un'", "dozzina", "mezza", "paio", "rimborso", "caffè"))
TEXT = st.one_of(st.text(max_size=200), st.lists(ITALIAN, max_size=30).map(" ".join))


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_understand_never_raises_and_stays_in_range(text: str) -> None:
    """Any text gives a valid intent, a confidence in [0, 1] and positive quantities."""
    result = understand(text, CATALOG)
    assert result.intent in set(Intent)
    assert 0.0 <= result.confidence <= 1.0
    assert all(line.quantity > 0 for line in result.cart)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_understand_is_deterministic(text: str) -> None:
    """The same text and catalogue always give the same understanding."""
    assert understand(text, CATALOG) == understand(text, CATALOG)
