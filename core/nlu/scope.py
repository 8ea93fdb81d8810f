"""Negation and exclusion scope: which words of a message the customer does NOT want.

Italian marks an exclusion in two ways, and both are read per clause (a clause ends at
a separator, a question mark or a contrasting ``ma``/``pero``):

* a marker before the product: ``senza``, ``niente``, ``tranne``, ``eccetto``,
  ``escluso``, ``a parte``, ``non``: the rest of the clause is excluded
  (``pasta e passata ma niente olio``, ``senza il termometro``);
* a negation after the product: ``il deodorante no``, ``le crocchette invece non
  servono``: the whole clause is excluded.

The person greeted is not a product either: ``ciao zia Rosa``, ``buongiorno signora
Rosa`` (a greeting, a title, a name), nor the hand in ``dammi una mano``. A clause
saying the customer already has something (``ne ho``, ``ce l'ho``, ``ne ha gia``, ``ho
ancora``) is excluded too. ``non`` does not exclude in a need (``non ho piu caffe``), a
reminder (``non dimenticare il pane``), running out (``sono rimasto senza``), a
condition (``se non``), before ``e`` (``non e urgente``) or in a question (``non avete
crocchette?``), and ``senza`` in a question asks about a feature (``il deo e senza
alcool?``). ``niente`` after an interjection or before a wish is a filler (``eh niente
volevo ordinare``: well then, I wanted to order).

:func:`apply_scope` is what the cart reader and the search use; :func:`excluded_words`
gives the excluded words of a text, for callers that edit a cart. :func:`drop_stories`
applies the scope of tense: a clause that tells a story in the past (``il vecchio l'ha
rosicchiato``, ``si è mangiato mezza pagnotta``) asks for nothing; a story told in a
relative clause (``il guinzaglio che il vecchio l'ha mangiato``) leaves its lead wanted.
"""

from __future__ import annotations

import itertools

from core.nlu.intent_rules import NARRATIVE
from core.nlu.lexicon import STOPWORDS
from core.nlu.normalize import QUESTION, SEP, tokenize

EXCLUDED = "#"  # stands for an excluded run in :func:`apply_scope`'s output
TOLD = "~"  # opens a clause kept by :func:`drop_stories` with ``keep=True``

MARKERS = frozenset({"senza", "niente", "tranne", "eccetto", "escluso", "esclusa", "esclusi",
                     "escluse", "salvo", "nemmeno", "neanche", "neppure", "togli", "toglimi",
                     "togliete", "toglietemi", "rimuovi", "elimina", "levami"})  # fmt: skip
WEAK_MARKERS = frozenset({"non", "senza"})  # not exclusions inside a question
NEGATIONS = frozenset({"no", "non"})
CLAUSE_BREAKS = frozenset({SEP, QUESTION, "ma", "pero"})
_NEED_AFTER_NON = frozenset({"ho", "abbiamo", "c", "ce", "dimenticare", "dimenticate",
                             "scordare", "scordate", "scordatevi", "dimenticatevi", "vedo",
                             "e", "sia", "fosse", "so", "sapevo"})  # fmt: skip
_HAVE = frozenset({"ho", "abbiamo"})
_INTERJECTIONS = frozenset({"eh", "beh", "boh", "mah", "ah", "oh", "vabbe", "vabbuo", "niente"})
_WANTING = frozenset({"volevo", "vorrei", "volevamo", "vorremmo", "voglio", "vogliamo"})
_NOT_REFUSED = STOPWORDS | MARKERS | {"parte", "no", "invece"}
_GIVE = frozenset({"dammi", "dai", "date", "datemi", "darmi", "darci", "dare", "dateci"})
_SHORT = 5  # "il pane no", "le crocchette invece no": a refusal says little before "no"
_GREETINGS = frozenset({"ciao", "salve", "buongiorno", "buonasera", "buondi", "hey", "ehi"})
_TITLES = frozenset({"zia", "zio", "nonna", "nonno", "signora", "signor", "signore", "sig",
                     "sigra", "dottore", "dottoressa", "dott", "dottor", "dottssa", "cara",
                     "caro", "carissima", "carissimo", "amica", "amico", "prof"})  # fmt: skip
_CLITICS = frozenset({"ne", "ce", "l", "li", "le", "lo", "la"})
_AND = frozenset({"e", "ed"})
_CORRECTING = frozenset({"anzi", "cioe"})
SORRY = frozenset({"scusa", "scusami", "scusate", "pardon"})
"""After ``no`` (``2 olio no scusa 1``), a word that corrects what was just said."""
_ARTICLES = frozenset({"il", "lo", "la", "i", "gli", "le", "l"})
_PREPOSITIONS = frozenset({"di", "a", "da", "in", "con", "su", "per", "tra", "fra"})
_LATER = frozenset({("prossima", "volta"), ("piu", "avanti"), ("prossima", "settimana"),
                    ("costa", "troppo"), ("costano", "troppo")})  # fmt: skip
