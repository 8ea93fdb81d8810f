"""Webhook parsing beyond Meta's samples: batches, failures, odd senders, broken bodies, ids."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from adapters.meta.parse import ParsedDelivery, parse_delivery
from events.whatsapp import (
    MessageReceived,
    StatusReceived,
    UnsupportedItemReceived,
    WebhookBodyInvalid,
    WebhookReceived,
)

AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
GIULIA = "393281234567"


def msg(
    wamid: str, sender: str | None = GIULIA, body: str = "ciao", **extra: Any
) -> dict[str, Any]:
    """A text message item."""
    item: dict[str, Any] = {"id": wamid, "timestamp": "1741944413", "type": "text"}
    item["text"] = {"body": body}
    if sender is not None:
        item["from"] = sender
    return item | extra


def status(wamid: str, state: str = "delivered", **extra: Any) -> dict[str, Any]:
    """A status item for one of our messages to Giulia."""
    return {"id": wamid, "status": state, "timestamp": "1741944500", "recipient_id": GIULIA} | extra


def change(field: str = "messages", **value: Any) -> dict[str, Any]:
    """A change with our business number as metadata."""
    meta = {"display_phone_number": "390212345678", "phone_number_id": "106540352242922"}
    return {"field": field, "value": {"messaging_product": "whatsapp", "metadata": meta} | value}


def webhook(*entries: dict[str, Any]) -> bytes:
    """A webhook body with the given entries."""
    document = {"object": "whatsapp_business_account", "entry": list(entries)}
    return json.dumps(document, ensure_ascii=False).encode()


def entry(*changes: dict[str, Any], waba: str = "102290129340398") -> dict[str, Any]:
    """One entry of a webhook body."""
    return {"id": waba, "changes": list(changes)}


def parse(body: bytes) -> ParsedDelivery:
    """Parse at a fixed time."""
    return parse_delivery(body, received_at=AT)


def payloads(body: bytes) -> list[Any]:
    """The fact payloads of a body, in order."""
    return [fact.event.payload for fact in parse(body).facts]


def test_batch_of_many_entries_changes_and_items_keeps_document_order() -> None:
    """3 entries x 2 changes x (5 messages + 2 statuses) give 42 facts in order."""
    entries, expected = [], []
    for e in range(3):
        changes = []
        for c in range(2):
            ids = [f"wamid.{e}.{c}.{m}" for m in range(5)]
            sts = [f"wamid.out.{e}.{c}.{s}" for s in range(2)]
            changes.append(
                change(messages=[msg(i) for i in ids], statuses=[status(i) for i in sts])
            )
            expected += ids + sts
        entries.append(entry(*changes, waba=f"waba{e}"))
    facts = payloads(webhook(*entries))
    assert [f.wamid for f in facts] == expected
    assert [f.waba_id for f in facts] == [f"waba{e}" for e in range(3) for _ in range(14)]


def test_statuses_before_messages_keep_that_order() -> None:
    """Document order within a value follows the JSON keys."""
    body = webhook(entry(change(statuses=[status("wamid.out")], messages=[msg("wamid.in")])))
    assert [type(p) for p in payloads(body)] == [StatusReceived, MessageReceived]


def test_thousand_messages_give_thousand_facts() -> None:
    """A full batch is parsed whole."""
    body = webhook(entry(change(messages=[msg(f"wamid.{i}") for i in range(1000)])))
    assert len(parse(body).facts) == 1000


def test_profile_names_follow_their_senders() -> None:
    """With two contacts in one value each message gets its own sender's name."""
    contacts = [
        {"profile": {"name": "Giulia"}, "wa_id": GIULIA},
        {"profile": {"name": "Marco"}, "wa_id": "393477654321"},
    ]
    messages = [msg("wamid.1", "393477654321"), msg("wamid.2", GIULIA)]
    facts = payloads(webhook(entry(change(contacts=contacts, messages=messages))))
    assert [(f.phone, f.profile_name) for f in facts] == [
        ("+393477654321", "Marco"),
        ("+393281234567", "Giulia"),
    ]


