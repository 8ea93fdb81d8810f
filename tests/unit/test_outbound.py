"""Outbound message values, their Graph API JSON, error classification, backoff, throttle."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.outbound import (
    Button,
    ButtonsMessage,
    ListMessage,
    MarkRead,
    OutboundContent,
    OutboundMessage,
    OutboundValidationError,
    ReactionMessage,
    Row,
    Section,
    TemplateMessage,
    TextMessage,
    merge_texts,
    pack_texts,
    payload_for,
)
from core.pacing import Throttle, allow_pair
from core.send_errors import SendErrorKind, backoff_delay, classify_send_error

TO = "+393331234567"


def _msg(content: OutboundContent, reply_to: str | None = None) -> OutboundMessage:
    return OutboundMessage(outbound_id="out-1", to=TO, content=content, reply_to=reply_to)


def _envelope(kind: str) -> dict[str, object]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": kind,
        "biz_opaque_callback_data": "out-1",
    }


# -- payloads --------------------------------------------------------------------------------


def test_text_payload_is_metas_text_body() -> None:
    """A text becomes type text with body and preview_url, tagged with our id."""
    payload = payload_for(_msg(TextMessage(body="Ciao!", preview_url=True)))
    assert payload == {**_envelope("text"), "text": {"body": "Ciao!", "preview_url": True}}


def test_reply_to_adds_context_message_id() -> None:
    """Quoting a customer's message adds context.message_id."""
    payload = payload_for(_msg(TextMessage(body="Sì"), reply_to="wamid.IN1"))
    assert payload["context"] == {"message_id": "wamid.IN1"}


def test_buttons_payload_has_reply_buttons_header_and_footer() -> None:
    """Buttons become an interactive button message with reply buttons in order."""
    content = ButtonsMessage(
        body="Confermi l'ordine?",
        buttons=(Button(id="yes", title="Conferma"), Button(id="no", title="Annulla")),
        header="Ordine",
        footer="Dloop",
    )
    assert payload_for(_msg(content)) == {
        **_envelope("interactive"),
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Ordine"},
            "body": {"text": "Confermi l'ordine?"},
            "footer": {"text": "Dloop"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "yes", "title": "Conferma"}},
                    {"type": "reply", "reply": {"id": "no", "title": "Annulla"}},
                ]
            },
        },
    }


def test_list_payload_has_button_sections_and_rows() -> None:
    """A list becomes an interactive list; empty descriptions are left out."""
    content = ListMessage(
        body="Scegli un prodotto",
        button_text="Prodotti",
        sections=(
            Section(
                title="Profumi",
                rows=(
                    Row(id="p1", title="Eau de parfum", description="50 ml"),
                    Row(id="p2", title="Crema"),
                ),
            ),
        ),
    )
    assert payload_for(_msg(content))["interactive"] == {
        "type": "list",
        "body": {"text": "Scegli un prodotto"},
        "action": {
            "button": "Prodotti",
            "sections": [
                {
                    "title": "Profumi",
                    "rows": [
                        {"id": "p1", "title": "Eau de parfum", "description": "50 ml"},
                        {"id": "p2", "title": "Crema"},
                    ],
                }
            ],
        },
    }