_BUY_VERBS = frozenset({"compro", "prendo", "compra", "prende", "compriamo", "prendiamo"})
_ELSEWHERE = frozenset({"dal", "dalla", "dallo", "al", "alla", "allo", "altrove", "fuori"})


def clauses(tokens: tuple[str, ...]) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the clauses of ``tokens``; breaks belong to no clause."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i, tok in enumerate(tokens):
        if tok in CLAUSE_BREAKS:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(tokens)))
    return [(a, b) for a, b in spans if a < b]


def _is_question(tokens: tuple[str, ...], end: int) -> bool:
    return end < len(tokens) and tokens[end] == QUESTION


def _has(tokens: tuple[str, ...], start: int, end: int) -> int | None:
    """Where the clause's "already have it" part starts (``ne ho``, ``ce l ho``), or None.

    The part runs back to the item before it: in ``2 pagnotte e niente latte che ce l ho``
    only ``niente latte ...`` is had, the loaves are still wanted.
    """
    for i in range(start, end - 1):
        if (
            (tokens[i] in _CLITICS and tokens[i + 1] in _HAVE)
            or (tokens[i] in _HAVE and tokens[i + 1] == "ancora")  # "ho ancora la lettiera"
            or (tokens[i] == "ne" and tokens[i + 1] == "ha" and "gia" in tokens[i + 2 : end])
        ):
            return _phrase_start(tokens, start, i)
    return None


def _phrase_start(tokens: tuple[str, ...], start: int, i: int) -> int:
    """The start of the noun phrase before ``i``: after an ``e``, or at an article that
    follows another word (``... due confezioni di uova il latte no``: ``il latte``)."""
    for j in range(i - 1, start, -1):
        if tokens[j] in _AND:
            return j + 1
        if tokens[j] in _ARTICLES and tokens[j - 1] not in _PREPOSITIONS:
            return j
    return start


def _later_or_elsewhere(tokens: tuple[str, ...], start: int, end: int) -> bool:
    """``lo prendo la prossima volta``, ``lo compro dal fornaio``, ``le rose costano troppo``:
    not wanted now from us."""
    words = tokens[start:end]
    pairs = set(itertools.pairwise(words))
    if pairs & _LATER:
        return True
    buys = [k for k, w in enumerate(words) if w in _BUY_VERBS]
    return any(w in _ELSEWHERE for k in buys[:1] for w in words[k + 1 : k + 3])


def _marker_at(tokens: tuple[str, ...], i: int, question: bool) -> bool:
    tok = tokens[i]
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if tok == "a" and nxt == "parte":
        return True
    if question and tok in WEAK_MARKERS:
        return False
    if tok == "non":
        return nxt not in _NEED_AFTER_NON and (i == 0 or tokens[i - 1] != "se")
    if tok == "senza" and i and tokens[i - 1].startswith("rimast"):
        return False  # "sono rimasto senza caffe": a need
    if tok == "niente" and nxt == "di":
        return False  # "niente di che", "niente di speciale": nothing special
    if tok == "niente" and (nxt in _WANTING or (i and tokens[i - 1] in _INTERJECTIONS)):
        return False  # "eh niente, volevo ordinare ...": a filler, "well then"
    return tok in MARKERS


def _clause_mask(tokens: tuple[str, ...], start: int, end: int) -> list[bool]:
    """Excluded positions of one clause."""
    question = _is_question(tokens, end)
    had = _has(tokens, start, end)
    if had is not None or (not question and _later_or_elsewhere(tokens, start, end)):
        first = start if had is None else had
        return [False] * (first - start) + [True] * (end - first)
    mask = [False] * (end - start)
    for i in range(start, end):
        if _negates_before(tokens, start, i, question):
            first = _phrase_start(tokens, start, i)
            return [False] * (first - start) + [True] * (end - first)
        if _marker_at(tokens, i, question):
            for j in range(i, end):
                mask[j - start] = True
            break
    return mask


def _negates_before(tokens: tuple[str, ...], start: int, i: int, question: bool) -> bool:
    """``il deodorante no``, ``le crocchette non servono``: a negation after the product."""
    if tokens[i] not in NEGATIONS or i == start or question:
        return False
    if _corrective(tokens, i):
        return False
    if not _after_words(tokens, start, i):
        return False
    return tokens[i] == "no" or _marker_at(tokens, i, question)