@pytest.mark.parametrize(
    ("code", "title", "details"),
    [
        (131047, "Re-engagement message", "more than 24 hours have passed"),
        (131026, "Message undeliverable", "Unable to deliver message"),
    ],
)
def test_failed_status_keeps_every_error_field(code: int, title: str, details: str) -> None:
    """Failure codes the outbox acts on are kept with title, message, details and href."""
    error = {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details},
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }
    (fact,) = payloads(
        webhook(entry(change(statuses=[status("wamid.o", "failed", errors=[error])])))
    )
    (kept,) = fact.errors
    assert (kept.code, kept.title, kept.message, kept.details) == (code, title, title, details)
    assert kept.href == error["href"]


def test_status_without_conversation_and_with_per_message_pricing() -> None:
    """v24+ statuses: no conversation block, PMP pricing with a type."""
    pricing = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    (fact,) = payloads(webhook(entry(change(statuses=[status("wamid.o", pricing=pricing)]))))
    assert fact.conversation is None
    assert (fact.pricing.pricing_model, fact.pricing.type, fact.pricing.category) == (
        "PMP",
        "regular",
        "utility",
    )


def test_status_goes_to_the_recipients_conversation() -> None:
    """Statuses are filed under the customer they were sent to."""
    (fact,) = parse(webhook(entry(change(statuses=[status("wamid.o")])))).facts
    assert fact.stream == "conversation-+393281234567"


def test_sender_known_only_by_bsuid_is_keyed_by_it() -> None:
    """No ``from``, only ``from_user_id``: the BSUID keys the conversation."""
    item = msg("wamid.1", sender=None, from_user_id="IT.998877")
    (fact,) = parse(webhook(entry(change(messages=[item])))).facts
    assert fact.stream == "conversation-bsuid:IT.998877"
    assert (fact.event.payload.phone, fact.event.payload.bsuid) == (None, "IT.998877")


def test_sender_without_from_takes_the_values_only_contact() -> None:
    """No sender on the message: the value's single contact is the sender."""
    contacts = [{"profile": {"name": "Anna"}, "user_id": "IT.42"}]
    (fact,) = payloads(webhook(entry(change(contacts=contacts, messages=[msg("w", sender=None)]))))
    assert (fact.bsuid, fact.profile_name, fact.phone) == ("IT.42", "Anna", None)


def test_sender_unknown_goes_to_the_business_stream() -> None:
    """Neither phone nor BSUID: the fact is kept in the WABA stream."""
    (fact,) = parse(webhook(entry(change(messages=[msg("w", sender=None)])))).facts
    assert fact.stream == "waba-102290129340398"


def test_status_to_bsuid_recipient_is_keyed_by_it() -> None:
    """A status for a user without phone is keyed by ``recipient_user_id``."""
    item = status("wamid.o", recipient_user_id="IT.55")
    del item["recipient_id"]
    (fact,) = parse(webhook(entry(change(statuses=[item])))).facts
    assert fact.stream == "conversation-bsuid:IT.55"


def test_non_ascii_text_is_kept_exactly() -> None:
    """Emoji and accented Italian survive parsing and the verbatim record."""
    text = "Perché no? Però sì 🐶🍕 — città, caffè"
    parsed = parse(webhook(entry(change(messages=[msg("w", body=text)]))))
    assert parsed.facts[0].event.payload.text == text
    assert text in parsed.delivery.event.payload.body


def test_nul_and_lone_surrogates_become_replacement_characters() -> None:
    """Characters no database stores are replaced in facts (the raw body keeps them)."""
    body = webhook(entry(change(messages=[msg("w", body="a\x00b")]))).replace(
        b"a\\u0000b", b"a\\u0000b\\ud83d"
    )
    (fact,) = payloads(body)
    assert fact.text == "a\ufffdb\ufffd"


