"""Model chains and retirement rules (core/models.py) and the settings that carry them."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.settings import SettingsError, load_settings
from core.models import (
    DEFAULT_CHAT_MODELS,
    ChainError,
    ModelFacts,
    due_alerts,
    parse_chain,
    parse_shutdown_date,
    usable,
    verdict,
)

TODAY = date(2026, 12, 20)


def listed(model: str, shutdown: str | None = None) -> ModelFacts:
    """Facts of a model the server lists, with an optional shutdown date."""
    return ModelFacts(
        model=model, listed=True, shutdown=date.fromisoformat(shutdown) if shutdown else None
    )


def test_a_chain_keeps_order_and_ignores_blanks() -> None:
    """Names are trimmed, blanks between commas dropped, order kept."""
    assert parse_chain(" a , b,,c ") == ("a", "b", "c")


@pytest.mark.parametrize("raw", ["", " ", ",", " , ,"])
def test_an_empty_chain_is_refused(raw: str) -> None:
    """A list that names no model cannot serve anything."""
    with pytest.raises(ChainError, match="names no model"):
        parse_chain(raw)


def test_a_duplicate_name_is_refused() -> None:
    """A model named twice would be retried right after it failed."""
    with pytest.raises(ChainError, match="'a' twice"):
        parse_chain("a,b,a")


def test_a_shutdown_date_parses_and_null_means_no_date() -> None:
    """``YYYY-MM-DD`` is a date; null and absent are "no date" without a note."""
    assert parse_shutdown_date("2027-01-14") == (date(2027, 1, 14), None)
    assert parse_shutdown_date(None) == (None, None)


@pytest.mark.parametrize("raw", ["2027-13-45", "14/01/2027", 20270114, "2027-1-14", "soon"])
def test_a_malformed_shutdown_date_is_no_date_with_a_note(raw: object) -> None:
    """Whatever the server sent is kept in the note; the model counts as dateless."""
    shutdown, note = parse_shutdown_date(raw)
    assert shutdown is None
    assert note is not None
    assert str(raw) in note


def test_verdicts_around_the_thirty_day_line() -> None:
    """31 days out is fine, 30 is soon, the day itself and after are retired."""
    assert verdict(listed("m", "2027-01-20"), TODAY) == "ok"
    assert verdict(listed("m", "2027-01-19"), TODAY) == "shutdown_soon"
    assert verdict(listed("m", "2026-12-20"), TODAY) == "retired"
    assert verdict(listed("m", "2026-06-01"), TODAY) == "retired"
    assert verdict(listed("m"), TODAY) == "ok"


def test_unlisted_unchecked_and_not_found_models() -> None:
    """Not listed is unknown, no facts is unchecked, a mid-run 404 is retired."""
    assert verdict(ModelFacts(model="m", listed=False), TODAY) == "unknown"
    assert verdict(None, TODAY) == "unchecked"
    assert verdict(ModelFacts(model="m", listed=True, not_found=True), TODAY) == "retired"


def test_due_alerts_skip_models_already_alerted_today() -> None:
    """Soon, retired and unknown models alert once per day; healthy ones never."""
    facts = {
        "soon": listed("soon", "2027-01-14"),
        "gone": listed("gone", "2026-01-01"),
        "nope": ModelFacts(model="nope", listed=False),
        "fine": listed("fine"),
    }
    due = due_alerts(facts, TODAY, alerted_today=["gone"])
    assert [(a.model, a.reason, a.days_left) for a in due] == [
        ("soon", "shutdown_soon", 25),
        ("nope", "unknown", None),
    ]


def test_usable_skips_retired_and_unknown_but_never_returns_nothing() -> None:
    """The order to try today; with every model out, the whole chain (stale facts)."""
    facts = {"a": listed("a", "2026-01-01"), "b": ModelFacts(model="b", listed=False)}
    assert usable(("a", "b", "c"), facts, TODAY) == ["c"]
    assert usable(("a", "b"), facts, TODAY) == ["a", "b"]


def test_settings_default_to_the_documented_chains() -> None:
    """Without the variables: the default chat chain, vision follows it."""
    settings = load_settings({})
    assert settings.llm_model == DEFAULT_CHAT_MODELS
    assert settings.llm_vision_model == settings.llm_model
    assert settings.llm_transcription_model == "gpt-transcribe"


def test_settings_normalise_chains_and_vision_follows_llm_model() -> None:
    """Spaces are dropped; an unset vision chain is the chat chain."""
    settings = load_settings({"LLM_MODEL": " x , y ", "LLM_TRANSCRIPTION_MODEL": "t1,t2"})
    assert (settings.llm_model, settings.llm_vision_model) == ("x,y", "x,y")
    assert settings.llm_transcription_model == "t1,t2"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("LLM_MODEL", ",", "LLM_MODEL names no model"),
        ("LLM_VISION_MODEL", "v,v", "LLM_VISION_MODEL names 'v' twice"),
        ("LLM_TRANSCRIPTION_MODEL", " , ", "LLM_TRANSCRIPTION_MODEL names no model"),
    ],
)
def test_settings_refuse_empty_and_duplicate_chains(name: str, raw: str, message: str) -> None:
    """The error names the variable and what is wrong with it."""
    with pytest.raises(SettingsError, match=message):
        load_settings({name: raw})
