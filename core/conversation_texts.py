"""The Italian texts the conversation rules send, and the short answers they recognise.

Product answers and small talk come from :mod:`core.nlu.replies`; this module holds what
belongs to the conversation life cycle (cart confirmation, opt-out, rate limit, hand-over).
"""

from __future__ import annotations

from core.nlu.replies import format_price
from core.optout import normalize
from events.conversation import PricedLine, ReplyButton

CONFIRM_ID = "cart:confirm"
MODIFY_ID = "cart:modify"
CANCEL_ID = "cart:cancel"

CART_BUTTONS = (
    ReplyButton(id=CONFIRM_ID, title="Confermo"),
    ReplyButton(id=MODIFY_ID, title="Modifica"),
    ReplyButton(id=CANCEL_ID, title="Annulla"),
)

OPTED_OUT = "Va bene, non ti scriveremo più. Se cambi idea, basta mandarci un messaggio qui."
RATE_LIMITED = "Stai inviando molti messaggi: ti rispondo tra un minuto. Grazie della pazienza!"
ESCALATED = "Ho passato la conversazione a un operatore, che ti risponderà qui al più presto."
CONFIRMED = "Ordine confermato! Lo inoltro subito al negozio e ti aggiorno qui."
CANCELLED = "Ho annullato il carrello. Se ti serve altro, scrivimi pure."
MODIFY = "Certo! Dimmi cosa vuoi cambiare o riscrivi l'ordine completo."
FALLBACK = "Scusa, al momento non riesco a risponderti. Un operatore ti risponderà al più presto."
NON_TEXT = "Per ora posso leggere solo messaggi di testo: puoi scrivermi cosa ti serve?"

_CANCEL_WORDS = frozenset({"annulla", "annullo", "annullare", "annulla ordine", "no annulla"})
_MODIFY_WORDS = frozenset({"modifica", "modifico", "voglio modificare", "cambia"})


def cart_summary(lines: tuple[PricedLine, ...], total_text: str) -> str:
    """The proposal body: one bullet per line, the total, and the question."""
    bullets = "\n".join(
        f"• {line.quantity} × {line.name}: {format_price(line.line_total)}" for line in lines
    )
    return f"Ecco il tuo carrello:\n{bullets}\nTotale: {total_text}\nConfermi l'ordine?"


def is_cancellation(text: str | None, button_id: str | None) -> bool:
    """True for the Annulla button or ``annulla``."""
    return button_id == CANCEL_ID or (text is not None and normalize(text) in _CANCEL_WORDS)


def is_modification(text: str | None, button_id: str | None) -> bool:
    """True for the Modifica button or ``modifica``."""
    return button_id == MODIFY_ID or (text is not None and normalize(text) in _MODIFY_WORDS)


ACCEPT_PREFIX = "order:accept:"
REJECT_PREFIX = "order:reject:"
