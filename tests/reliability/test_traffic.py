"""The load generator's traffic: signed like Meta, duplicates exact, statuses for our sends."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from adapters.meta.parse import parse_delivery
from adapters.meta.signature import SignatureCheck, check_signature
from events.whatsapp import MessageReceived
from scripts.loadgen.traffic import Traffic

SECRET = "traffic-secret"


def _traffic(seed: int = 3) -> Traffic:
    return Traffic(SECRET, phones=50, phone_number_id="106540352242922", seed=seed)


def test_every_delivery_is_signed_with_the_app_secret() -> None:
    """Each body verifies against its X-Hub-Signature-256 header."""
    traffic = _traffic()
    for _ in range(50):
        d = traffic.next()
        assert check_signature(d.body, d.signature, SECRET) is SignatureCheck.VALID


def test_messages_parse_as_facts_with_the_wamids_the_delivery_names() -> None:
    """Texts and batches parse into one MessageReceived per wamid carried."""
    traffic = _traffic()
    for _ in range(40):
        d = traffic.next()
        if d.kind in {"text", "batch"}:
            parsed = parse_delivery(d.body, received_at=datetime.now(UTC))
            payloads = [f.event.payload for f in parsed.facts]
            assert all(isinstance(p, MessageReceived) for p in payloads)
            assert [p.wamid for p in payloads] == list(d.wamids)


def test_redeliveries_repeat_an_acknowledged_body_byte_for_byte() -> None:
    """A duplicate is an acknowledged delivery's exact bytes and signature."""
    traffic = _traffic()
    first = traffic.next()
    traffic.acknowledged(first)
    dupes = [d for d in (traffic.next() for _ in range(300)) if d.kind == "duplicate"]
    assert dupes
    assert all(d.body == first.body and d.signature == first.signature for d in dupes)


def test_statuses_follow_our_sends_in_order_and_echo_our_id() -> None:
    """After a send is observed, its sent, delivered and read statuses come, in order."""
    traffic = _traffic()
    assert not any(traffic.next().kind == "status" for _ in range(200))
    request = {"to": "393331112222", "type": "text", "biz_opaque_callback_data": "out-1"}
    traffic.observe_send("wamid.OUR1", request)
    statuses = [d for d in (traffic.next() for _ in range(400)) if d.kind == "status"]
    items = [json.loads(d.body)["entry"][0]["changes"][0]["value"]["statuses"][0] for d in statuses]
    assert [i["status"] for i in items] == ["sent", "delivered", "read"]
    assert {i["biz_opaque_callback_data"] for i in items} == {"out-1"}


def test_the_mix_holds_every_kind_and_batches_hold_several_messages() -> None:
    """Texts, batches, statuses and duplicates all occur; a batch carries 2 to 4 messages."""
    traffic = _traffic()
    traffic.observe_send("wamid.OUR2", {"to": "393331112222", "type": "text"})
    seen: Counter[str] = Counter()
    for _ in range(500):
        d = traffic.next()
        traffic.acknowledged(d)
        seen[d.kind] += 1
        if d.kind == "batch":
            assert 2 <= len(d.wamids) <= 4
    assert set(seen) == {"text", "batch", "status", "duplicate"}
