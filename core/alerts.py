"""Push alerts to support agents (FCM), as pure values: who, why, and what the phone shows.

The notify sender carries each :class:`~events.notify.PushRequested` out (or records it
only, without FCM credentials). ``data`` values are strings, as FCM wants; bodies stay
short, well under FCM's 4 KB payload limit.
"""

from __future__ import annotations

from events.notify import PushDatum, PushRequested

SUPPORT = "support"
CUSTOMER = "customer"
BODY_MAX = 500


def _data(**values: str | None) -> tuple[PushDatum, ...]:
    return tuple(PushDatum(key=k, value=v) for k, v in values.items() if v is not None)


def escalation(notification_id: str, conversation: str, reason: str) -> PushRequested:
    """A conversation was handed to people (the customer asked, or a send failed)."""
    if reason == "send_failed":
        title, body = (
            "Messaggio non consegnato",
            "Un messaggio al cliente non è partito: serve un operatore.",
        )
    else:
        title, body = "Richiesta di assistenza", "Un cliente chiede di parlare con un operatore."
    return PushRequested(
        notification_id=notification_id,
        audience=SUPPORT,
        reason=reason if reason == "send_failed" else "escalation",
        title=title,
        body=body,
        data=_data(conversation=conversation, reason=reason),
    )


def delivered(
    notification_id: str, customer: str, relay_id: str, number: int | None
) -> PushRequested:
    """The customer's own devices: the order was delivered."""
    label = f"n. {number} " if number is not None else ""
    return PushRequested(
        notification_id=notification_id,
        audience=CUSTOMER,
        owner=customer,
        reason="delivered",
        title="Ordine consegnato",
        body=f"Il tuo ordine {label}è stato consegnato. Grazie da Dloop!",
        data=_data(relay_id=relay_id, reason="delivered"),
    )


def operator_alert(notification_id: str, code: int | None, title: str) -> PushRequested:
    """WhatsApp refused a send through our own fault (190: the access token expired)."""
    what = "token di accesso scaduto" if code == 190 else "errore di configurazione"
    return PushRequested(
        notification_id=notification_id,
        audience=SUPPORT,
        reason="operator_alert",
        title=f"WhatsApp: {what}",
        body=f"Invio bloccato (errore {code}): {title}"[:BODY_MAX],
        data=_data(code=str(code) if code is not None else None, reason="operator_alert"),
    )


_MODEL_WHY = {
    "shutdown_soon": "chiude il {date} (tra {days} giorni)",
    "retired": "non risponde più (ritirato)",
    "unknown": "sconosciuto al server",
}


def model_alert(
    notification_id: str, model: str, reason: str, shutdown: str | None, days: int | None
) -> PushRequested:
    """A configured LLM model shuts down soon, is retired or unknown: someone must change it."""
    why = _MODEL_WHY.get(reason, reason).format(date=shutdown, days=days)
    return PushRequested(
        notification_id=notification_id,
        audience=SUPPORT,
        reason="operator_alert",
        title=f"Modello LLM: {model}",
        body=f"Il modello {model} {why}: aggiornare la catena dei modelli."[:BODY_MAX],
        data=_data(model=model, code="model", cause=reason, reason="operator_alert"),
    )


def relay_alert(
    notification_id: str,
    relay_id: str,
    dealer_id: str,
    *,
    audience: str,
    reason: str,
    title: str,
    body: str,
) -> PushRequested:
    """An alert about one order relay (support: it failed or stalls; riders: pick it up)."""
    return PushRequested(
        notification_id=notification_id,
        audience=audience,
        reason=reason,
        title=title,
        body=body[:BODY_MAX],
        data=_data(relay_id=relay_id, dealer_id=dealer_id, reason=reason),
    )
