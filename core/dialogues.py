"""Multi-turn dialogue evaluation: the data format, the per-turn checks and the report.

The format is the one of ``dialogues_dev.json``: ``{"dialogues": [{"name", "behaviour",
"phone", "turns": [...]}]}``. A turn is a customer ``text``, or a ``dealer`` phone and its
``text``; it may expect ``expect.total`` (the LAST reply of the turn shows that total,
Italian decimal comma), ``reply_any`` (one of these substrings appears in some reply,
case-insensitive) and ``reply_none`` (none of them appears in any reply). Turns without
expectations only drive the dialogue. Pure: running the dialogues is the shell's job
(:mod:`adapters.dialogue_eval`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class DialogueFormatError(ValueError):
    """The dialogue file does not have the expected shape; the message says where."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DialogueTurn:
    """One message of a dialogue and what its replies must (not) show."""

    text: str
    dealer: str | None = None  # the dealer's phone when a dealer writes this turn
    total: str | None = None
    reply_any: tuple[str, ...] = ()
    reply_none: tuple[str, ...] = ()

    @property
    def checked(self) -> bool:
        """True when the turn carries an expectation."""
        return bool(self.total or self.reply_any or self.reply_none)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialogue:
    """A named dialogue of one customer phone."""

    name: str
    behaviour: str
    phone: str
    turns: tuple[DialogueTurn, ...]


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise DialogueFormatError(f"{where}: expected a list of strings")
    return tuple(raw)


def _turn(raw: Any, where: str) -> DialogueTurn:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("text"), str):
        raise DialogueFormatError(f"{where}: a turn needs a 'text'")
    expect = raw.get("expect") or {}
    if not isinstance(expect, Mapping):
        raise DialogueFormatError(f"{where}: 'expect' must be an object")
    total = expect.get("total")
    dealer = raw.get("dealer")
    return DialogueTurn(
        text=raw["text"],
        dealer=str(dealer) if dealer else None,
        total=str(total) if total is not None else None,
        reply_any=_strings(raw.get("reply_any"), where),
        reply_none=_strings(raw.get("reply_none"), where),
    )


def parse_dialogues(raw: Any) -> tuple[Dialogue, ...]:
    """The dialogues of a decoded file; raises :class:`DialogueFormatError`."""
    rows = raw.get("dialogues") if isinstance(raw, Mapping) else None
    if not isinstance(rows, list):
        raise DialogueFormatError("expected an object with a 'dialogues' list")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or not isinstance(row.get("phone"), str):
            raise DialogueFormatError(f"dialogue #{i}: needs a 'phone'")
        name = str(row.get("name") or f"dialogue-{i}")
        turns = row.get("turns")
        if not isinstance(turns, list) or not turns:
            raise DialogueFormatError(f"{name}: needs a non-empty 'turns' list")
        out.append(
            Dialogue(
                name=name,
                behaviour=str(row.get("behaviour") or "?"),
                phone=row["phone"],
                turns=tuple(_turn(t, f"{name} turn {j}") for j, t in enumerate(turns)),
            )
        )
    return tuple(out)


def shows_total(text: str, total: str) -> bool:
    """True when ``text`` shows the amount ``total`` (``11,59`` but not ``111,59``)."""
    return re.search(rf"(?<![\d.]){re.escape(total)}(?!\d)", text) is not None


def check_turn(turn: DialogueTurn, replies: Sequence[str]) -> tuple[str, ...]:
    """What is wrong with ``replies`` (in send order) for ``turn``; empty when it passes."""
    problems: list[str] = []
    seen = "\n".join(replies).casefold()
    if turn.total is not None and (not replies or not shows_total(replies[-1], turn.total)):
        problems.append(f"last reply does not show the total {turn.total}")
    if turn.reply_any and not any(s.casefold() in seen for s in turn.reply_any):
        problems.append(f"no reply contains any of {list(turn.reply_any)}")
    for banned in turn.reply_none:
        if banned.casefold() in seen:
            problems.append(f"a reply contains {banned!r}")
    return tuple(problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnResult:
    """One turn as it was played: sent, answered, and what was wrong."""

    dialogue: str
    behaviour: str
    index: int
    turn: DialogueTurn
    replies: tuple[str, ...]
    problems: tuple[str, ...] = ()


@dataclass(slots=True)
class DialogueReport:
    """Totals over every played turn, per behaviour, with the failing turns in full."""

    results: list[TurnResult] = field(default_factory=list)

    def add(self, result: TurnResult) -> None:
        """Record one played turn."""
        self.results.append(result)

    def _dialogues(self) -> dict[str, tuple[str, bool]]:
        out: dict[str, tuple[str, bool]] = {}
        for r in self.results:
            ok = out.get(r.dialogue, (r.behaviour, True))[1] and not r.problems
            out[r.dialogue] = (r.behaviour, ok)
        return out

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data."""
        dialogues = self._dialogues()
        behaviours: dict[str, dict[str, int]] = {}
        for behaviour, ok in dialogues.values():
            row = behaviours.setdefault(behaviour, {"dialogues": 0, "passed": 0})
            row["dialogues"] += 1
            row["passed"] += ok
        checked = [r for r in self.results if r.turn.checked]
        passed = sum(ok for _, ok in dialogues.values())
        return {
            "dialogues": len(dialogues),
            "dialogues_passed": passed,
            "dialogue_pass_rate": round(passed / len(dialogues), 4) if dialogues else 0.0,
            "turns_checked": len(checked),
            "turns_passed": sum(not r.problems for r in checked),
            "by_behaviour": dict(sorted(behaviours.items())),
            "failures": [_failure(r) for r in self.results if r.problems],
        }


def _failure(r: TurnResult) -> dict[str, Any]:
    return {
        "dialogue": r.dialogue,
        "turn": r.index,
        "sent": r.turn.text,
        "from_dealer": r.turn.dealer,
        "replies": list(r.replies),
        "problems": list(r.problems),
    }
