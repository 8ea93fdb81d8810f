"""The Italian texts the conversation rules send, and the short answers they recognise.

Product answers and small talk come from :mod:`core.nlu.replies`; this module holds what
belongs to the conversation life cycle (cart confirmation, opt-out, rate limit, hand-over).
"""

from __future__ import annotations

from dataclasses import dataclass

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

_CONFIRM_WORDS = frozenset(
    {"confermo", "conferma", "si", "si confermo", "ok", "okay", "va bene", "ok confermo"}
)
_CANCEL_WORDS = frozenset({"annulla", "annullo", "annullare", "annulla ordine", "no annulla"})
_MODIFY_WORDS = frozenset({"modifica", "modifico", "voglio modificare", "cambia"})


def cart_summary(lines: tuple[PricedLine, ...], total_text: str) -> str:
    """The proposal body: one bullet per line, the total, and the question."""
    bullets = "\n".join(
        f"• {line.quantity} × {line.name}: {format_price(line.line_total)}" for line in lines
    )
    return f"Ecco il tuo carrello:\n{bullets}\nTotale: {total_text}\nConfermi l'ordine?"


def is_confirmation(text: str | None, button_id: str | None) -> bool:
    """True for the Confermo button or a short yes (``confermo``, ``sì``, ``ok``, ``va bene``)."""
    return button_id == CONFIRM_ID or (text is not None and normalize(text) in _CONFIRM_WORDS)


def is_cancellation(text: str | None, button_id: str | None) -> bool:
    """True for the Annulla button or ``annulla``."""
    return button_id == CANCEL_ID or (text is not None and normalize(text) in _CANCEL_WORDS)


def is_modification(text: str | None, button_id: str | None) -> bool:
    """True for the Modifica button or ``modifica``."""
    return button_id == MODIFY_ID or (text is not None and normalize(text) in _MODIFY_WORDS)


def dealer_order_text(relay_id: str, lines: tuple[PricedLine, ...], total_text: str) -> str:
    """The order as the dealer reads it, with how to answer."""
    bullets = "\n".join(f"• {line.quantity} × {line.name}" for line in lines)
    return (
        f"Nuovo ordine Dloop ({relay_id}):\n{bullets}\nTotale: {total_text}\n"
        "Rispondi «accetto» oppure «rifiuto» seguito dal motivo."
    )


def dealer_reminder_text(relay_id: str) -> str:
    """The reminder to a dealer who has not answered."""
    return f"Promemoria: l'ordine {relay_id} aspetta ancora la tua risposta (accetto / rifiuto)."


ACCEPT_PREFIX = "order:accept:"
REJECT_PREFIX = "order:reject:"
_ACCEPT_WORDS = ("accetto", "accetta", "accettato", "ok accetto", "confermo")
_REJECT_WORDS = ("rifiuto", "rifiuta", "rifiutato", "non posso")


@dataclass(frozen=True, slots=True, kw_only=True)
class DealerAnswer:
    """A dealer's accept or reject, with the relay it names (buttons) and the reason."""

    accept: bool
    relay_id: str | None = None
    reason: str | None = None


def read_dealer_answer(text: str | None, button_id: str | None = None) -> DealerAnswer | None:
    """Read ``order:accept:<id>`` / ``order:reject:<id>`` buttons or «accetto» / «rifiuto …»."""
    if button_id is not None:
        for prefix, accept in ((ACCEPT_PREFIX, True), (REJECT_PREFIX, False)):
            if button_id.startswith(prefix):
                return DealerAnswer(accept=accept, relay_id=button_id[len(prefix) :] or None)
    if not text:
        return None
    words = normalize(text)
    if any(words == w for w in _ACCEPT_WORDS):
        return DealerAnswer(accept=True)
    for word in _REJECT_WORDS:
        if words == word or words.startswith(word + " "):
            reason = text.strip()[len(word) :].strip(" :,.-") or None
            return DealerAnswer(accept=False, reason=reason)
    return None