def test_truncated_json_gives_one_invalid_fact() -> None:
    """A cut body is recorded and reported, not raised."""
    body = webhook(entry(change(messages=[msg("w")])))[:-7]
    parsed = parse(body)
    (fact,) = parsed.facts
    assert isinstance(fact.event.payload, WebhookBodyInvalid)
    assert fact.event.payload.reason.startswith("body is not JSON")
    assert fact.stream == parsed.delivery.stream


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \n", "empty body"),
        (b"[]", "top-level JSON is a list, not an object"),
        (b'"hello"', "top-level JSON is a str, not an object"),
        (b'{"object": "page", "entry": []}', "object is 'page', not 'whatsapp_business_account'"),
        (b'{"object": "whatsapp_business_account"}', "entry is missing or not a list"),
        (b'{"object": "whatsapp_business_account", "entry": [NaN]}', "body is not JSON"),
        (b"\xff\xfe{}", "body is not UTF-8"),
    ],
)
def test_body_that_is_not_a_webhook_gives_its_reason(body: bytes, reason: str) -> None:
    """Each way a signed body can be wrong is named in the invalid fact."""
    (fact,) = payloads(body)
    assert isinstance(fact, WebhookBodyInvalid)
    assert fact.reason.startswith(reason)


def test_deeply_nested_json_is_invalid_not_a_crash() -> None:
    """Pathological nesting is refused before it reaches the codec."""
    deep = "[" * 5000 + "]" * 5000
    body = ('{"object": "whatsapp_business_account", "entry": ' + deep + "}").encode()
    (fact,) = payloads(body)
    assert isinstance(fact, WebhookBodyInvalid)


def test_body_that_is_not_utf8_is_stored_as_base64() -> None:
    """Undecodable bytes are kept exactly, in base64."""
    raw = b'{"object": "\xff"}'
    record = parse(raw).delivery.event.payload
    assert (record.body, base64.b64decode(record.body_b64)) == (None, raw)


def test_webhook_record_keeps_body_hash_type_and_time() -> None:
    """The verbatim record carries the body, its sha256, content type and arrival time."""
    body = webhook(entry(change(messages=[msg("w")])))
    parsed = parse_delivery(body, received_at=AT, content_type="application/json; charset=utf-8")
    record = parsed.delivery.event.payload
    digest = hashlib.sha256(body).hexdigest()
    assert isinstance(record, WebhookReceived)
    assert (record.body, record.body_b64, record.body_sha256) == (body.decode(), None, digest)
    assert (record.content_type, record.received_at) == ("application/json; charset=utf-8", AT)
    assert parsed.delivery.stream == "delivery-" + digest[:32]


def test_unknown_message_type_is_kept_raw_in_the_conversation() -> None:
    """A message type this code does not know is an unsupported item, not an error."""
    item = {"from": GIULIA, "id": "wamid.poll", "timestamp": "1", "type": "poll", "poll": {"q": 1}}
    (fact,) = parse(webhook(entry(change(messages=[item])))).facts
    payload = fact.event.payload
    assert isinstance(payload, UnsupportedItemReceived)
    assert fact.stream == "conversation-+393281234567"
    assert (payload.wamid, payload.path, payload.raw) == (
        "wamid.poll",
        "entry[0].changes[0].value.messages[0]",
        item,
    )


def test_unknown_field_is_kept_raw_in_the_business_stream() -> None:
    """Another webhook field is recorded whole under the WABA."""
    other = {
        "field": "business_capability_update",
        "value": {"max_daily_conversation_per_phone": 1000},
    }
    body = webhook(entry(change(messages=[msg("w")]), other))
    facts = parse(body).facts
    assert facts[1].stream == "waba-102290129340398"
    assert facts[1].event.payload.raw == other
    assert facts[1].event.payload.path == "entry[0].changes[1]"


