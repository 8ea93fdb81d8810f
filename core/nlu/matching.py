"""The catalogue index and fuzzy product matching, built once per catalogue.

Each product's name and aliases (weight 1.0: ``tachipirina`` is as good as
``paracetamolo``), tags (0.85) and description (0.35) are folded,
stemmed with Snowball's Italian stemmer and put in an inverted index. A query word is
looked up by its stem; unknown stems fall back to a prefix match (abbreviations such as
``mozza``) and then to ``rapidfuzz`` similarity among stems with the same first letter
(typos). Scores weight each query stem by its rarity (IDF) so that ``crocchette per
gatto`` prefers the product named for both words over one that only says ``gatto``.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from core.catalog import Catalog, Product
from core.nlu.lexicon import PACKAGING, canonical, is_content
from core.nlu.normalize import stem, tokenize
from core.nlu.numbers import read_pieces

NAME, TAG, DESCRIPTION = 1.0, 0.85, 0.35
ALIAS = NAME
STRONG = TAG  # a name or tag match: enough to say a product was mentioned
STEM_ONLY = 0.8  # "rose" matches "Rosa" by stem, but the exact word "rose" matches better
_PREFIX_SIM = 0.9
_MEMO_LIMIT = 8192
TOP = 50  # candidates kept per query: enough for ambiguity checks and a results page

_SINGULAR_ENDINGS = {"i": ("e", "o", "a"), "e": ("a",)}  # cani -> cane, rose -> rosa
Alternatives = tuple[tuple[str, float], ...]  # (catalogue stem, similarity in [0, 1])


@dataclass(frozen=True, slots=True, kw_only=True)
class Scored:
    """A product's relevance to a query in [0, 1] and how much of its name was said."""

    index: int
    score: float
    cover: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogIndex:
    """Inverted index of one catalogue; build with :meth:`build`, reuse for every message."""

    products: tuple[Product, ...]
    postings: dict[str, dict[int, float]]  # stem -> product -> best field weight
    surface: dict[str, dict[int, float]]  # exact folded word -> product -> field weight
    idf: dict[str, float]
    vocab: tuple[str, ...]  # sorted stems, for prefix look-ups
    by_initial: dict[str, tuple[str, ...]]
    name_stems: tuple[frozenset[str], ...]
    sizes: tuple[frozenset[str], ...]
    amounts: tuple[str | None, ...]  # the one size of a single-unit product (1l), else None
    counts: tuple[int, ...]  # units in one pack named in the product (12 rose), else 0
    strong: frozenset[str]  # stems found in some name or tag
    in_stock: tuple[bool, ...]
    memo: dict[str, Alternatives] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, catalog: Catalog) -> CatalogIndex:
        """Index every product of ``catalog``."""
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        surface: dict[str, dict[int, float]] = defaultdict(dict)
        names, sizes, counts, amounts = [], [], [], []
        for i, product in enumerate(catalog.products):
            name = _add_field(postings, surface, i, product.name, NAME)
            for alias in product.aliases:
                _add_field(postings, surface, i, alias, ALIAS)
            for tag in product.tags:
                _add_field(postings, surface, i, tag, TAG)
            _add_field(postings, surface, i, product.description, DESCRIPTION)
            pieces = read_pieces(tokenize(product.name))
            names.append(frozenset(name))
            own = [p for p in pieces if p.kind == "size"]
            sizes.append(frozenset(p.text for p in own))
            amounts.append(own[0].text if len(own) == 1 and not own[0].value else None)
            counts.append(next((p.value for p in pieces if p.kind == "quantity"), 0))
        n = max(len(catalog.products), 1)
        idf = {s: math.log(1 + n / len(ps)) for s, ps in postings.items()}
        vocab = tuple(sorted(postings))
        initial: dict[str, list[str]] = defaultdict(list)
        for s in vocab:
            initial[s[0]].append(s)
        return cls(
            products=catalog.products,
            postings=dict(postings),
            surface=dict(surface),
            idf=idf,
            vocab=vocab,
            by_initial={k: tuple(v) for k, v in initial.items()},
            name_stems=tuple(names),
            sizes=tuple(sizes),
            amounts=tuple(amounts),
            counts=tuple(counts),
            strong=frozenset(s for s, ps in postings.items() if max(ps.values()) >= STRONG),
            in_stock=tuple(p.in_stock for p in catalog.products),
        )

    def knows(self, word: str) -> bool:
        """True when ``word``'s stem occurs in the catalogue (so it is not a typo)."""
        return stem(canonical(word)) in self.postings

    def resolve(self, word: str) -> Alternatives:
        """Catalogue stems that ``word`` may stand for, with their similarity."""
        s = stem(canonical(word))
        if s in self.postings:
            return ((s, 1.0),)
        singular = self._singular(word)
        if singular:
            return ((singular, 1.0),)
        if len(s) < 4:
            word = canonical(word)
            if len(word) < 6 or not word.isalpha():
                return ()
            # memo keys of stems never start with "="
            return self._memoized("=" + word, lambda: self._misspelt_short(word))
        return self._memoized(s, lambda: self._prefixed(s) or self._fuzzy(s))

    def _memoized(self, key: str, find: Callable[[], Alternatives]) -> Alternatives:
        found = self.memo.get(key)
        if found is None:
            found = find()
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = found
        return found

    def _misspelt_short(self, word: str) -> Alternatives:
        """A misspelt word whose stem came out too short to compare (``pasate`` -> ``pas``):
        its singular (``pasata``) against the catalogue's own words, strictly."""
        singular = word[:-1] + {"e": "a", "i": "o"}.get(word[-1], word[-1])
        choices = [w for w in self.surface if w[:1] == word[:1]]
        hit = process.extractOne(singular, choices, scorer=fuzz.ratio, score_cutoff=88.0)
        return () if hit is None else ((stem(hit[0]), hit[1] / 100.0),)

    def _singular(self, word: str) -> str | None:
        """The catalogue stem of the singular of an Italian plural (``solari`` -> ``solare``)."""
        if len(word) < 4 or word[-1] not in "ie":
            return None
        for ending in _SINGULAR_ENDINGS[word[-1]]:
            s = stem(word[:-1] + ending)
            if s in self.postings:
                return s
        return None

    def _prefixed(self, s: str) -> Alternatives:
        if len(s) < 4:
            return ()
        start = bisect.bisect_left(self.vocab, s)
        hits = []
        for candidate in self.vocab[start : start + 3]:
            if candidate.startswith(s):
                hits.append((candidate, _PREFIX_SIM))
        return tuple(hits)

    def _fuzzy(self, s: str) -> Alternatives:
        cutoff = 80.0 if len(s) >= 6 else 86.0
        choices = self.by_initial.get(s[0], ())
        found = process.extract(s, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=2)
        return tuple((choice, score / 100.0) for choice, score, _ in found)


