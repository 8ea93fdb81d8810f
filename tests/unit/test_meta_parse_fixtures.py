"""Every case of Meta's sample webhooks (tests/fixtures/meta-webhooks) parses into its facts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from adapters.meta.parse import ParsedDelivery, parse_delivery
from events.codec import decode_payload, encode_payload
from events.whatsapp import (
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    StatusReceived,
    UnsupportedItemReceived,
    UserPreferencesReceived,
    ValueErrorsReceived,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "meta-webhooks"
AT = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
CUSTOMER = "conversation-+972987654321"
MSG = MessageReceived.TYPE
UNSUPPORTED = UnsupportedItemReceived.TYPE


def _cases(file: str, names: str, facts: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {f"{file}:{name}": facts for name in names.split()}


def _waba(file: str, cases: dict[str, str]) -> dict[str, Any]:
    return {f"{file}:{k}": ((UNSUPPORTED, f"waba-{v}"),) for k, v in cases.items()}


_ACCOUNT_A, _ACCOUNT_B = "102290129340398", "2949482758682047"
EXPECTED: dict[str, tuple[tuple[str, str], ...]] = {
    **_cases(
        "message.json",
        "text image media_with_url video document audio voice static_sticker animated_sticker"
        " reaction unreaction_empty unreaction_no_emoji current_location chosen_location"
        " contacts order unsupported unsupported_with_type reply forwarded"
        " forwarded_many_times referral",
        ((MSG, CUSTOMER),),
    ),
    "message.json:interactive_message_with_err": (
        (MSG, CUSTOMER),
        (ValueErrorsReceived.TYPE, CUSTOMER),
    ),
    **_cases(
        "callback_button.json", "button quick_reply quick_reply_without_context", ((MSG, CUSTOMER),)
    ),
    **_cases("callback_selection.json", "callback description", ((MSG, CUSTOMER),)),
    **_cases("flow_completion.json", "completion without_flow_token", ((MSG, CUSTOMER),)),
    **_cases("call_permission_update.json", "accept reject", ((MSG, CUSTOMER),)),
    **_cases("system.json", "phone_number_change identity_change", ((MSG, CUSTOMER),)),
    **_cases(
        "message_status.json",
        "sent delivered read played failed with_tracker",
        ((StatusReceived.TYPE, CUSTOMER),),
    ),
    "message_status.json:group": ((StatusReceived.TYPE, "waba-<WHATSAPP_BUSINESS_ACCOUNT_ID>"),),
    "edited_message.json:image": ((MessageEdited.TYPE, "conversation-+16505551234"),),
    "deleted_message.json:revoke": ((MessageRevoked.TYPE, "waba-<WHATSAPP_BUSINESS_ACCOUNT_ID>"),),
    **_cases(
        "user_marketing_preferences.json",
        "resume signup",
        ((UserPreferencesReceived.TYPE, "conversation-+16505551234"),),
    ),
    **_waba(
        "outgoing_message.json",
        {
            "text": "<WHATSAPP_BUSINESS_ACCOUNT_ID>",
            "delete": "1234567890987654321",
            "edit": "1234567890987654321",
        },
    ),
    **_waba(
        "call_connect.json",
        {"business_initiated": "837432645395", "user_initiated": "100293269804676"},
    ),
    **_waba("call_status.json", {"call_status": "487439753"}),
    **_waba("call_terminate.json", {"call_terminate": "47389759353"}),
    **_waba("template_category_update.json", {"marketing": "57438975935"}),
    **_waba("template_components_update.json", {"element": "57438975935"}),
    **_waba("template_quality_update.json", {"yellow": _ACCOUNT_A}),
    **_waba("template_status_update.json", {"approved": _ACCOUNT_A, "rejected": _ACCOUNT_A}),
    **_waba(
        "account_update.json",
        {
            **dict.fromkeys(
                [
                    "account_deleted",
                    "account_restriction",
                    "account_violation",
                    "authentication_international_eligibility",
                    "account_disabled",
                    "partner_led_business_verification_status",
                    "primary_business_location_set",
                    "pricing_tiering_update",
                    "account_offboarded",
                    "account_reconnected",
                ],
                _ACCOUNT_A,
            ),
            **dict.fromkeys(
                [
                    "ad_account_linked",
                    "mm_api_for_wa_terms_of_service",
                    "partner_added",
                    "partner_app_installed",
                    "partner_app_uninstalled",
                    "partner_removed",
                    "partner_removed_wa_app_disconnection",
                ],
                _ACCOUNT_B,
            ),
        },
    ),
}


@cache
def _fixture(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / file).read_text(encoding="utf-8"))
    return loaded


def parsed(key: str) -> ParsedDelivery:
    """The parse of one fixture case, named ``file:case``."""
    file, case = key.split(":")
    body = json.dumps(_fixture(file)[case], ensure_ascii=False).encode()
    return parse_delivery(body, received_at=AT)


def only(key: str) -> Any:
    """The payload of the single fact of a fixture case."""
    (fact,) = parsed(key).facts
    return fact.event.payload


def test_every_fixture_case_has_expected_facts() -> None:
    """No fixture case escapes the table below (a new sample needs its expectation)."""
    found = {
        f"{path.name}:{case}" for path in FIXTURES.glob("*.json") for case in _fixture(path.name)
    }
    assert found == set(EXPECTED)


@pytest.mark.parametrize(("key", "expected"), sorted(EXPECTED.items()))
def test_fixture_case_gives_its_facts_in_their_streams(
    key: str, expected: tuple[tuple[str, str], ...]
) -> None:
    """Each case gives the fact types, in order, in the expected streams."""
    facts = parsed(key).facts
    assert tuple((f.event.type, f.stream) for f in facts) == expected


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_fixture_facts_round_trip_through_the_codec(key: str) -> None:
    """Every fact survives encode and decode unchanged."""
    for fact in parsed(key).facts:
        payload = fact.event.payload
        data = encode_payload(payload)
        assert decode_payload(payload.TYPE, payload.VERSION, data) == payload


def test_text_message_carries_sender_and_business_number() -> None:
    """The text case keeps body, wamid, sender phone, BSUID, profile name and our number."""
    message = only("message.json:text")
    assert message.kind == "text"
    assert message.text == "Body Text"
    assert message.wamid == "wamid.xyzxyz"
    assert message.phone == "+972987654321"
    assert message.wa_id == "972987654321"
    assert message.bsuid == "US.13491208655302741918"
    assert message.parent_bsuid == "US.ENT.11815799212886844830"
    assert message.profile_name == "Test Name"
    assert message.phone_number_id == "1122334455667"
    assert message.display_phone_number == "972123456789"
    assert message.waba_id == "1234567890987654321"
    assert message.sent_at == datetime.fromtimestamp(1697043223, tz=UTC)


def test_image_keeps_media_id_mime_and_hash() -> None:
    """Media messages keep id, mime type and hash; no url when Meta sent none."""
    media = only("message.json:image").media
    assert (media.id, media.mime_type, media.sha256, media.url) == (
        "65463453",
        "image/jpeg",
        "4654+8g=",
        None,
    )


def test_media_url_is_kept_when_present() -> None:
    """Newer webhooks carry the media url."""
    assert only("message.json:media_with_url").media.url.startswith("https://lookaside.fbsbx")


def test_document_keeps_filename_and_caption() -> None:
    """Documents keep their filename and caption."""
    media = only("message.json:document").media
    assert (media.filename, media.caption) == ("filename.pdf", "caption")


def test_voice_note_and_audio_file_differ_by_voice_flag() -> None:
    """``voice`` tells a push-to-talk note from an audio file."""
    assert only("message.json:voice").media.voice is True
    assert only("message.json:audio").media.voice is False


def test_sticker_keeps_animated_flag() -> None:
    """Stickers say whether they are animated."""
    assert only("message.json:animated_sticker").media.animated is True
    assert only("message.json:static_sticker").media.animated is False


def test_reaction_keeps_target_and_emoji() -> None:
    """A reaction names the message and the emoji."""
    reaction = only("message.json:reaction").reaction
    assert (reaction.message_id, reaction.emoji) == ("wamid.yzxyzx=", "😮")


@pytest.mark.parametrize("case", ["unreaction_empty", "unreaction_no_emoji"])
def test_removed_reaction_has_no_emoji(case: str) -> None:
    """An empty or missing emoji means the reaction was removed."""
    reaction = only(f"message.json:{case}").reaction
    assert (reaction.message_id, reaction.emoji) == ("wamid.yzxyzx=", None)


def test_chosen_location_keeps_exact_coordinates_and_place() -> None:
    """Coordinates are exact Decimals; name, address and url are kept."""
    location = only("message.json:chosen_location").location
    assert location.latitude == Decimal("37.4611978")
    assert location.longitude == Decimal("-122.2164385")
    assert location.name == "Facebook HQ"
    assert location.address == "1 Hacker Way, Menlo Park, CA 94025"
    assert location.url == "https://maps.google.com/?cid=2000000000000000000"


def test_current_location_has_only_coordinates() -> None:
    """A live position has coordinates and no place name."""
    location = only("message.json:current_location").location
    assert (location.latitude, location.longitude, location.name) == (
        Decimal("12.25089"),
        Decimal("43.90539"),
        None,
    )


def test_contacts_message_keeps_the_cards_verbatim() -> None:
    """Shared contact cards are kept as Meta sent them."""
    contacts = only("message.json:contacts").contacts
    assert [c["name"]["formatted_name"] for c in contacts] == [
        "Chandler Bing",
        "Monica",
        "Rachel Green",
    ]


def test_order_keeps_catalog_and_typed_items() -> None:
    """Order items have int quantities and Decimal prices."""
    order = only("message.json:order").order
    assert order.catalog_id == "354160437058781"
    assert [(i.product_retailer_id, i.quantity, i.item_price, i.currency) for i in order.items] == [
        ("HAMBURGER", 3, Decimal(30), "ILS"),
        ("FRENCH_FRIES", 2, Decimal(35), "ILS"),
        ("SODA", 2, Decimal(10), "ILS"),
    ]


def test_unsupported_message_keeps_meta_errors() -> None:
    """Meta's own "unsupported" messages keep their error code and details."""
    message = only("message.json:unsupported")
    (error,) = message.errors
    assert (message.kind, error.code, error.details) == (
        "unsupported",
        131051,
        "Message type is currently not supported.",
    )