def test_unknown_key_inside_a_messages_value_is_kept() -> None:
    """A new list beside ``messages`` is recorded with its path."""
    (fact,) = payloads(webhook(entry(change(polls=[{"id": 1}]))))
    assert (fact.path, fact.raw) == ("entry[0].changes[0].value.polls", [{"id": 1}])


def test_entry_that_is_not_an_object_is_kept() -> None:
    """Odd entries are unsupported items, the others still parse."""
    facts = payloads(webhook("oops", entry(change(messages=[msg("w")]))))  # type: ignore[arg-type]
    assert (facts[0].path, facts[0].raw, facts[1].wamid) == ("entry[0]", "oops", "w")


def test_message_without_id_is_kept_as_unsupported() -> None:
    """Without a wamid there is no idempotency key: the item is kept raw."""
    item = msg("w")
    del item["id"]
    (fact,) = payloads(webhook(entry(change(messages=[item]))))
    assert isinstance(fact, UnsupportedItemReceived)


def test_missing_timestamp_falls_back_to_arrival_time() -> None:
    """A message without a readable timestamp is dated by the delivery."""
    (fact,) = payloads(webhook(entry(change(messages=[msg("w", timestamp="soon")]))))
    assert fact.sent_at == AT


def test_location_coordinates_are_exact_decimals() -> None:
    """Floats in the body become the Decimal of the digits Meta wrote."""
    location = {"latitude": 45.4642035, "longitude": 9.189982}
    item = {"from": GIULIA, "id": "w", "timestamp": "1", "type": "location", "location": location}
    (fact,) = payloads(webhook(entry(change(messages=[item]))))
    assert (fact.location.latitude, fact.location.longitude) == (
        Decimal("45.4642035"),
        Decimal("9.189982"),
    )


def test_parsing_twice_gives_the_same_ids() -> None:
    """Ids are deterministic: a redelivered body appends nothing new."""
    body = webhook(entry(change(messages=[msg("a"), msg("b")], statuses=[status("o")])))
    first, second = parse(body), parse(body)
    assert first == second
    assert len({f.event.event_id for f in first.facts}) == 3


def test_same_wamid_in_two_bodies_gives_the_same_message_id() -> None:
    """The wamid, not the body, decides a message's id."""
    one = parse(webhook(entry(change(messages=[msg("wamid.same")]))))
    two = parse(webhook(entry(change(messages=[msg("wamid.other"), msg("wamid.same")]))))
    assert one.facts[0].event.event_id == two.facts[1].event.event_id
    assert one.delivery.event.event_id != two.delivery.event.event_id


def test_each_status_transition_has_its_own_id() -> None:
    """Delivered and read of one message are two facts."""
    body = webhook(entry(change(statuses=[status("o", "delivered"), status("o", "read")])))
    first, second = parse(body).facts
    assert first.event.event_id != second.event.event_id


def test_item_repeated_in_one_body_is_one_fact() -> None:
    """Two copies of a wamid in one body give one fact."""
    assert len(parse(webhook(entry(change(messages=[msg("w"), msg("w")])))).facts) == 1


def test_metadata_links_facts_to_their_delivery() -> None:
    """Facts are caused by and correlated with the delivery; source is webhook."""
    parsed = parse(webhook(entry(change(messages=[msg("w")]))))
    delivery_id = str(parsed.delivery.event.event_id)
    meta = parsed.facts[0].event.metadata
    assert (meta.source, meta.correlation_id, meta.causation_id) == (
        "webhook",
        delivery_id,
        delivery_id,
    )
    assert parsed.delivery.event.metadata.causation_id is None
    assert meta.extra["received_at"] == AT.isoformat()


def test_received_at_in_another_zone_is_accepted() -> None:
    """Any aware time is fine; it is recorded as given."""
    rome = datetime(2025, 3, 14, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    assert parse_delivery(b"{}", received_at=rome).delivery.event.payload.received_at == rome


def test_naive_received_at_is_a_programming_error() -> None:
    """The caller must pass an aware time."""
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_delivery(b"{}", received_at=datetime(2025, 1, 1))
