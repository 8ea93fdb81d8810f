"""Properties of the webhook parser: total on any input, facts always storable."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.meta.parse import ParsedDelivery, parse_delivery
from events.codec import decode_payload, encode_payload

AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)

finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers() | finite | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
ids = st.sampled_from(["393281234567", "972987654321", "IT.42", "", "<X>", "0"]) | st.text()
stamps = st.sampled_from(["1741944413", 1741944413, "x", -1, 10**30, 1.5]) | json_values


def _loose(
    known: dict[str, st.SearchStrategy[Any]], required: tuple[str, ...] = ()
) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the required keys, some known ones (values mostly right) and a stray key."""
    keyed = st.fixed_dictionaries(
        {k: v for k, v in known.items() if k in required},
        optional={k: v | json_values for k, v in known.items() if k not in required},
    )
    stray = st.dictionaries(st.text(max_size=6), json_values, max_size=1)
    return st.builds(lambda a, b: b | a, keyed, stray)


kinds = st.sampled_from(
    ["text", "image", "audio", "location", "order", "reaction", "interactive", "button",
     "system", "edit", "revoke", "unsupported", "contacts", "poll"]
)  # fmt: skip
parts = _loose(
    {
        "body": st.text(),
        "id": ids,
        "caption": st.text(),
        "latitude": finite | st.text(),
        "emoji": st.text(),
        "type": kinds,
        "product_items": st.lists(
            _loose({"quantity": st.integers() | finite, "item_price": finite}), max_size=3
        ),
        "message": json_values,
    }
)
messages = _loose(
    {
        "from": ids,
        "from_user_id": ids,
        "id": ids,
        "timestamp": stamps,
        "type": kinds,
        "text": parts,
        "image": parts,
        "location": parts,
        "order": parts,
        "reaction": parts,
        "interactive": parts,
        "edit": parts,
        "context": _loose({"forwarded": st.booleans(), "referred_product": parts}),
        "errors": st.lists(_loose({"code": st.integers(), "error_data": parts}), max_size=2),
    },
    required=("id", "type"),
)
statuses = _loose(
    {
        "id": ids,
        "status": st.sampled_from(["sent", "delivered", "read", "failed"]),
        "timestamp": stamps,
        "recipient_id": ids,
        "conversation": _loose({"id": ids, "origin": parts, "expiration_timestamp": stamps}),
        "pricing": _loose({"billable": st.booleans(), "pricing_model": st.text()}),
        "errors": st.lists(_loose({"code": st.integers()}), max_size=2),
    },
    required=("id", "status"),
)
values = _loose(
    {
        "metadata": _loose({"phone_number_id": ids}),
        "contacts": st.lists(_loose({"wa_id": ids, "user_id": ids, "profile": parts}), max_size=2),
        "messages": st.lists(messages, max_size=3),
        "statuses": st.lists(statuses, max_size=3),
        "user_preferences": st.lists(_loose({"wa_id": ids, "timestamp": stamps}), max_size=2),
        "errors": st.lists(_loose({"code": st.integers()}), max_size=2),
    }
)
changes = _loose(
    {"field": st.sampled_from(["messages", "user_preferences", "calls"]), "value": values},
    required=("field", "value"),
)
webhooks = st.fixed_dictionaries(
    {
        "object": st.just("whatsapp_business_account"),
        "entry": st.lists(
            _loose({"id": ids, "changes": st.lists(changes, max_size=3)}, required=("changes",)),
            max_size=3,
        ),
    }
)


def _assert_storable(parsed: ParsedDelivery) -> None:
    for item in (parsed.delivery, *parsed.facts):
        payload = item.event.payload
        data = encode_payload(payload)
        json.dumps(data, allow_nan=False)
        assert decode_payload(payload.TYPE, payload.VERSION, data) == payload


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_parse_without_raising(body: bytes) -> None:
    """Arbitrary bytes give a record and facts, never an exception."""
    _assert_storable(parse_delivery(body, received_at=AT))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(webhooks)
def test_webhook_shaped_json_parses_into_storable_facts(document: dict[str, Any]) -> None:
    """Webhook-like JSON with right and wrong types gives facts that round-trip exactly."""
    parsed = parse_delivery(json.dumps(document).encode(), received_at=AT)
    _assert_storable(parsed)
    ids_seen = [fact.event.event_id for fact in parsed.facts]
    assert len(ids_seen) == len(set(ids_seen))


@settings(max_examples=100)
@given(json_values)
def test_arbitrary_json_documents_never_raise(document: Any) -> None:
    """Any JSON document at all is recorded without raising."""
    _assert_storable(parse_delivery(json.dumps(document).encode(), received_at=AT))