def test_unsupported_message_keeps_its_real_type() -> None:
    """When Meta says which type it could not show, that is kept."""
    assert only("message.json:unsupported_with_type").unsupported_type == "pool"


def test_reply_keeps_the_quoted_message() -> None:
    """A reply names the quoted message and its author."""
    context = only("message.json:reply").context
    assert (context.sender, context.message_id, context.forwarded) == (
        "972123456789",
        "wamid.xyzxyz==",
        False,
    )


def test_forwarded_flags_are_kept() -> None:
    """Forwarded and frequently forwarded are told apart."""
    assert only("message.json:forwarded").context.forwarded is True
    assert only("message.json:forwarded_many_times").context.frequently_forwarded is True


def test_interactive_without_body_gives_message_and_value_errors() -> None:
    """An interactive message Meta could not render comes with the value's errors."""
    message, errors = (
        f.event.payload for f in parsed("message.json:interactive_message_with_err").facts
    )
    assert (message.kind, message.interactive) == ("interactive", None)
    assert [(e.code, e.details) for e in errors.errors] == [(131000, "Unsupported webhook payload")]
    assert errors.path == "entry[0].changes[0].value.errors"


def test_referral_keeps_the_ad() -> None:
    """Click-to-WhatsApp referrals keep the ad fields and ctwa_clid."""
    referral = only("message.json:referral").referral
    assert (referral.source_id, referral.headline, referral.ctwa_clid) == (
        "ADID",
        "AD_TITLE",
        "CTWA_CLID",
    )


