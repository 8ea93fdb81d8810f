"""How Italian is written on WhatsApp, as tables: SMS shorthand, glued words, emoji.

Every rule of :func:`core.nlu.normalize.tokenize` that rewrites a customer's spelling
reads one of these tables, so the whole normalisation is one place to read and test:

* :data:`SHORTHAND`: SMS abbreviations and phonetic spellings (``nn`` -> ``non``,
  ``xke`` -> ``perche``, ``qlc`` -> ``qualche``, ``cmq`` -> ``comunque``, ``k`` for ``ch``);
* :data:`GLUED`: words written together (``unpaio`` -> ``un paio``, ``xfavore``);
* :data:`PHRASES`: runs of words read as one (``tutti e due`` -> ``entrambi``, ``buoni
  pasto`` -> ``buonipasto``, the exclamation ``mamma mia``);
* :data:`EMOJI_WORDS`: the few emoji that carry meaning (laughter reads as ``ahah``,
  disgust as ``schifo``, anger as ``arrabbiato``);
  every other emoji is dropped for understanding (the recorded text keeps it);
* :data:`UNIT_SUFFIXES`: what may follow a number in one token (``500g``, ``2x``); any
  other glued word is split off (``3latte`` -> ``3 latte``);
* :data:`LAUGHTER`: any ``ahahah``/``hahaha``/``eheh`` is the one word ``ahah``;
* :data:`KEEP_FINAL_DOUBLE`: real words ending in a doubled vowel, kept when repeated
  letters are squeezed (``graziee`` -> ``grazie`` but ``orchidee`` stays).

Keys are folded (lower case, no accents), as :func:`core.nlu.normalize.fold` makes them.
"""

from __future__ import annotations

import re

SHORTHAND: dict[str, tuple[str, ...]] = {
    "nn": ("non",), "x": ("per",), "xk": ("perche",), "xke": ("perche",),
    "xche": ("perche",), "perke": ("perche",), "pke": ("perche",), "xo": ("pero",),
    "qlc": ("qualche",), "qlk": ("qualche",), "qlcs": ("qualcosa",), "qcs": ("qualcosa",),
    "qlcn": ("qualcuno",), "cmq": ("comunque",), "ke": ("che",), "k": ("che",),
    "ki": ("chi",), "anke": ("anche",), "ank": ("anche",), "kosa": ("cosa",),
    "cs": ("cosa",), "qnd": ("quando",), "qndo": ("quando",), "qnt": ("quanto",),
    "qto": ("quanto",), "qta": ("quanta",), "qst": ("questo",), "qsto": ("questo",),
    "qsta": ("questa",), "tt": ("tutto",), "sn": ("sono",), "cn": ("con",),
    "nnt": ("niente",), "msg": ("messaggio",), "grz": ("grazie",),
    "grazi": ("grazie",), "thx": ("grazie",), "tnx": ("grazie",), "pls": ("per", "favore"),
    "plz": ("per", "favore"), "pf": ("per", "favore"), "xfv": ("per", "favore"),
    "xf": ("per", "favore"), "fav": ("favore",),
    "scs": ("scusa",), "dmn": ("domani",),
    "sett": ("settimana",), "prox": ("prossima",), "de": ("di",),
    "lol": ("ahah",), "asd": ("ahah",), "xd": ("ahah",),
}  # fmt: skip

GLUED: dict[str, tuple[str, ...]] = {
    "unpaio": ("un", "paio"), "unpaia": ("un", "paio"),
    "xfavore": ("per", "favore"), "perfavore": ("per", "favore"), "perpiacere": ("per", "piacere"),
    "unpo": ("qualche",), "unaltra": ("un", "altra"), "unaltro": ("un", "altro"),
    "mezzadozzina": ("mezza", "dozzina"), "unadozzina": ("una", "dozzina"),
    "celavete": ("ce", "l", "avete"), "cellavete": ("ce", "l", "avete"),
    "celho": ("ce", "l", "ho"),
    "dellacqua": ("dell", "acqua"), "lacqua": ("l", "acqua"), "lolio": ("l", "olio"),
}  # fmt: skip

PHRASES: dict[tuple[str, ...], tuple[str, ...]] = {
    **{
        (every, "e", n): ("entrambi",) if n == "due" else ("tutti",)
        for every in ("tutti", "tutte", "tutto")  # "tt e due" reads "tutto e due"
        for n in ("due", "tre", "quattro", "2", "3", "4")
    },  # "tutti e due i profumi": both of them, not two of each
    ("mamma", "mia"): ("mammamia",),  # an exclamation, not a gift for mother
    ("buoni", "pasto"): ("buonipasto",),  # meal vouchers: a way to pay, not pasta
    ("buono", "pasto"): ("buonipasto",),
    **{("un", little): ("qualche",) for little in ("po", "poco", "pochino", "pelo")},
}  # "un po di spaghetti": some, not one

EMOJI_WORDS: dict[str, str] = {
    "\U0001f602": "ahah",  # face with tears of joy
    "\U0001f923": "ahah",  # rolling on the floor laughing
    "\U0001f606": "ahah",  # grinning squinting face
    "\U0001f605": "ahah",  # grinning face with sweat
    "\U0001f639": "ahah",  # cat with tears of joy
    "\U0001f926": "ahah",  # face palm
    "\U0001f648": "ahah",  # see-no-evil monkey
    "\U0001f922": "schifo",  # nauseated face
    "\U0001f92e": "schifo",  # face vomiting
    "\U0001f621": "arrabbiato",  # pouting face
    "\U0001f620": "arrabbiato",  # angry face
    "\U0001f92c": "arrabbiato",  # face with symbols on mouth
}

LAUGHTER = re.compile(r"(?:ah|ha|eh|he|ja){2,}h?")  # ahahah, hahaha, eheh: all ``ahah``

UNIT_SUFFIXES = frozenset(
    ("kg", "g", "gr", "hg", "mg", "l", "lt", "ml", "cl", "cm", "mm", "m", "w", "x", "pz", "cpr")
)

KEEP_FINAL_DOUBLE = frozenset(
    (
        "idee",
        "orchidee",
        "assemblee",
        "trachee",
        "livree",
        "zii",
        "addii",
        "zoo",
        "shampoo",
        "tattoo",
        "yahoo",
        "coop",
    )
)
