"""The Italian answers to voice notes, photos, other media and shared locations.

Each says honestly what the bot did or could not do, and what the customer can do next.
"""

from __future__ import annotations

from core.area import DeliveryArea

HEARD_MAX = 300  # characters of a transcript quoted back (a cart body is at most 1024)

OFFLINE = {
    "audio": "Ho ricevuto il tuo vocale, ma per ora leggo solo i messaggi scritti: me lo scrivi?",
    "image": (
        "Ho ricevuto la tua foto, ma per ora non riesco a leggere le immagini: "
        "mi scrivi cosa ti serve?"
    ),
    "video": (
        "Ho ricevuto il tuo video, ma per ora non riesco a guardarlo: mi scrivi cosa ti serve?"
    ),
    "document": (
        "Ho ricevuto il documento: lo faccio vedere a un operatore. "
        "Intanto, se vuoi ordinare, scrivimi pure cosa ti serve."
    ),
    "sticker": "Grazie! Se ti serve qualcosa, scrivimelo pure e preparo il carrello.",
}
FAILED = {
    "audio": (
        "Non sono riuscito ad ascoltare il tuo vocale. Me lo scrivi, per favore? "
        "Ho avvisato anche un operatore."
    ),
    "image": (
        "Non sono riuscito ad aprire la tua foto. Mi scrivi cosa ti serve? "
        "Ho avvisato anche un operatore."
    ),
}
REFUSED = {
    "mime": "Questo tipo di file non riesco ad aprirlo: mi scrivi cosa ti serve?",
    "too_large": "Il file è troppo grande per me: mi scrivi cosa ti serve?",
    "empty": "Il file che mi hai mandato è vuoto: mi scrivi cosa ti serve?",
    "silence": "Nel vocale non ho sentito parole: me lo scrivi o lo registri di nuovo?",
}
NOT_A_LIST = (
    "Ho visto la foto, ma non mi sembra una lista della spesa. Cosa ti serve? Scrivimelo pure."
)
NO_POSITION = "Non riesco a leggere la posizione che mi hai mandato: mi scrivi l'indirizzo?"


def heard(transcript: str) -> str:
    """What a voice note was understood to say, quoted back before the answer."""
    text = " ".join(transcript.split())
    if len(text) > HEARD_MAX:
        text = text[: HEARD_MAX - 1].rstrip() + "…"
    return f"Ho capito: «{text}»"


def list_read(lines: tuple[tuple[str, int], ...]) -> str:
    """What a photographed list was read as, quoted back before the cart."""
    items = ", ".join(f"{quantity} {words}" for words, quantity in lines)
    return f"Dalla foto ho letto: {items}"[:HEARD_MAX]


def location_inside(label: str | None) -> str:
    """A position inside the area (or no area configured): taken for the delivery."""
    where = f" ({label})" if label else ""
    return f"Grazie, ho ricevuto la tua posizione{where}: la uso per la consegna."


def location_outside(area: DeliveryArea, distance_m: int, zones: str | None = None) -> str:
    """A position outside the area: refused politely, saying how far it is."""
    km = f"{distance_m / 1000:.1f}".replace(".", ",")
    zone = f" ({zones})" if zones else ""
    return (
        f"Mi dispiace, questa posizione è a {km} km dal centro della nostra zona{zone} e per "
        f"ora consegniamo solo entro {area.radius_text}. Puoi mandarmi un indirizzo più vicino?"
    )