def test_button_reply_keeps_id_and_title() -> None:
    """A reply button tap keeps the button id and title."""
    reply = only("callback_button.json:button").interactive
    assert (reply.type, reply.id, reply.title) == ("button_reply", "callback_data", "title")


def test_quick_reply_keeps_payload_and_text() -> None:
    """A template quick reply keeps payload and text."""
    button = only("callback_button.json:quick_reply").button
    assert (button.payload, button.text) == ("callback_data", "title")


def test_list_reply_keeps_description() -> None:
    """A list row pick keeps its description."""
    reply = only("callback_selection.json:description").interactive
    assert (reply.type, reply.id, reply.description) == (
        "list_reply",
        "callback_data",
        "description",
    )


def test_flow_completion_keeps_response_json() -> None:
    """A completed flow keeps its answers as the JSON string Meta sent."""
    reply = only("flow_completion.json:completion").interactive
    assert reply.type == "nfm_reply"
    assert json.loads(reply.response_json)["flow_token"] == "AQAAAAACS5FpgQ_cAAAAAD0QI3s."
    assert (reply.body, reply.name) == ("Sent", "flow")


def test_call_permission_reply_is_kept_raw() -> None:
    """A reply type without its own fields keeps the raw interactive object."""
    reply = only("call_permission_update.json:accept").interactive
    assert reply.type == "call_permission_reply"
    assert reply.raw["call_permission_reply"]["response"] == "accept"


