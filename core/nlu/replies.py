"""Italian reply templates for the offline assistant: short, friendly, grounded.

Pure text building. Prices are formatted the Italian way (``€ 18,90``, ``€ 1.234,50``);
availability comes from the product's stock. The LLM adapter may rephrase these drafts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from core.catalog import Product
from core.nlu.intent_rules import NEUTRAL
from core.nlu.normalize import tokenize
from core.understanding import Intent

GREETING = "Ciao! Sono l'assistente di Dloop. Cosa posso fare per te?"
THANKS = "Grazie a te! Se ti serve altro, scrivimi pure."
FALLBACK = "Scusa, non ho capito bene. Puoi riscrivere cosa ti serve?"
SUPPORT = (
    "Mi dispiace per il problema. Ho avvisato un operatore che ti risponderà qui al più presto."
)
ORDER_ASK = "Certo! Dimmi quali prodotti vuoi e in che quantità."
CLARIFY = (
    "Scusa, non sono sicuro di aver capito: vuoi ordinare, "
    "chiedere di un prodotto o segnalare un problema?"
)
NOT_FOUND = "Mi dispiace, non ho trovato prodotti che corrispondono. Vuoi provare con altre parole?"

WARM = "Che bello, grazie! Se ti serve qualcosa, scrivimi pure."
NO_PROBLEM = "Nessun problema! Se ti serve qualcosa, scrivimi pure."

_WARM = re.compile(
    r"\b(ahah|complimenti|bravi|bravissim\w*|buonissim\w*|ottim\w*|tvb|miracolo|genio"
    r"|bomba|adoro|adora|adorano|felicissim\w*|migliori?|gentile|gentili|simpatic\w*"
    r"|(gentil|puntual|veloc|rapid|cortes|simpatic|precis|educat)issim[oaie]"
    r"|fantastic\w*|stupend\w*)\b"
)
_GREETINGS = frozenset({"ciao", "salve", "buongiorno", "buonasera", "hey", "ehi", "hello", "hi"})
_THANKS = frozenset({"grazie", "thanks", "gentilissimi", "gentilissimo", "gentilissima"})


def format_price(price: Decimal) -> str:
    """``Decimal('1234.5')`` -> ``€ 1.234,50``."""
    cents = price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, _, decimals = f"{abs(cents):,.2f}".partition(".")
    sign = "-" if cents < 0 else ""
    return f"{sign}€ {whole.replace(',', '.')},{decimals}"


def availability(product: Product) -> str:
    """``disponibile``, ``ultimi N pezzi`` or ``esaurito``."""
    if not product.in_stock:
        return "esaurito"
    if product.stock <= 3:
        return "ultimi pezzi" if product.stock > 1 else "ultimo pezzo"
    return "disponibile"


def product_line(product: Product) -> str:
    """One bullet: name, price and availability."""
    return f"• {product.name}: {format_price(product.price)} ({availability(product)})"


def product_list(products: Sequence[Product]) -> str:
    """The answer to a product question, or :data:`NOT_FOUND` when nothing matched."""
    if not products:
        return NOT_FOUND
    lines = "\n".join(product_line(p) for p in products)
    return f"Ecco cosa ho trovato:\n{lines}\nVuoi ordinare qualcosa?"


def ask_which(words: str, candidates: Sequence[Product]) -> str:
    """Ask which product the customer meant by ``words``."""
    if not candidates:
        return f"Non ho trovato «{words}» nel catalogo. Puoi dirmi meglio cosa cerchi?"
    options = "\n".join(product_line(p) for p in candidates)
    return f"Per «{words}» ho più prodotti:\n{options}\nQuale preferisci?"


def chat_reply(text: str) -> str:
    """Small talk: a wrong chat, thanks, praise or laughter, a greeting, else the fallback."""
    tokens = tokenize(text)
    words, joined = set(tokens), " ".join(tokens)
    if NEUTRAL.search(joined):
        return NO_PROBLEM
    if words & _THANKS:
        return THANKS
    if _WARM.search(joined):
        return WARM
    if words & _GREETINGS:
        return GREETING
    return FALLBACK


def default_reply(intent: Intent, text: str, products: Sequence[Product] = ()) -> str:
    """The reply for ``intent`` when no draft was composed by the conversation rules."""
    if intent is Intent.SUPPORT_REQUEST:
        return SUPPORT
    if intent is Intent.PRODUCT_INQUIRY:
        return product_list(products)
    if intent is Intent.ORDER_REQUEST:
        if not products:
            return ORDER_ASK
        return "Ecco cosa ho capito:\n" + "\n".join(product_line(p) for p in products)
    return chat_reply(text)
