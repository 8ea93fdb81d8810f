"""Intent classification by Italian phrase rules and vocabulary, with a confidence.

Each rule of :mod:`core.nlu.intent_rules` adds weight to one intent when its pattern
occurs in the folded message. Where stems collide the rules read phrases: ``il mio
ordine`` (a placed order: support) versus ``ordino``/``vorrei ordinare``/``un nuovo
ordine`` (ordering). Two signals come from the catalogue: a product is mentioned (outside
any exclusion), and items carry explicit quantities. A product named in a story (past
tense, no request) does not make an order; a request after the last question mark
weighs for an order (the customer asked, then ordered). Ties go to the costlier mistake to miss:
support, then order, then question, then chat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from core.nlu.intent_rules import (
    INTERROGATIVE,
    KEYWORDS,
    NARRATIVE,
    NEUTRAL,
    QUESTION_OPENERS,
    RULES,
    SERVICE,
    SUPPORT_EXACT,
    SUPPORT_STEMS,
)
from core.nlu.lexicon import INTENT_WORDS, STOPWORDS, is_order_verb
from core.understanding import Intent

NO_EVIDENCE = 0.6  # nothing points anywhere: small talk, and nothing to hesitate between
_NOT_A_REQUEST = frozenset({"sapere", "vedere", "capire", "sentire", "pensare"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Signals:
    """What the catalogue says about a message: mentions and explicit quantities."""

    mentions_product: bool = False  # outside exclusions and stories: may be ordered
    names_product: bool = False  # anywhere outside exclusions: may be asked about
    explicit_items: int = 0  # items with a number (resolved or not)
    items: int = 0  # items read at all


@lru_cache(maxsize=16384)
def correct(word: str) -> str:
    """``word`` or the intent keyword it misspells (``vorei`` -> ``vorrei``).

    A typo adds, drops or swaps a letter: a keyword two letters longer or shorter is
    another word (``portati`` is not ``portatemi``), and one that differs only in its
    ending is another form of the same verb (``consegnato`` is not ``consegnate``).
    """
    if len(word) < 5 or word in STOPWORDS or word in INTENT_WORDS or not word.isalpha():
        return word
    found = process.extractOne(word, KEYWORDS, scorer=fuzz.ratio, score_cutoff=85.0)
    if not found or abs(len(found[0]) - len(word)) > 1:
        return word
    return word if _same_stem(word, found[0]) else found[0]


def _same_stem(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ only in their last two letters at most."""
    shared = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return shared >= max(len(a), len(b)) - 2


def scores(
    tokens: tuple[str, ...], signals: Signals, known: Callable[[str], bool]
) -> dict[Intent, float]:
    """Weight of evidence for each intent; ``known`` tells catalogue words (not fixed)."""
    words = [t if known(t) else correct(t) for t in tokens]
    text = " ".join(words)
    out = dict.fromkeys(Intent, 0.0)
    for intent, weight, pattern in RULES:
        if pattern.search(text):
            out[intent] += weight
    out[Intent.ORDER_REQUEST] += 3.0 * _imperatives(words) + _closing_request(words)
    plain = NEUTRAL.sub(" ", text).split()
    support = {w for w in plain if w in SUPPORT_EXACT or w.startswith(SUPPORT_STEMS)}
    out[Intent.SUPPORT_REQUEST] += _problem_weight(out) * min(len(support), 2)
    if "?" not in words and NARRATIVE.search(text) and out[Intent.SUPPORT_REQUEST] < 2.0:
        out[Intent.GENERAL_CHAT] += 1.5  # a story, not a complaint
    _add_catalogue_signals(out, words, text, signals)
    return out


def requests(words: Sequence[str]) -> bool:
    """True when ``words`` ask for something outright (``prendo``, ``mi porti``), unnegated."""
    text = " ".join(words)
    asked = any(
        intent is Intent.ORDER_REQUEST and weight >= 2.0 and pattern.search(text)
        for intent, weight, pattern in RULES
    )
    return asked and "non" not in words  # "nn voglio portarlo a toelettare"


def after_question(words: Sequence[str]) -> int | None:
    """Where the words after the last question mark start, or None when nothing follows it."""
    if "?" not in words or words[-1] == "?":
        return None
    return len(words) - list(words)[::-1].index("?")


def _closing_request(words: list[str]) -> float:
    """2 when a request follows the last question mark, else 0: the customer asked and
    then ordered anyway (``non avete niente senza glutine vero? allora prendo 2 passate``)."""
    start = after_question(words)
    return 2.0 if start is not None and requests(words[start:]) else 0.0


def _problem_weight(out: dict[Intent, float]) -> float:
    """A problem word is a complaint unless the message orders and speaks of no delivery.

    ``il cane ha rotto la ciotola, me ne porti una nuova?`` asks for a new bowl.
    """
    if out[Intent.SUPPORT_REQUEST] == 0.0 and out[Intent.ORDER_REQUEST] >= 3.0:
        return 1.5
    return 3.0


def _imperatives(words: list[str]) -> int:
    """1 when an imperative with pronouns asks for something (``mandamene``), else 0."""
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if is_order_verb(word) and nxt not in _NOT_A_REQUEST:
            return 1
    return 0


def _add_catalogue_signals(
    out: dict[Intent, float], words: list[str], text: str, signals: Signals
) -> None:
    asks = INTERROGATIVE.search(text) is not None  # "di che colore e": no mark needed
    question = "?" in words or asks or (bool(words) and words[0] in QUESTION_OPENERS)
    service = SERVICE.search(text) is not None
    if service and not signals.names_product:
        out[Intent.GENERAL_CHAT] += 2.0 + out[Intent.PRODUCT_INQUIRY]
        out[Intent.PRODUCT_INQUIRY] = 0.0
    if signals.names_product and question and ("?" in words or asks):
        out[Intent.PRODUCT_INQUIRY] += 2.0
    elif signals.mentions_product and not question:
        out[Intent.ORDER_REQUEST] += 1.0
    if signals.explicit_items:
        out[Intent.ORDER_REQUEST] += 1.5


def classify(
    tokens: tuple[str, ...], signals: Signals, known: Callable[[str], bool]
) -> tuple[Intent, float]:
    """The intent of ``tokens`` and a confidence in [0, 1]."""
    weights = scores(tokens, signals, known)
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], _PRIORITY[kv[0]]))
    (top, best), (_, second) = ranked[0], ranked[1]
    if best <= 0.0:
        return Intent.GENERAL_CHAT, NO_EVIDENCE
    confidence = 0.5 + 0.5 * (best - second) / (best + 1.0)
    return top, round(min(confidence, 0.99), 3)


_PRIORITY = {
    Intent.SUPPORT_REQUEST: 0,
    Intent.ORDER_REQUEST: 1,
    Intent.PRODUCT_INQUIRY: 2,
    Intent.GENERAL_CHAT: 3,
}