def _corrective(tokens: tuple[str, ...], i: int) -> bool:
    """``anzi no``, ``3 no anzi 2``, ``2 no scusa 1``: a ``no`` that corrects, refusing nothing."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    return (i > 0 and tokens[i - 1] in _CORRECTING) or nxt in _CORRECTING or nxt in SORRY


def _after_words(tokens: tuple[str, ...], start: int, i: int) -> bool:
    """True when a word that may name a product (not ``anzi``, ``ok``...) precedes ``i``."""
    return any(t[:1].isalpha() and t not in STOPWORDS for t in tokens[start:i])


def _introduces(tokens: tuple[str, ...], i: int) -> bool:
    """``sono la signora Bianchi``: the customer says who they are, not what they want."""
    return tokens[i - 1] == "sono" or (
        i > 1 and tokens[i - 2 : i] in {("sono", "la"), ("sono", "il")}
    )


def excluded_mask(tokens: tuple[str, ...]) -> tuple[bool, ...]:
    """For each token, True when it lies in the scope of an exclusion or names who is greeted."""
    mask = [False] * len(tokens)
    for start, end in clauses(tokens):
        mask[start:end] = _clause_mask(tokens, start, end)
    for i in range(1, len(tokens) - 1):
        if tokens[i] in _TITLES and (tokens[i - 1] in _GREETINGS or _introduces(tokens, i)):
            mask[i] = mask[i + 1] = True
        if tokens[i - 1] in _GIVE and tokens[i : i + 2] == ("una", "mano"):
            mask[i] = mask[i + 1] = True  # "dammi una mano": help, not a hand cream
    return tuple(mask)


def apply_scope(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """``tokens`` with every excluded run replaced by one :data:`EXCLUDED` mark."""
    out: list[str] = []
    for tok, excluded in zip(tokens, excluded_mask(tokens), strict=True):
        if not excluded:
            out.append(tok)
        elif not out or out[-1] != EXCLUDED:
            out.append(EXCLUDED)
    return tuple(out)


def drop_stories(tokens: tuple[str, ...], *, keep: bool = False) -> tuple[str, ...]:
    """``tokens`` with every clause told in the past (not a question) replaced by one mark.

    With ``keep`` the clause stays, opened by :data:`TOLD`: its product may still be what
    a later pronoun refers to (``il cane ha rotto la ciotola, me ne porti una nuova?``).
    """
    out: list[str] = []
    last = 0
    for start, end in clauses(tokens):
        out.extend(tokens[last:start])
        story = not _is_question(tokens, end) and NARRATIVE.search(" ".join(tokens[start:end]))
        if story:
            cut = _relative(tokens, start, end)
            out.extend(tokens[start:cut])
            out.extend([TOLD, *tokens[cut:end]] if keep else [EXCLUDED])
        else:
            out.extend(tokens[start:end])
        last = end
    out.extend(tokens[last:])
    return tuple(out)


def _relative(tokens: tuple[str, ...], start: int, end: int) -> int:
    """Where a clause's story starts: at a ``che`` whose relative clause tells it (``il
    guinzaglio che il vecchio l ha mangiato``: the lead is still wanted), else ``start``."""
    for i in range(start + 1, end):
        if tokens[i] == "che" and not NARRATIVE.search(" ".join(tokens[start:i])):
            return i if NARRATIVE.search(" ".join(tokens[i:end])) else start
    return start


def refused_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Words the customer explicitly refuses, so that their product leaves the whole cart.

    After ``senza``/``niente``/``tranne``/``eccetto``/``a parte`` (``senza`` not in a
    question), or a short clause ending in ``no`` (``il pane no``, ``i croccantini invece
    no``). Unlike :func:`excluded_tokens`, never ``non`` with a verb: ``il mal di testa
    non passa`` refuses nothing.
    """
    out: list[str] = []
    for start, end in clauses(tokens):
        question, clause = _is_question(tokens, end), tokens[start:end]
        near = range(start + 1, min(start + _SHORT, end))
        said_no = any(tokens[k] == "no" and not _corrective(tokens, k) for k in near)
        if said_no and not question and "non" not in clause:
            out.extend(clause)
            continue
        marks = [
            i for i in range(start, end) if tokens[i] != "non" and _marker_at(tokens, i, question)
        ]
        out.extend(tokens[marks[0] : end] if marks else ())
    return tuple(t for t in out if t[:1].isalpha() and t not in _NOT_REFUSED)


def excluded_words(text: str) -> tuple[str, ...]:
    """The normalised words of ``text`` that the customer excludes, in order."""
    return excluded_tokens(tokenize(text))


def excluded_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The words of ``tokens`` in the scope of an exclusion, in order."""
    mask = excluded_mask(tokens)
    return tuple(t for t, m in zip(tokens, mask, strict=True) if m and t[:1].isalpha())
