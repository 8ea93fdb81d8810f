"""Italian word lists shared by the NLU: function words, packaging, synonyms, noise.

These are vocabulary, not sentences: articles and prepositions, the verbs and nouns
customers use to ask, order and complain (never product words), packaging nouns whose
count is the quantity, and a few everyday synonyms (``cagnolino`` -> ``cane``).
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


STOPWORDS = _words(
    """
    il lo la i gli le l un uno una di d a ad da in con su per tra fra x
    del dello della dei degli delle dell al allo alla ai agli alle all dal dallo dalla dai
    dagli dalle dall nel nello nella nei negli nelle nell sul sullo sulla sui sugli sulle
    col coi e ed o od oppure ma anche pure se che chi cui non ne ci vi mi ti si me te ce ve
    lui lei noi voi loro mio mia miei mie tuo tua tuoi tue suo sua suoi sue nostro nostra
    nostri nostre vostro vostra vostri vostre questo questa questi queste quello quella
    quelli quelle quel quei quegli cosa cose come dove dov quando quanto quanta quanti
    quante quale quali qual perche po sono era erano stato stata stati essere ho hai ha
    abbiamo avete hanno avere c qualcosa qualche qualcuno tutto tutti tutta tutte molto
    molti molta molte poco piu meno ancora gia solo soltanto tipo tipi genere sempre mai
    ora ore adesso oggi domani stasera stamattina stanotte subito presto dopo prima poi
    sera mattina pomeriggio favore piacere cortesia gentilmente cortesemente grazie prego
    si no ok okay bene allora quindi comunque magari invece ecco altro altra altri
    sempre dunque cioe tanto tanti bel bella bello buono buona buoni buone ciao salve
    buongiorno buonasera buonanotte hey ehi hello hi esempio casa qui li la nostro
    anzi inoltre oltre circa almeno sapere chiedere volevo vorrei vorremmo voglio vogliamo
    sto stai sta stiamo state siete siamo puo possono mille lunedi martedi mercoledi
    giovedi venerdi sabato domenica settimana mese anno giorno giorni
    diciamo facciamo mettiamo massimo max ciascun ciascuno ciascuna ogni stavolta nuova nuovi
    nuove
    ahah perche pero urgente urgentissimo regalare regalarlo regalarla regalargli cucinare
    mangiare bere usare provare cioe entrambi parte passo passa passi passare ripasso
    vengo veniamo io tu solito solita soliti solite altre
    """
)

DETERMINERS = _words(
    """
    il lo la i gli le l un uno una mio mia miei mie tuo tua tuoi tue suo sua suoi sue
    nostro nostra nostri nostre vostro vostra vostri vostre ciascun ciascuno ciascuna ogni
    questo questa questi queste quel quella quei quelle tutti tutte tutto tutta
    """
)

DEMONSTRATIVES = frozenset({"quello", "quella", "quelli", "quelle", "quel"})

_ORDER_VERB = re.compile(
    r"^(?:port|mand|spedisc|invi|mett|prend|prepar|procur|aggiung|consegn|tien|lasc|tir|prenot)"
    r"(?:a|ate|i|ete|ite)(?:me|mi|ce|ci)(?:ne|lo|la|li|le)?$"
    r"|^(?:port|mand|mett|prend|prepar|aggiung)(?:a|i|e)ne$|^(?:da|fa)nne$"
    r"|^(?:da|fa)(?:mm|cc)(?:i|e(?:ne|lo|la|li|le))$"
    r"|^(?:da|fa)te(?:mi|ci|(?:me|ce)(?:ne|lo|la|li|le))$"
)

PACKAGING = _words(
    """
    sacco sacchi pacco pacchi pacchetto pacchetti confezione confezioni conf bottiglia
    bottiglie bottiglietta bottigliette busta buste bustina bustine scatola scatole
    scatoletta scatolette vasetto vasetti barattolo barattoli lattina lattine pezzo pezzi
    flacone flaconi tubetto tubetti mazzo mazzi vaschetta vaschette cartone cartoni
    rotolo rotoli pz unita blister cassa casse cassetta cassette fardello fardelli sacchetto
    sacchetti
    """
)

INTENT_WORDS = _words(
    """
    ordine ordini ordinare ordino ordiniamo ordinerei ordinato ordinata prendo prendiamo
    prenderei prendere compro compriamo comprare comprerei acquisto acquistare acquisterei
    prenoto prenotare prenotiamo porti portate portami portatemi portaci portateci porta
    portare mandi mandate mandami mandatemi mandateci mandare inviate inviatemi invia
    spedite speditemi spedire dai date dammi datemi servono serve servirebbe servirebbero
    occorre occorrono metti mettete mettimi mettetemi aggiungi aggiungete aggiungimi
    aggiungere carrello posso potrei possiamo potremmo bisogno desidero desidererei
    gradirei volevamo avreste vendete tenete consigliate consigli consiglia consigliare
    consiglio consigliereste suggerite suggerisci prezzo prezzi costo costi costa costano
    viene vengono listino disponibile disponibili disponibilita sapete fare faccio fate
    rimborso reclamo operatore assistenza problema consegna consegne consegnate consegnare
    rider fattorino arrivato arrivata arrivati arrivate arriva sbagliato sbagliata rotte
    rotto rotti rotta grazie mille gentilissimi perfetto aiuto annullare annullate
    parlare persona umano zona zone orari orario aperti chiudete aprite domenica dloop
    conferma confermo confermare mandi mandare nuovo stesso volta volte pagato pagare
    carta problema ritardo sbagliati manderesti mandereste porteresti portereste daresti
    dareste metteresti mettereste faresti fareste potresti potreste prenoti prenotate
    prenoteresti prenotereste
    """
)

# what an order is for, counted: "x 4 persone", "per 2 settimane" (not four of a product)
FOR_COUNTED = _words(
    """
    persone persona ospiti invitati bambini bimbi adulti amici porzioni coperti commensali
    giorni settimane notti
    """
)

SEPARATOR_WORDS = frozenset({"e", "ed", "piu", "poi", "inoltre", "oltre", "anche", "perche"})
PARTITIVES = frozenset({"dei", "degli", "delle", "del", "dello", "della", "qualche"})

SYNONYMS: dict[str, str] = {
    "cagnolino": "cane", "cagnolini": "cane", "cagnetto": "cane", "cagnolina": "cane",
    "cucciolo": "cane", "cuccioli": "cane", "cagna": "cane", "fido": "cane",
    "labrador": "cane", "barboncino": "cane", "bassotto": "cane", "beagle": "cane",
    "chihuahua": "cane", "carlino": "cane", "maltese": "cane", "golden": "cane",
    "pastore": "cane", "setter": "cane", "yorkshire": "cane", "husky": "cane",
    "bulldog": "cane", "jack": "cane", "meticcio": "cane", "meticcia": "cane",
    "persiano": "gatto", "siamese": "gatto", "certosino": "gatto", "soriano": "gatto",
    "gatta": "gatto", "gatte": "gatto", "gattone": "gatto", "micia": "gatto",
    "gattino": "gatto", "gattini": "gatto", "micio": "gatto", "mici": "gatto",
    "micino": "gatto", "micini": "gatto", "gattina": "gatto", "felino": "gatto",
    "mamma": "donna", "moglie": "donna", "fidanzata": "donna", "ragazza": "donna",
    "femminile": "donna", "signora": "donna", "nonna": "donna",
    "papa": "uomo", "marito": "uomo", "fidanzato": "uomo", "ragazzo": "uomo",
    "maschile": "uomo", "nonno": "uomo",
    "tachipirina": "tachipirina", "mascherina": "mascherine", "kilo": "kg",
    "lavare": "bagno", "lavarlo": "bagno", "lavarla": "bagno", "lavarli": "bagno",
    "lavaggio": "bagno", "lavata": "bagno",
}  # fmt: skip


def canonical(word: str) -> str:
    """The word a synonym stands for, or the word itself."""
    return SYNONYMS.get(word, word)


def is_order_verb(word: str) -> bool:
    """An imperative with its pronouns: ``mandamene``, ``portameli``, ``dammi``, ``fanne``."""
    return _ORDER_VERB.match(word) is not None


def is_content(word: str) -> bool:
    """True when ``word`` may name a product: not a function, intent or packaging word."""
    return (
        word[:1].isalpha()
        and word not in STOPWORDS
        and word not in INTENT_WORDS
        and word not in PACKAGING
        and len(word) > 1
        and not is_order_verb(word)
    )