def test_template_payload_has_language_and_body_parameters() -> None:
    """A template carries its name, language code and text body parameters."""
    content = TemplateMessage(name="order_update", language="it", body_parameters=("Anna", "42"))
    assert payload_for(_msg(content)) == {
        **_envelope("template"),
        "template": {
            "name": "order_update",
            "language": {"code": "it"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Anna"},
                        {"type": "text", "text": "42"},
                    ],
                }
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    """A template with no parameters sends no components list."""
    payload = payload_for(_msg(TemplateMessage(name="hello_world", language="en_US")))
    assert "components" not in payload["template"]


def test_reaction_payload_has_message_id_and_emoji_and_no_context() -> None:
    """A reaction names the message it reacts to; it never quotes."""
    payload = payload_for(_msg(ReactionMessage(message_id="wamid.IN1", emoji="👍"), "wamid.IN1"))
    assert payload == {
        **_envelope("reaction"),
        "reaction": {"message_id": "wamid.IN1", "emoji": "👍"},
    }


def test_mark_read_payload_is_the_status_body() -> None:
    """Mark-as-read is a status update, not a message."""
    payload = payload_for(_msg(MarkRead(message_id="wamid.IN1")))
    assert payload == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1"}


def test_mark_read_with_typing_adds_the_typing_indicator() -> None:
    """Typing adds typing_indicator.type text."""
    payload = payload_for(_msg(MarkRead(message_id="wamid.IN1", typing=True)))
    assert payload["typing_indicator"] == {"type": "text"}


def test_bsuid_recipient_goes_in_recipient_field() -> None:
    """A business-scoped user id is sent as recipient, not to."""
    message = OutboundMessage(
        outbound_id="o", to="IT.13491208655302741918", content=TextMessage(body="x")
    )
    payload = payload_for(message)
    assert payload["recipient"] == "IT.13491208655302741918"
    assert "to" not in payload


# -- validation ------------------------------------------------------------------------------


def test_four_buttons_are_refused() -> None:
    """Meta allows at most three reply buttons."""
    buttons = tuple(Button(id=str(i), title=f"B{i}") for i in range(4))
    with pytest.raises(OutboundValidationError, match="1-3 buttons"):
        ButtonsMessage(body="x", buttons=buttons)


def test_21_character_button_title_is_refused() -> None:
    """Button titles are at most 20 characters."""
    with pytest.raises(OutboundValidationError, match="button title"):
        Button(id="a", title="x" * 21)


def test_interactive_body_over_1024_is_refused() -> None:
    """Button message bodies are at most 1024 characters."""
    with pytest.raises(OutboundValidationError, match="interactive body"):
        ButtonsMessage(body="x" * 1025, buttons=(Button(id="a", title="A"),))


def test_duplicate_button_ids_are_refused() -> None:
    """Button ids must be unique (they are how the reply is told apart)."""
    with pytest.raises(OutboundValidationError, match="unique"):
        ButtonsMessage(body="x", buttons=(Button(id="a", title="A"), Button(id="a", title="B")))


def test_25_character_row_title_is_refused() -> None:
    """Row titles are at most 24 characters."""
    with pytest.raises(OutboundValidationError, match="row title"):
        Row(id="r", title="x" * 25)


def test_73_character_row_description_is_refused() -> None:
    """Row descriptions are at most 72 characters."""
    with pytest.raises(OutboundValidationError, match="row description"):
        Row(id="r", title="t", description="x" * 73)


def test_eleven_rows_across_sections_are_refused() -> None:
    """A list holds at most ten rows in all its sections together."""
    first = Section(title="A", rows=tuple(Row(id=f"a{i}", title="t") for i in range(6)))
    second = Section(title="B", rows=tuple(Row(id=f"b{i}", title="t") for i in range(5)))
    with pytest.raises(OutboundValidationError, match="1-10 rows"):
        ListMessage(body="x", button_text="Apri", sections=(first, second))


def test_blank_text_is_refused() -> None:
    """An empty or blank text cannot be sent."""
    with pytest.raises(OutboundValidationError):
        TextMessage(body="   ")


def test_recipient_must_be_e164_or_bsuid() -> None:
    """A recipient that is neither a phone nor a BSUID is refused."""
    with pytest.raises(OutboundValidationError, match="recipient"):
        OutboundMessage(outbound_id="o", to="mario", content=TextMessage(body="x"))


def test_outbound_id_longer_than_512_is_refused() -> None:
    """biz_opaque_callback_data holds at most 512 characters."""
    with pytest.raises(OutboundValidationError, match="outbound_id"):
        OutboundMessage(outbound_id="x" * 513, to=TO, content=TextMessage(body="x"))


# -- merging ---------------------------------------------------------------------------------


def test_merge_texts_joins_with_a_blank_line() -> None:
    """Consecutive texts to one user become one text, paragraphs kept apart."""
    merged = merge_texts([TextMessage(body="Ciao"), TextMessage(body="Ecco il carrello")])
    assert merged.body == "Ciao\n\nEcco il carrello"


def test_merge_texts_refuses_more_than_4096_characters() -> None:
    """Texts that cannot fit one message are not truncated."""
    with pytest.raises(OutboundValidationError):
        merge_texts([TextMessage(body="a" * 3000), TextMessage(body="b" * 2000)])


def test_pack_texts_splits_where_4096_would_be_exceeded() -> None:
    """Packing keeps order and starts a new message only when needed."""
    texts = [
        TextMessage(body="a" * 3000),
        TextMessage(body="b" * 1000),
        TextMessage(body="c" * 200),
    ]
    packed = pack_texts(texts)
    assert [len(t.body) for t in packed] == [4002, 200]


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http_status", "code"),
    [
        (500, None),
        (503, None),
        (None, None),
        (429, None),
        (429, 130429),
        (429, 131056),
        (400, 4),
        (429, 80007),
        (500, 1),
        (503, 2),
        (500, 131000),
        (503, 133004),
    ],
)
def test_transient_failures_are_retryable(http_status: int | None, code: int | None) -> None:
    """5xx, timeouts, rate limits and Meta's service errors are transient."""
    verdict = classify_send_error(http_status, code)
    assert verdict.kind is SendErrorKind.TRANSIENT
    assert not verdict.alert_operator


