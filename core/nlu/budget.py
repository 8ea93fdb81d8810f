"""A price limit said in a question: ``sotto i 5 euro``, ``meno di 10 €``, ``max 20 euro``.

A limit is a cap word and an amount: ``sotto``, ``meno di``, ``entro``, ``fino a``,
``massimo``/``max``/``al massimo``, ``non piu di``, then the amount in digits or in words
(``sotto i cinquanta euro``), then ``euro`` or nothing (the tokenizer drops the euro
sign). Articles between the cap and the amount are skipped (``sotto i 5``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.nlu.numbers import NUMBER_WORDS

_CAPS: tuple[tuple[str, ...], ...] = (
    ("sotto",),
    ("meno", "di"),
    ("entro",),
    ("fino", "a"),
    ("fino", "ai"),
    ("massimo",),
    ("max",),
    ("piu", "di"),  # "non piu di 10 euro": the "non" goes before it
)
_ARTICLES = frozenset({"i", "gli", "le", "l", "un", "una", "dei", "di"})
_CURRENCY = frozenset({"euro", "eur"})


def price_cap(tokens: tuple[str, ...]) -> Decimal | None:
    """The highest price ``tokens`` allow, or None when they set no limit."""
    for i in range(len(tokens)):
        for cap in _CAPS:
            end = i + len(cap)
            if tokens[i:end] != cap or (cap == ("piu", "di") and tokens[i - 1 : i] != ("non",)):
                continue
            while end < len(tokens) and tokens[end] in _ARTICLES:
                end += 1
            amount = _amount(tokens[end]) if end < len(tokens) else None
            after = tokens[end + 1] if end + 1 < len(tokens) else ""
            if amount is not None and (after in _CURRENCY or not after[:1].isalpha()):
                return amount
    return None


def _amount(token: str) -> Decimal | None:
    """``5``, ``20,50`` or ``cinquanta`` as an amount of euro; None for anything else."""
    if token in NUMBER_WORDS:
        return Decimal(NUMBER_WORDS[token])
    try:
        return Decimal(token.replace(",", "."))
    except InvalidOperation:
        return None
