"""The dialogue format, the per-turn checks and the report of ``eval-dialogue`` (pure)."""

from __future__ import annotations

import pytest

from core.dialogues import (
    DialogueFormatError,
    DialogueReport,
    DialogueTurn,
    TurnResult,
    check_turn,
    parse_dialogues,
    shows_total,
)

RAW = {
    "dialogues": [
        {
            "name": "d1",
            "behaviour": "A",
            "phone": "+393400000001",
            "turns": [
                {"text": "vorrei 2 mozzarelle", "expect": {"total": "9,80"}},
                {"dealer": "+393471234567", "text": "esaurito uova"},
                {"text": "annulla", "reply_any": ["annullat"], "reply_none": ["operatore"]},
            ],
        }
    ]
}


def test_a_file_parses_into_dialogues_with_customer_and_dealer_turns() -> None:
    """Customer turns have no dealer; a dealer turn keeps the dealer's phone."""
    [d] = parse_dialogues(RAW)
    assert (d.name, d.behaviour, d.phone) == ("d1", "A", "+393400000001")
    assert [t.dealer for t in d.turns] == [None, "+393471234567", None]
    assert d.turns[0].total == "9,80"
    assert d.turns[2].reply_any == ("annullat",)
    assert d.turns[2].reply_none == ("operatore",)
    assert [t.checked for t in d.turns] == [True, False, True]


@pytest.mark.parametrize(
    "raw",
    [[], {"dialogues": [{"turns": [{"text": "x"}]}]},
     {"dialogues": [{"phone": "+39", "turns": []}]},
     {"dialogues": [{"phone": "+39", "turns": [{"expect": {}}]}]},
     {"dialogues": [{"phone": "+39", "turns": [{"text": "x", "reply_any": "si"}]}]}],
)  # fmt: skip
def test_a_malformed_file_is_refused_with_a_reason(raw: object) -> None:
    """No dialogues list, no phone, no turns, a turn without text, a non-list: refused."""
    with pytest.raises(DialogueFormatError):
        parse_dialogues(raw)


def test_a_total_is_found_only_as_a_whole_amount() -> None:
    """``11,59`` is in ``€ 11,59`` but not in ``€ 111,59`` or ``€ 11,590``."""
    assert shows_total("Totale: € 11,59\nConfermi?", "11,59")
    assert not shows_total("Totale: € 111,59", "11,59")
    assert not shows_total("Totale: € 1.011,59", "11,59")
    assert not shows_total("Totale: € 11,590", "11,59")


def test_the_total_is_read_from_the_last_reply_only() -> None:
    """A total shown in an earlier reply of the turn does not count."""
    turn = DialogueTurn(text="x", total="9,80")
    assert check_turn(turn, ["Totale: € 9,80", "Ciao"]) == (
        "last reply does not show the total 9,80",
    )
    assert check_turn(turn, ["Ciao", "Totale: € 9,80"]) == ()
    assert check_turn(turn, []) != ()


def test_reply_any_and_reply_none_read_every_reply_ignoring_case() -> None:
    """One wanted substring anywhere passes; any banned substring anywhere fails."""
    turn = DialogueTurn(text="x", reply_any=("annullat",), reply_none=("Operatore",))
    assert check_turn(turn, ["Ho ANNULLATO il carrello"]) == ()
    assert check_turn(turn, ["ok", "passo a un operatore"]) == (
        "no reply contains any of ['annullat']",
        "a reply contains 'Operatore'",
    )


def test_the_report_counts_dialogues_turns_and_behaviours() -> None:
    """A dialogue passes only when all its turns pass; unchecked turns are not counted."""
    report = DialogueReport()
    good = DialogueTurn(text="a", total="1,00")
    plain = DialogueTurn(text="b")
    report.add(TurnResult(dialogue="d1", behaviour="A", index=0, turn=good, replies=("1,00",)))
    report.add(TurnResult(dialogue="d1", behaviour="A", index=1, turn=plain, replies=()))
    report.add(
        TurnResult(
            dialogue="d2", behaviour="B", index=0, turn=good, replies=("2,00",), problems=("bad",)
        )
    )
    out = report.to_json()
    assert (out["dialogues"], out["dialogues_passed"], out["dialogue_pass_rate"]) == (2, 1, 0.5)
    assert (out["turns_checked"], out["turns_passed"]) == (2, 1)
    assert out["by_behaviour"] == {
        "A": {"dialogues": 1, "passed": 1},
        "B": {"dialogues": 1, "passed": 0},
    }
    [failure] = out["failures"]
    assert failure == {
        "dialogue": "d2", "turn": 0, "sent": "a", "from_dealer": None,
        "replies": ["2,00"], "problems": ["bad"],
    }  # fmt: skip