@pytest.mark.parametrize(
    "code", [131047, 131026, 131051, 100, 131008, 131009, 132000, 132001, 132069]
)
def test_recipient_and_request_errors_are_permanent(code: int) -> None:
    """Window, undeliverable, unsupported, parameter and template errors are permanent."""
    verdict = classify_send_error(400, code)
    assert verdict.kind is SendErrorKind.PERMANENT
    assert not verdict.alert_operator


@pytest.mark.parametrize(("http_status", "code"), [(401, 190), (403, 368), (403, 131031)])
def test_account_errors_are_permanent_and_alert_the_operator(http_status: int, code: int) -> None:
    """An expired token, a blocked or locked account need a human."""
    verdict = classify_send_error(http_status, code)
    assert verdict.kind is SendErrorKind.PERMANENT
    assert verdict.alert_operator


def test_unknown_code_on_a_4xx_is_permanent() -> None:
    """A code we do not know on a client error is not retried."""
    assert classify_send_error(400, 999999).kind is SendErrorKind.PERMANENT


def test_unknown_code_on_a_5xx_is_transient() -> None:
    """A code we do not know on a server error is retried."""
    assert classify_send_error(502, 999999).transient


# -- backoff ---------------------------------------------------------------------------------


@given(attempt=st.integers(min_value=1, max_value=500), jitter=st.floats(0.0, 0.999999))
def test_backoff_stays_between_half_and_all_of_the_capped_ceiling(
    attempt: int, jitter: float
) -> None:
    """The delay never exceeds the cap and is at least half the exponential ceiling."""
    delay = backoff_delay(attempt, jitter=jitter)
    ceiling = min(30.0, 0.5 * 2.0 ** min(attempt - 1, 62))
    assert ceiling / 2 <= delay <= ceiling <= 30.0


def test_backoff_doubles_per_attempt() -> None:
    """With the same jitter each attempt waits twice as long until the cap."""
    delays = [backoff_delay(n, jitter=0.0) for n in (1, 2, 3, 4)]
    assert delays == [0.25, 0.5, 1.0, 2.0]


def test_backoff_respects_retry_after() -> None:
    """Meta's Retry-After wins when it asks for longer."""
    assert backoff_delay(1, jitter=0.5, retry_after=7.0) == 7.0


def test_backoff_refuses_jitter_outside_unit_interval() -> None:
    """Jitter is a draw from [0, 1)."""
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(1, jitter=1.0)


# -- throttle --------------------------------------------------------------------------------


def test_number_throttle_allows_80_then_waits() -> None:
    """A fresh number bucket passes 80 sends at once; the 81st waits 1/80 s."""
    throttle = Throttle.per_number()
    for _ in range(80):
        throttle, wait = throttle.allow(100.0)
        assert wait == 0.0
    _, wait = throttle.allow(100.0)
    assert wait == pytest.approx(1 / 80)


def test_user_throttle_waits_six_seconds_after_its_burst() -> None:
    """One user gets a burst of three, then one message per six seconds."""
    throttle = Throttle.per_user()
    for _ in range(3):
        throttle, wait = throttle.allow(0.0)
        assert wait == 0.0
    _, wait = throttle.allow(0.0)
    assert wait == pytest.approx(6.0)
    throttle, wait = throttle.allow(6.0)
    assert wait == 0.0


def test_refused_allow_leaves_the_state_unchanged() -> None:
    """Asking too early does not consume anything."""
    throttle, _ = Throttle.per_user(burst=1).allow(0.0)
    again, wait = throttle.allow(1.0)
    assert again == throttle
    assert wait == pytest.approx(5.0)


def test_allow_pair_takes_from_neither_bucket_when_one_is_empty() -> None:
    """The number's token is not spent while the user's bucket is empty."""
    user, _ = Throttle.per_user(burst=1).allow(0.0)
    number = Throttle.per_number()
    number_after, user_after, wait = allow_pair(number, user, 0.0)
    assert (number_after, user_after) == (number, user)
    assert wait == pytest.approx(6.0)
