"""Italian quantities and sizes: ``due``, ``una dozzina``, ``2x``, ``x2``, ``3 kg``, ``4x85 g``.

:func:`read_pieces` turns tokens into pieces: a ``quantity`` (how many), a ``size``
(part of a product's description: ``1,5 kg``, ``10 L``, ``6 x 1,5 L``), a ``word`` or
a ``sep``. A number followed by a unit is a size, never a quantity; a half is said
before the unit or after it (``mezzo chilo``, ``un chilo e mezzo``: 0.5 and 1.5 kg).
A range (``tre o quattro``, ``2 o 3``, ``2-3``) is its lower bound. A clock time
(``alle 11``, ``entro le 8``), an amount of money (``45 euro``) and a number right before
an ``x2`` (``crema solare 50 x2``: the 50 is part of the name) are ``other``: never a
quantity. Digits after ``da`` describe the product (``la tachipirina da 500``, ``una
confezione da 6``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.nlu.normalize import QUESTION, SEP

NUMBER_WORDS: dict[str, int] = {
    "un": 1, "uno": 1, "una": 1, "due": 2, "tre": 3, "quattro": 4, "cinque": 5,
    "sei": 6, "sette": 7, "otto": 8, "nove": 9, "dieci": 10, "undici": 11, "dodici": 12,
    "tredici": 13, "quattordici": 14, "quindici": 15, "sedici": 16, "diciassette": 17,
    "diciotto": 18, "diciannove": 19, "venti": 20, "ventuno": 21, "ventidue": 22,
    "ventitre": 23, "ventiquattro": 24, "venticinque": 25, "trenta": 30, "quaranta": 40,
    "cinquanta": 50, "cento": 100, "du": 2, "na": 1,  # du', 'na: southern and Roman speech
}  # fmt: skip
GROUP_WORDS: dict[str, int] = {
    "dozzina": 12, "dozzine": 12, "paio": 2, "coppia": 2, "decina": 10, "decine": 10,
}  # fmt: skip
UNITS: dict[str, str] = {
    "kg": "kg", "chili": "kg", "chilo": "kg", "kilo": "kg", "chilogrammi": "kg",
    "g": "g", "gr": "g", "grammi": "g", "grammo": "g", "hg": "hg", "etti": "hg", "etto": "hg",
    "mg": "mg", "l": "l", "lt": "l", "litro": "l", "litri": "l", "ml": "ml", "cl": "cl",
    "cm": "cm", "mm": "mm", "m": "m", "metri": "m", "metro": "m", "mesi": "mesi",
    "anni": "anni", "compresse": "cpr", "cpr": "cpr", "capsule": "cps", "w": "w",
}  # fmt: skip
_CURRENCY = frozenset({"euro", "eur", "centesimi", "cent"})
_CLOCK_BEFORE = frozenset({"alle", "ore", "dalle"})
_CLOCK_BEFORE_LE = frozenset({"entro", "verso", "dopo", "per", "fino", "prima", "tra", "fra"})
_HALF = frozenset({"mezzo", "mezza"})
_AND_A_HALF = frozenset({("e", "mezzo"), ("e", "mezza")})
_LETTERS = frozenset({"m", "l", "g"})  # a unit only after digits: "un l'olio" is no litre
_RANGE_WORDS = frozenset({"o", "oppure", "massimo", "max"})
_NUMERIC = re.compile(r"^(\d+(?:[.,]\d+)?)(?:x(\d+(?:[.,]\d+)?))?([a-z]*)$")
_X_QTY = re.compile(r"^x(\d+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Piece:
    """One reading of a token run: ``quantity``, ``size``, ``word`` or ``sep``."""

    kind: str
    text: str = ""  # the word, or the canonical size such as ``1.5kg``
    value: int = 0  # quantity, or the pack count of a size such as ``6 x 1,5 L``
    marked: bool = False  # an ``x`` marker (2x, x2, 2 x) made the quantity explicit


def _num(text: str) -> str:
    """Canonical decimal text: ``1,50`` -> ``1.5``."""
    value = text.replace(",", ".")
    return value.rstrip("0").rstrip(".") if "." in value else value


def _word_number(tokens: tuple[str, ...], i: int) -> tuple[int, int] | None:
    """A number spelt in words at ``i`` and how many tokens it takes."""
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok in {"mezza", "mezzo"} and nxt in GROUP_WORDS:
        return GROUP_WORDS[nxt] // 2, 2
    if tok in NUMBER_WORDS and nxt in GROUP_WORDS:
        return NUMBER_WORDS[tok] * GROUP_WORDS[nxt], 2
    if tok in GROUP_WORDS:
        return GROUP_WORDS[tok], 1
    if tok in NUMBER_WORDS:
        return NUMBER_WORDS[tok], 1
    return None


def _numeric(tokens: tuple[str, ...], i: int) -> tuple[Piece, int] | None:
    """A digit token at ``i``: a quantity or a size, with the tokens it takes."""
    m = _NUMERIC.match(tokens[i])
    if m is None:
        return None
    whole, times, suffix = m.groups()
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if times is not None:  # 4x85 (g)
        unit = UNITS.get(suffix) or UNITS.get(nxt, "")
        taken = 2 if not suffix and nxt in UNITS else 1
        return Piece(kind="size", text=_num(times) + unit, value=int(float(_num(whole)))), taken
    if suffix == "x":  # 2x
        return Piece(kind="quantity", value=int(whole), marked=True), 1
    if suffix in UNITS:  # 500g
        return _sized(tokens, i, i + 1, _num(whole), UNITS[suffix])
    if nxt in UNITS:  # 3 kg
        return _sized(tokens, i, i + 2, _num(whole), UNITS[nxt])
    if nxt == "x" and i + 2 < len(tokens) and _NUMERIC.match(tokens[i + 2]):
        inner = _numeric(tokens, i + 2)  # 6 x 1,5 L
        if inner is not None and inner[0].kind == "size":
            return Piece(kind="size", text=inner[0].text, value=int(whole)), 2 + inner[1]
    if "." in whole or "," in whole:
        return Piece(kind="size", text=_num(whole)), 1
    marked = nxt == "x"
    return Piece(kind="quantity", value=int(whole), marked=marked), 2 if marked else 1


def read_piece(tokens: tuple[str, ...], i: int) -> tuple[Piece, int]:
    """The piece starting at ``i`` and how many tokens it takes (at least one)."""
    tok = tokens[i]
    if tok in (SEP, QUESTION):
        return Piece(kind="sep", text=tok), 1
    numeric = _numeric(tokens, i)
    if numeric is not None:
        return numeric
    m = _X_QTY.match(tok)
    if m is not None:
        return Piece(kind="quantity", value=int(m.group(1)), marked=True), 1
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok in _HALF and nxt in UNITS and nxt not in _LETTERS:  # "mezzo chilo"
        return _sized(tokens, i, i + 2, "0.5", UNITS[nxt])
    spelt = _word_number(tokens, i)
    if spelt is not None:
        value, taken = spelt
        nxt = tokens[i + taken] if i + taken < len(tokens) else ""
        if nxt in UNITS and nxt not in _LETTERS:  # "due chili", not "un l'"
            return _sized(tokens, i, i + taken + 1, str(value), UNITS[nxt])
        return Piece(kind="quantity", value=value), taken
    return Piece(kind="word", text=tok), 1


def _sized(
    tokens: tuple[str, ...], start: int, end: int, amount: str, unit: str
) -> tuple[Piece, int]:
    """The size ``amount unit`` read from ``start`` to ``end``, with an ``e mezzo`` said after
    it (``un chilo e mezzo`` is 1.5 kg), and how many tokens it takes."""
    half = "." not in amount and tokens[end : end + 2] in _AND_A_HALF
    text = _num(str(float(amount) + 0.5)) if half else amount
    return Piece(kind="size", text=text + unit), end - start + (2 if half else 0)


def _is_clock(tokens: tuple[str, ...], i: int) -> bool:
    """``alle 11``, ``entro le 8``: a number read as a time of day."""
    before = tokens[i - 1] if i else ""
    if before in _CLOCK_BEFORE:
        return True
    return before in {"le", "l"} and i >= 2 and tokens[i - 2] in _CLOCK_BEFORE_LE


def read_pieces(tokens: tuple[str, ...]) -> tuple[Piece, ...]:
    """All pieces of ``tokens`` in order; ranges keep their lower bound."""
    out: list[Piece] = []
    i = 0
    while i < len(tokens):
        piece, taken = read_piece(tokens, i)
        after = tokens[i + taken] if i + taken < len(tokens) else ""
        if piece.kind == "quantity" and (_is_clock(tokens, i) or after in _CURRENCY):
            piece, taken = Piece(kind="other", text=tokens[i]), taken + (after in _CURRENCY)
        elif piece.kind == "quantity" and not piece.marked and _X_QTY.match(after):
            piece = Piece(kind="other", text=tokens[i])  # "crema solare 50 x2": 50 names it
        elif piece.kind == "quantity" and i and tokens[i - 1] == "da" and tokens[i][0].isdigit():
            piece = Piece(kind="size", text=tokens[i])  # "la tachipirina da 500": a strength
        elif piece.kind == "quantity" and after in _RANGE_WORDS and i + taken + 1 < len(tokens):
            upper, more = read_piece(tokens, i + taken + 1)
            if upper.kind == "quantity":
                low = min(piece.value, upper.value)
                piece = Piece(kind="quantity", value=low, marked=piece.marked)
                taken += 1 + more
        out.append(piece)
        i += taken
    return tuple(out)