def _add_field(
    postings: dict[str, dict[int, float]],
    surface: dict[str, dict[int, float]],
    i: int,
    text: str,
    weight: float,
) -> set[str]:
    """Post the content words and stems of ``text`` for product ``i``; return the stems.

    A packaging noun given as a tag (``scatolette``) is posted too: a customer may name
    the product by it alone (``2 scatolette per gatto``).
    """
    words = {canonical(w) for w in tokenize(text)}
    stems = set()
    for word in (w for w in words if is_content(w) or (weight == TAG and w in PACKAGING)):
        s = stem(word)
        stems.add(s)
        for table, key in ((postings, s), (surface, word)):
            if table[key].get(i, 0.0) < weight:
                table[key][i] = weight
    return stems


def content_words(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The words of ``tokens`` that may name products, in order, without repeats."""
    seen: dict[str, None] = {}
    for tok in tokens:
        word = canonical(tok)
        if is_content(word):
            seen.setdefault(word, None)
    return tuple(seen)


def score(index: CatalogIndex, words: tuple[str, ...], limit: int = TOP) -> list[Scored]:
    """The ``limit`` products most relevant to ``words``, best first.

    Among equal scores, products whose name the words cover best come first, then
    catalogue order; when more than ``limit`` tie, those in stock are kept.
    """
    per_product: dict[int, float] = defaultdict(float)
    matched: set[str] = set()
    total = 0.0
    for word in words:
        alternatives = index.resolve(word)
        if not alternatives:
            continue  # words the catalogue never uses do not count against anyone
        weight = max(index.idf[s] for s, _ in alternatives)
        total += weight
        best: dict[int, float] = dict(index.surface.get(canonical(word), {}))
        for s, sim in alternatives:
            matched.add(s)
            for i, w in index.postings[s].items():
                best[i] = max(best.get(i, 0.0), w * sim * STEM_ONLY)
        for i, v in best.items():
            per_product[i] += weight * v
    if total == 0.0:
        return []
    stock = index.in_stock
    top = heapq.nlargest(
        limit, per_product.items(), key=lambda kv: (round(kv[1] / total, 4), stock[kv[0]], -kv[0])
    )
    ranked = [
        Scored(index=i, score=v / total, cover=_cover(index.name_stems[i], matched)) for i, v in top
    ]
    ranked.sort(key=lambda s: (-round(s.score, 4), -s.cover, s.index))
    return ranked


def _cover(name: frozenset[str], matched: set[str]) -> float:
    return len(name & matched) / len(name) if name else 0.0


def mentions_product(index: CatalogIndex, words: tuple[str, ...]) -> bool:
    """True when some word names a product or tag (not only a description)."""
    for word in words:
        for s, sim in index.resolve(word):
            if sim >= 0.8 and s in index.strong:
                return True
    return False
