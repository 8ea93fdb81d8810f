"""Items of an order message: where one item ends, which number it takes, what it is for.

Items are separated by commas and by ``e``/``più``/``poi``; a new quantity after an
item's words also starts a new item (``2 pane 3 latte``). The quantity is the number
before the words (or an ``x2`` after them); a number followed by a unit is a size.
Packaging nouns (``3 pacchi di spaghetti``) are skipped for matching, and their count
is the quantity.

How quantities bind, as an Italian reader binds them:

* a ``per`` phrase names who or what the order is for (``per il cane``, ``x i miei due
  gatti``, ``uno per me``): its noun only settles a tie between products (``crocchette
  per cane``), and a number inside it is never a quantity; said alone (``x il cane:``)
  it settles ties for every item after it;
* a clause with a number and no product (``mandamene due``, ``diciamo 4``, ``2 pacchi``)
  gives the number to the item before it when that item had none;
* ``quello``/``quella`` at the start of a clause goes on describing the previous item;
* excluded words (:mod:`core.nlu.scope`) arrive as one barrier mark and bind nothing;
* ``anzi``/``cioè`` take the item before back: what follows replaces it (``4 uova, anzi
  una confezione da 6`` is one pack of eggs);
* a clause told in the past (opened by the ``TOLD`` mark) orders nothing by itself, but
  its product takes a number said after it (``il cane ha rotto la ciotola, me ne porti
  una nuova?``);
* a gift is what an item is for, never an item: ``confezione regalo`` is gift wrapping,
  ``2 profumi, uno e un regalo`` orders two perfumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.nlu.lexicon import (
    DEMONSTRATIVES,
    DETERMINERS,
    PACKAGING,
    PARTITIVES,
    SEPARATOR_WORDS,
    STOPWORDS,
    canonical,
    is_content,
)
from core.nlu.numbers import Piece
from core.nlu.scope import EXCLUDED, SORRY, TOLD

GIFT_WRAP = frozenset({"regalo", "regali"})
_CORRECTIONS = frozenset({"anzi", "cioe"})  # "4 uova, anzi 6", "6 bottiglie, cioe una confezione"


@dataclass(slots=True, kw_only=True)
class Item:
    """One requested item while reading: its words, quantity and sizes."""

    words: list[str] = field(default_factory=list)
    quantity: int | None = None
    packaged: bool = False
    sizes: list[str] = field(default_factory=list)
    barrier: bool = False  # an exclusion ended the item before: nothing binds across
    corrects: list[str] = field(default_factory=list)  # "4 uova, anzi una confezione"
    told: bool = False  # named in a story: ordered only if a later number binds to it
    qualifiers: list[str] = field(default_factory=list)  # "per il cane": breaks ties only
    packs: list[str] = field(default_factory=list)  # packaging words said ("scatolette")
    weak: bool = False  # named only by its packaging: kept only when it matches clearly
    head: list[str] = field(default_factory=list)  # words before a ``quello`` described it
    described: bool = False  # opened or reopened by ``quello``: a second one is another item
    trailing: bool = False  # its number was said bare after its words ("tachipirina 500")


def split_items(pieces: tuple[Piece, ...]) -> list[Item]:
    """Group ``pieces`` into items; items without product words are dropped."""
    items: list[Item] = []
    current = Item()
    qualified = _qualify(pieces)
    postfix = _numbers_follow(qualified)
    for i, piece in enumerate(qualified):
        if piece.kind == "sep" or (piece.kind == "word" and piece.text in SEPARATOR_WORDS):
            items.append(current)
            told = current.told and piece.kind != "sep"  # a story goes on to its clause's end
            current = Item(barrier=piece.text == EXCLUDED, told=told)
        elif _corrects(qualified, i) and (current.words or any(it.words for it in items)):
            # the customer takes the last item back: "2 uova anzi no 3", "4 uova, anzi 6"
            current = Item(corrects=current.words or _withdraw(items))
        elif piece.text == TOLD:
            items.append(current)
            current = Item(told=True)
        elif piece.kind == "qualifier":
            current.qualifiers.append(piece.text)
        elif piece.kind == "size":
            current.sizes.append(piece.text)
        elif piece.kind == "quantity":
            rest = () if postfix else tuple(qualified[i + 1 :])
            current = _take_quantity(current, piece, rest, items)
            closes = postfix or piece.marked  # "spaghetti 5 passata 5", "shampoo x1 deo x1"
            if closes and current.words and _product_next(qualified, i + 1):
                items.append(current)
                current = Item()
        elif piece.text in PACKAGING:
            current.packaged = current.quantity is not None
            current.packs.append(piece.text)
        elif piece.text in DEMONSTRATIVES and not current.words and _reopen(items):
            current = _describe(items)
        elif piece.text in DEMONSTRATIVES and not current.words:
            current.described = True  # "i mazzi, quello misto e quello di rose"
        elif piece.text in GIFT_WRAP:
            continue  # "confezione regalo", "uno e un regalo": what it is for, not a product
        elif piece.kind == "word" and _names_product(piece.text) and not _verb(qualified, i):
            current.words.append(canonical(piece.text))
    items.append(current)
    return _bind_bare_quantities(items)


def _verb(pieces: list[Piece], i: int) -> bool:
    """True when the word at ``i`` follows an object pronoun, so it is a verb.

    ``li`` is never an article, and ``lo``/``gli`` are articles only before a vowel, an
    ``s`` and a consonant, ``z``, ``gn``, ``ps``, ``x`` or ``y`` (``lo shampoo``, ``gli
    ossicini``): before any other consonant they are pronouns (``lo regalo a mio
    fratello``, ``gli porto le rose``). Any ``s`` is read as an article's, since a
    product is the safer reading.
    """
    before = pieces[i - 1].text if i else ""
    word = pieces[i].text
    if before == "li":
        return True
    return before in {"lo", "gli"} and not word.startswith(_AFTER_LO) and word[:1] not in "aeiou"


_AFTER_LO = ("s", "z", "gn", "ps", "pn", "x", "y", "h")


def _corrects(pieces: list[Piece], i: int) -> bool:
    """``anzi``, ``cioè``, or ``scusa`` right after ``no`` (``2 olio no scusa 1``)."""
    text = pieces[i].text
    return text in _CORRECTIONS or (text in SORRY and i > 0 and pieces[i - 1].text == "no")


def _names_product(word: str) -> bool:
    return word not in PARTITIVES and is_content(canonical(word))


def _withdraw(items: list[Item]) -> list[str]:
    """Remove the last item with words (``anzi`` corrects it) and return its words."""
    for i in range(len(items) - 1, -1, -1):
        if items[i].words:
            return items.pop(i).words
    return []


def _describe(items: list[Item]) -> Item:
    """The item that ``quello``/``quella`` goes on describing.

    The first one reopens the item before; a second one after it names another of the
    same kind (``i profumi, quello alla rosa e quello agli agrumi``: two perfumes).
    """
    last = items[-1]
    if last.described:
        return Item(words=list(last.head), head=list(last.head), described=True, told=last.told)
    items.pop()
    last.head, last.described = list(last.words), True
    return last


def _numbers_follow(pieces: list[Piece]) -> bool:
    """True when every number comes after its product (``spaghetti 5 passata 5 olio 1``).

    Read so when the first product word comes before any number and the message closes
    with a bare number; the words that lead in (``allora mi servono gli spaghetti 2
    pacchi ...``) name nothing.
    """
    kinds = [
        p
        for p in pieces
        if p.kind == "quantity"
        or (p.kind == "word" and p.text not in PACKAGING and _names_product(p.text))
    ]
    first, last = (kinds[0], kinds[-1]) if kinds else (None, None)
    return (
        first is not None
        and last is not None
        and first.kind == "word"
        and last.kind == "quantity"
        and not last.marked
    )


def _product_next(pieces: list[Piece], i: int) -> bool:
    """True when a product word comes next, past packaging and articles (``2 pacchi la``)."""
    while i < len(pieces) and pieces[i].text in PACKAGING | PARTITIVES | DETERMINERS | {"di"}:
        i += 1
    return i < len(pieces) and pieces[i].kind == "word" and _names_product(pieces[i].text)


def _reopen(items: list[Item]) -> bool:
    """True when the last item can take more words (``..., quella nel vaso``)."""
    return bool(items) and bool(items[-1].words)


def _bind_bare_quantities(items: list[Item]) -> list[Item]:
    """Give a number said without a product to the item before it, then drop wordless items.

    A ``per`` phrase said alone (``x il cane: crocchette 2 sacchi``) breaks ties for
    every item after it.
    """
    out: list[Item] = []
    context: list[str] = []
    for item in items:
        item.qualifiers.extend(context)
        if not item.words and not item.quantity and not item.corrects:
            context.extend(item.qualifiers)
        if not item.words and (item.quantity is not None or item.sizes):
            item.words = item.corrects  # "4 uova, anzi 6", "latte 3 anzi 2 litri": a new amount
        if item.words:
            out.append(item)
            continue
        previous = out[-1] if out else None
        bound = item.quantity is not None and not item.barrier and previous is not None
        if bound and previous is not None and _names_another(item, previous):
            bound = False
        if bound and previous is not None and previous.quantity is None:
            previous.quantity = item.quantity
            previous.packaged = previous.packaged or item.packaged
            previous.told = False
        elif item.packs:  # "2 scatolette per gatto": the packaging may be a product's tag
            item.words, item.weak = list(item.packs), True
            out.append(item)
    return [item for item in out if not item.told]


def _names_another(item: Item, previous: Item) -> bool:
    """True when a bare count with packaging is for another product than the item before.

    ``crocchette per il cane e un paio di scatolette per il gatto``: its own ``per``
    phrase, unlike the item before's, says the packaging (a product's tag) is what it wants.
    """
    return bool(item.packs and item.qualifiers) and item.qualifiers != previous.qualifiers


def _qualify(pieces: tuple[Piece, ...]) -> list[Piece]:
    """``per`` phrases become one ``qualifier`` piece (their noun); their numbers vanish."""
    out: list[Piece] = []
    i = 0
    while i < len(pieces):
        piece = pieces[i]
        if piece.kind == "word" and piece.text == "per":
            head, i = _per_phrase(pieces, i + 1)
            out.extend(Piece(kind="qualifier", text=w) for w in head)
            continue
        out.append(piece)
        i += 1
    return out


def _per_phrase(pieces: tuple[Piece, ...], i: int) -> tuple[list[str], int]:
    """The content words of the phrase after ``per`` at ``i``, and where it ends."""
    head: list[str] = []
    while i < len(pieces):
        piece = pieces[i]
        word = canonical(piece.text)
        if piece.kind == "quantity" or (piece.kind == "word" and piece.text in DETERMINERS):
            i += 1
        elif piece.kind == "word" and is_content(word) and word not in PACKAGING:
            head.append(word)
            i += 1
            if i + 1 < len(pieces) and pieces[i].text in {"di", "del", "della", "dei", "delle"}:
                i += 1  # "per il ristorante di mio cognato": the complement goes too
                continue
            break
        else:
            break
    return head, i


def _take_quantity(current: Item, piece: Piece, rest: tuple[Piece, ...], items: list[Item]) -> Item:
    """Attach a quantity to ``current`` or start a new item with it."""
    if not current.words:
        if not current.packaged and current.quantity is None:  # "due mazzi di 12 rose"
            current.quantity = piece.value
        return current
    follows_words = _names_next(rest)
    if current.quantity is None and (piece.marked or not follows_words):
        current.quantity = piece.value  # "spaghetti x3"
        current.trailing = not piece.marked
        return current
    if current.quantity == 1 and piece.marked and not follows_words:
        current.quantity = piece.value  # "1 crema mani 75 ml x2": the multiplier counts
        return current
    items.append(current)
    return Item(quantity=piece.value, told=current.told)


def _names_next(rest: tuple[Piece, ...]) -> bool:
    """True when a product word (or packaging) follows, past articles and adjectives."""
    for piece in rest:
        if piece.kind != "word" or piece.text in SEPARATOR_WORDS:
            return False
        if piece.text in PACKAGING or is_content(piece.text):
            return True
        if piece.text not in STOPWORDS:
            return False
    return False
