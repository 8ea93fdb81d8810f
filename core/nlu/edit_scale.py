"""Scaling a cart line in words: ``raddoppia``, ``il doppio``, ``dimezza``, ``la metà``.

A verb (``raddoppia``, ``raddoppiale``, ``dimezziamo``: read by prefix) or a noun after
an article (``fai il doppio di latte``, ``mettine la metà``) sets a line to a multiple of
what the cart holds. Half of an odd count rounds down, never below one. Pure vocabulary
and arithmetic; :mod:`core.nlu.edits` reads which line.
"""

from __future__ import annotations

from fractions import Fraction

VERB_PREFIXES: dict[str, Fraction] = {
    "raddoppi": Fraction(2), "triplic": Fraction(3), "quadruplic": Fraction(4),
    "dimezz": Fraction(1, 2),
}  # fmt: skip
NOUNS: dict[str, Fraction] = {
    "doppio": Fraction(2), "doppia": Fraction(2), "triplo": Fraction(3),
    "quadruplo": Fraction(4), "meta": Fraction(1, 2),
}  # fmt: skip
_BEFORE_NOUN = frozenset({"il", "la", "al", "alla", "a", "del", "della"})
_AFTER_NOUN = frozenset({"di", "d", "del", "della", "dello", "dei", "degli", "delle", "dell"})


def verb_factor(token: str) -> Fraction | None:
    """The factor a scaling verb asks for (``raddoppiale``: 2), or None."""
    return next((f for p, f in VERB_PREFIXES.items() if token.startswith(p)), None)


def noun_factor(tokens: tuple[str, ...], i: int) -> tuple[Fraction | None, int]:
    """The factor of ``il doppio`` / ``la metà`` at ``i`` and the tokens it takes (with a
    following ``di``/``delle``), or (None, 0)."""
    factor = NOUNS.get(tokens[i])
    if factor is None or i == 0 or tokens[i - 1] not in _BEFORE_NOUN:
        return None, 0
    return factor, 2 if i + 1 < len(tokens) and tokens[i + 1] in _AFTER_NOUN else 1


def scaled(quantity: int, factor: Fraction) -> int:
    """``quantity`` times ``factor``, rounded down, at least one."""
    return max(1, int(quantity * factor))