def test_number_change_names_the_new_number() -> None:
    """A user_changed_number system message gives the new wa_id and E.164."""
    system = only("system.json:phone_number_change").system
    assert (system.type, system.new_wa_id, system.new_phone) == (
        "user_changed_number",
        "972912345678",
        "+972912345678",
    )


def test_identity_change_keeps_identity_hash() -> None:
    """A customer_identity_changed message keeps the identity hash."""
    system = only("system.json:identity_change").system
    assert (system.type, system.identity_hash, system.identity_acknowledged) == (
        "customer_identity_changed",
        "xyzxyz",
        True,
    )


def test_sender_without_contacts_has_no_profile_name() -> None:
    """A message without contacts still has its sender's phone."""
    message = only("system.json:phone_number_change")
    assert (message.phone, message.profile_name, message.bsuid) == ("+972987654321", None, None)


def test_quick_reply_sender_bsuid_comes_from_the_message() -> None:
    """``from_user_id`` on the message gives the BSUID."""
    assert only("callback_button.json:quick_reply_without_context").bsuid == (
        "US.13491208655302741918"
    )


def test_sent_status_keeps_old_conversation_and_pricing() -> None:
    """Old-shape statuses keep conversation id, origin, expiry and CBP pricing."""
    status = only("message_status.json:sent")
    assert (status.wamid, status.status, status.phone) == ("wamid.xyzxyz", "sent", "+972987654321")
    assert status.conversation.id == "7270432eae37498234f4444b35ffc5"
    assert status.conversation.origin_type == "service"
    assert status.conversation.expires_at == datetime.fromtimestamp(1698339900, tz=UTC)
    pricing = status.pricing
    assert (pricing.billable, pricing.pricing_model, pricing.category) == (True, "CBP", "service")


def test_failed_status_keeps_every_error_field() -> None:
    """A failed status keeps code, title, message, details and href."""
    status = only("message_status.json:failed")
    (error,) = status.errors
    assert status.status == "failed"
    assert error.code == 130472
    assert error.title == error.message == "User's number is part of an experiment"
    assert error.details.startswith("Failed to send message")
    assert (
        error.href == "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
    )
    assert (status.conversation, status.pricing) == (None, None)


def test_status_echoes_biz_opaque_callback_data() -> None:
    """Our own tag on the outbound message comes back on its status."""
    assert only("message_status.json:with_tracker").biz_opaque_callback_data == "some data"


def test_group_status_names_the_participant() -> None:
    """Group statuses have no customer phone but name the member concerned."""
    status = only("message_status.json:group")
    assert (status.recipient_type, status.phone, status.participant_bsuid) == (
        "group",
        None,
        "US.123456",
    )


def test_edit_keeps_original_id_and_new_caption() -> None:
    """An edit names the original message and carries the new content."""
    edit = only("edited_message.json:image")
    assert edit.original_wamid == "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
    assert (edit.kind, edit.media.caption) == ("image", "Updated image caption")
    assert edit.phone == "+16505551234"


def test_revoke_keeps_original_id() -> None:
    """A deletion names the message deleted."""
    revoke = only("deleted_message.json:revoke")
    assert (revoke.wamid, revoke.original_wamid) == (
        "<WHATSAPP_MESSAGE_ID>",
        "<ORIGINAL_WHATSAPP_MESSAGE_ID>",
    )
    assert revoke.phone is None


def test_marketing_preference_keeps_value_and_signup_id() -> None:
    """A marketing signup keeps category, value, signup id and time."""
    preference = only("user_marketing_preferences.json:signup")
    assert (preference.category, preference.value, preference.signup_id) == (
        "marketing_messages",
        "signup",
        "13176843987434774",
    )
    assert preference.changed_at == datetime.fromtimestamp(1731705721, tz=UTC)


def test_template_update_is_kept_whole_with_its_field() -> None:
    """Other webhook fields are kept as the raw change, naming field and path."""
    item = only("template_status_update.json:rejected")
    assert (item.field, item.path, item.waba_id) == (
        "message_template_status_update",
        "entry[0].changes[0]",
        _ACCOUNT_A,
    )
    assert item.raw["value"]["reason"] == "INVALID_FORMAT"


def test_message_echo_is_kept_as_unsupported() -> None:
    """smb_message_echoes are recorded raw, not mistaken for customer messages."""
    item = only("outgoing_message.json:text")
    assert (item.field, item.raw["value"]["message_echoes"][0]["text"]["body"]) == (
        "smb_message_echoes",
        "Test message",
    )
