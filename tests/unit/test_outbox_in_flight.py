"""The outbox state keeps "attempted without an outcome" as it folds, equal to the definition.

``attempted_only()`` used to be computed as ``attempted - done`` on every outbox turn,
which walked every reply the conversation ever had; it is now kept by ``evolve``. For
every order of every outbox fact about two replies, the kept set equals the definition.
"""

from __future__ import annotations

import itertools

from events.conversation import OutboundFailed, OutboundSent
from events.outbox import OutboundAttempted, OutboundReconciled
from events.send_retries import OutboundRetryScheduled
from tests.unit.outbox_given import NOW, Stream


def _facts(oid: str) -> list[object]:
    """Every outbox fact that moves ``oid`` into or out of "attempted, no outcome"."""
    return [
        OutboundAttempted(outbound_id=oid, attempt=1),
        OutboundAttempted(outbound_id=oid, attempt=2),
        OutboundSent(outbound_id=oid, wamid=f"wamid.{oid}"),
        OutboundFailed(outbound_id=oid, code=131000, title="x", retryable=False),
        OutboundReconciled(outbound_id=oid, wamid=f"wamid.{oid}", status="delivered"),
        OutboundRetryScheduled(outbound_id=oid, retry=1, due_at=NOW, first_failed_at=NOW),
    ]


def test_attempted_without_outcome_is_kept_equal_to_its_definition_in_every_order() -> None:
    """After each fact of any order of three facts per reply, kept == attempted - done."""
    checked = 0
    for a_facts in itertools.permutations(_facts("a"), 3):
        for b_facts in itertools.combinations(_facts("b"), 2):
            stream = Stream()
            for fact in itertools.chain.from_iterable(zip(a_facts, (*b_facts, None), strict=True)):
                if fact is None:
                    continue
                stream.store(fact)
                state = stream.state
                assert state.attempted_only() == state.attempted - state.done
                checked += 1
    assert checked > 1000
