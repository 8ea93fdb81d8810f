"""Scope of words: exclusions and negations, needs, questions, greetings, stories."""

from __future__ import annotations

import pytest

from core.nlu.normalize import tokenize
from core.nlu.scope import (
    EXCLUDED,
    apply_scope,
    drop_stories,
    excluded_words,
    refused_tokens,
)


@pytest.mark.parametrize(
    ("text", "excluded"),
    [
        ("latte e uova ma niente burro", ("niente", "burro")),
        ("il sapone, senza lo shampoo", ("senza", "lo", "shampoo")),
        ("tutto tranne il formaggio", ("tranne", "il", "formaggio")),
        ("pane, a parte i grissini", ("a", "parte", "i", "grissini")),
        ("crackers e biscotti eccetto quelli al cacao", ("eccetto", "quelli", "al", "cacao")),
        ("il miele no, grazie", ("il", "miele", "no")),
        ("la birra invece non mi serve", ("la", "birra", "invece", "non", "mi", "serve")),
        ("il detersivo, ne ho ancora", ("ne", "ho", "ancora")),
        ("i tovaglioli, ce l ho", ("ce", "l", "ho")),
    ],
)
def test_excluded_words_follow_the_marker(text: str, excluded: tuple[str, ...]) -> None:
    """Before-markers exclude the rest of the clause; after-negations the whole clause."""
    assert excluded_words(text) == excluded


@pytest.mark.parametrize(
    "text",
    [
        "non ho piu zucchero, mandamene 2",
        "non dimenticare il sale",
        "sono rimasto senza farina",
        "se non avete il riso va bene la pasta",
        "non avete biscotti?",
        "il sapone e senza profumo?",
        "non e urgente, portami il miele",
    ],
)
def test_needs_reminders_conditions_and_questions_exclude_nothing(text: str) -> None:
    """``non``/``senza`` that do not refuse a product leave every word in."""
    assert excluded_words(text) == ()


def test_apply_scope_leaves_one_mark_per_excluded_run() -> None:
    """The cart reader sees a barrier where the excluded words were."""
    assert apply_scope(tokenize("miele e pane, niente burro ne margarina")) == (
        "miele", "e", "pane", ",", EXCLUDED,
    )  # fmt: skip


def test_a_greeted_name_is_not_a_product() -> None:
    """``ciao zia Rosa``: the title and the name are dropped, the order stays."""
    assert apply_scope(tokenize("ciao zia Rosa mi porti il miele")) == (
        "ciao", EXCLUDED, "mi", "porti", "il", "miele",
    )  # fmt: skip


def test_a_story_clause_asks_for_nothing() -> None:
    """Past-tense clauses are dropped for ordering; the request beside them stays."""
    tokens = tokenize("il gatto ha rovesciato la ciotola, mandami 2 ciotole")
    assert drop_stories(tokens) == (EXCLUDED, ",", "mandami", "2", "ciotole")


def test_a_past_question_is_not_a_story() -> None:
    """``avete ricevuto il miele?`` is a question, kept whole."""
    tokens = tokenize("avete ricevuto il miele?")
    assert drop_stories(tokens) == tokens


def test_running_out_is_a_need_not_a_story() -> None:
    """``ho finito il caffe`` keeps the product: it is why the customer writes."""
    tokens = tokenize("ho finito lo zucchero, portamene due")
    assert drop_stories(tokens) == tokens


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("latte e pane? il pane no", ("pane",)),
        ("miele e biscotti tranne quelli al cacao?", ("cacao",)),
        ("il sapone, senza la spugna", ("spugna",)),
        ("tre aspirine, il mal di testa non passa", ()),
        ("il sapone e senza profumo?", ()),
        ("vorrei il bagno, lo faccio io a casa mia no", ()),
    ],
)
def test_refused_words_are_explicit_refusals_only(text: str, refused: tuple[str, ...]) -> None:
    """Markers and a short ``X no`` refuse; ``non`` with a verb and long clauses do not."""
    assert refused_tokens(tokenize(text)) == refused
