"""``what-if``: nothing when the rules are unchanged; named differences after a change."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.assistant.offline import OfflineAssistant
from adapters.bootstrap import load_catalog
from adapters.ops.whatif import what_if
from core.catalog import Catalog
from core.ports import AssistantTrace, Reply, ReplyRequest, Turn, Understood
from core.understanding import Intent, Understanding
from tests.conftest import person_stream
from tests.ops.conftest import ANNA, BRUNO, Service, at

pytestmark = pytest.mark.integration


class EverythingIsChat:
    """A changed 'rule set': every message reads as general chat."""

    async def understand(
        self, text: str, *, history: Sequence[Turn], catalog: Catalog
    ) -> Understood:
        """Always general chat, fully confident."""
        trace = AssistantTrace(engine="test", model=None, prompt_version="t-1", latency_ms=0)
        return Understood(
            understanding=Understanding(intent=Intent.GENERAL_CHAT, confidence=1.0), trace=trace
        )

    async def reply(self, request: ReplyRequest) -> Reply:
        """Never asked for by what-if."""
        raise AssertionError("what-if reuses recorded reply texts")


async def test_unchanged_rules_report_no_difference(journeys: Service) -> None:
    """The offline NLU that decided the journeys decides them the same way again."""
    report = await what_if(journeys.store, OfflineAssistant(), load_catalog(None))
    assert report.differences == []
    assert report.turns == 5
    assert report.understood == 5


async def test_changed_classification_is_reported_per_turn(journeys: Service) -> None:
    """Reading every message as chat changes the order and the support turns."""
    report = await what_if(journeys.store, EverythingIsChat(), load_catalog(None))
    changed = {(d.stream, d.aspect, d.recorded, d.today) for d in report.differences}
    assert (person_stream(ANNA), "classification", "order_request", "general_chat") in changed
    assert (person_stream(BRUNO), "classification", "support_request", "general_chat") in changed


async def test_changed_classification_changes_the_answer(journeys: Service) -> None:
    """The support turn would no longer escalate: the answer differs too."""
    report = await what_if(journeys.store, EverythingIsChat(), load_catalog(None))
    [answer] = [
        d for d in report.differences if d.stream == person_stream(BRUNO) and d.aspect == "answer"
    ]
    assert "conversation.escalated" in answer.recorded
    assert "conversation.escalated" not in answer.today


async def test_changed_catalogue_changes_the_match(journeys: Service) -> None:
    """Without the litter in the catalogue, Anna's cart is read differently."""
    demo = load_catalog(None)
    fewer = Catalog.of(demo.dealers, (p for p in demo.products if "lettiera" not in p.name.lower()))
    report = await what_if(journeys.store, OfflineAssistant(), fewer)
    assert any(d.stream == person_stream(ANNA) and d.aspect == "match" for d in report.differences)


async def test_since_limits_the_turns_replayed(journeys: Service) -> None:
    """Turns decided before --since are not replayed."""
    report = await what_if(
        journeys.store, EverythingIsChat(), load_catalog(None), since=at("2999-01-01T00:00")
    )
    assert (report.turns, report.differences) == (0, [])


async def test_what_if_writes_nothing(journeys: Service) -> None:
    """The log is the same length before and after a run."""
    before = await journeys.store.last_position()
    await what_if(journeys.store, EverythingIsChat(), load_catalog(None))
    assert await journeys.store.last_position() == before
