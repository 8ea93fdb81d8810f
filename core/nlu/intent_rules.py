"""The phrase rules of the intent classifier: Italian mood, tense and phrasing, weighted.

Each rule adds its weight to one intent when its pattern occurs in the folded,
normalised message (:func:`core.nlu.normalize.tokenize` joined by spaces). They read the
whole message, not its product words:

* **order**: a request in any mood: imperative with pronouns (``portami``,
  ``mandamene``), a pronoun and a verb of giving (``me ne dai``, ``ci metti``, ``me le
  porti``, ``mi fai un``), wanting and needing (``vorrei``, ``servono``, ``fammi avere``);
* **support**: something went wrong with what was delivered or paid: past deliveries,
  missing or wrong items (``una sola``, ``al posto del``), refunds (``ridatemi i
  soldi``), exchanges (``posso cambiarla``), expiry, receipts, riders, waiting;
* **inquiry**: price, availability, features (``quanto costa``, ``avete``, ``c'è?``,
  ``c'è qualcosa per``, ``info sul``); :data:`INTERROGATIVE` marks a question typed
  without its question mark (``di che colore è``, ``che gusto sono``);
* **chat**: greetings, thanks, compliments, laughter, anecdotes told in the past
  tense, and messages sent by mistake (``ho sbagliato chat``, ``per sbaglio``).

:data:`NARRATIVE` marks a story (past tense, ``si è messo``), which keeps a product
named in passing from reading as an order; :data:`NEUTRAL` removes phrases whose words
would otherwise look like complaints (``per sbaglio`` is not a wrong delivery, ``sono in
ritardo io`` is the customer's own delay).
"""

from __future__ import annotations

import re

from core.understanding import Intent

_NOT_ORDER = (
    r"(?! (sapere|chiedere|informazion\w*|parlare|capire|segnalare|annullare|cancellare"
    r"|disdire|restituire|rendere|cambiare|modificare|lamentar\w*|(fare )?(un )?reclamo"
    r"|(solo )?(dire|dirvi|ringraziar\w*|salutar\w*|avvisar\w*|farvi (i )?complimenti)|bene"
    r"|scrivere|mandarlo|mandarla|inviarlo|inviarla"
    r"|(un |il )?rimborso|essere rimborsat\w*|(i )?soldi))"
)
_ASKING = r"(info|informazion\w*)\b"  # "posso avere info", "mi dai info": a question
_ABOUT = (
    r"\b(info|informazion\w*) (su|sul|sullo|sulla|sull|sui|sugli|sulle|di|del|della|dello"
    r"|dell|dei|degli|delle|per)\b"
)
_CLITIC = r"\b(mi|ci|me|ce)( (ne|lo|la|li|le|l))?"
_GIVE = (
    r"(porti|portate|porteresti|portereste|mandi|mandate|manderesti|mandereste|dai|date"
    r"|daresti|dareste|metti|mettete|metteresti|mettereste|prepari|preparate|spedisci"
    r"|spedite|invii|inviate|consegni|consegnate|procuri|procurate|aggiungi|aggiungete"
    r"|prenoti|prenotate|prenoteresti|prenotereste|(fai|fate|faresti|fareste) (avere|arrivare))"
)
_NEED = r"(serve|servono|servirebbe|servirebbero|occorre|occorrono)\b"
_PRAISE = (
    r"(gentil\w*|brav[oaie]|bravissim\w*|velocissim\w*|velociss\w*|simpatic\w*|puntual\w*"
    r"|educat\w*|cortes[ei]|carin[oaie]|carinissim\w*|fantastic\w*|un tesoro|un angelo)\b"
)  # "il rider e stato gentilissimo": praise, not a complaint about the rider
_PAST_DELIVERY = r"(portat|mandat|dat|consegnat|spedit|lasciat|mess|vendut)\w*"
SUPPORT_STEMS = (
    "rimbors", "reclam", "operator", "assistenz", "sbagliat", "sbagli", "rott", "danneggiat",
    "rovinat", "scad", "ammuffit", "avariat", "mancant", "mancav", "ritard", "lament",
    "problem", "guast", "annull", "disdir", "disdett", "restitu", "truff", "addebit",
    "scortes", "maleducat", "errat", "errore", "difett", "insoddisfatt", "inaccettabil",
    "cancell", "smarrit", "rubat", "sporc", "sciolt", "sgarbat", "arrogant", "rifiutat",
    "fallit", "bloccat", "schif", "appassit", "marcio", "marci", "ammaccat", "bagnat",
    "crepat", "rancid", "puzz", "ammuff", "arrabbiat", "delus", "irritazion", "arrossa",
    "intossic", "vomit", "diarre",
)  # fmt: skip
SUPPORT_EXACT = frozenset(
    ("reso", "aiuto", "aiutatemi", "aiutami", "aiutarmi", "aiutarci", "aiutateci", "help",
     "manca", "mancano", "perso", "persa", "ricevuta", "fattura", "scontrino", "muffa",
     "muffe", "vermi", "formiche", "insetti", "capello", "capelli")
)  # fmt: skip
NEUTRAL = re.compile(
    r"\b(ho |abbiamo )?sbagliat\w* (chat|numero|persona|contatto|conversazione|destinatario"
    r"|gruppo)\b|\bper sbaglio\b|\b(errore|sbaglio) di (battitura|invio)\b"
    r"|\b(chat|numero|persona|contatto|conversazione|destinatario|gruppo) sbagliat\w*"
    r"|\b(sono|siamo) in ritardo\b|\bscusa(te)? (per )?(il|del) ritardo\b"
    r"|\britardo nel rispondere\b"
)
NARRATIVE = re.compile(
    r"\b(ho|hai|ha|abbiamo|avete|hanno|avrei|avremmo|era|erano) (gia |appena |proprio )?"
    r"(?!finit)\w+(ato|ata|ati|ate|uto|uta|uti|ute|ito|ita|iti|ite|esso|essa|atto|atta|eso|esa"
    r"|esi|ese|isto|ista|iesto|iesta|etto|etta|otto|otta|erto|erta|asto|asta|erso|ersa)\b"
    r"|\bsi (e|sono) \w+|\b(?!serviv|occorrev)\w{3,}(ava|avano|eva|evano|iva|ivano)\b"
    r"|\b(era|erano|ero|eravamo)\b"
)
INTERROGATIVE = re.compile(
    r"(^|[,?] |\b(di|a|in|da|per|con) )(che|quale|quali|quanti|quante|quanto|quanta) "
    r"(?!cos )(\w+ )?(e|sono)\b(?! (il|la|lo|i|gli|le|l|un|una|uno) (miglior|bell|buon))"
)  # "di che colore e", "che gusto sono": a question, even without its question mark
RULES: tuple[tuple[Intent, float, re.Pattern[str]], ...] = tuple(
    (intent, weight, re.compile(pattern))
    for intent, weight, pattern in (
        (Intent.ORDER_REQUEST, 2.0, r"\b(vorrei|vorremmo|volevo|volevamo|voglio|vogliamo"
         r"|desidero|desidererei|gradirei)\b" + _NOT_ORDER),
        (Intent.ORDER_REQUEST, 2.0, r"\b(ordino|ordiniamo|ordinare|ordinerei|prendo|prendiamo"
         r"|prenderei|compro|compriamo|comprare|comprerei|acquisto|acquistare|acquisterei"
         r"|prenoto|prenotare|prenotiamo|aggiungi|aggiungete|aggiungimi|carrello)\b"),
        (Intent.ORDER_REQUEST, 3.0, _CLITIC + " " + _GIVE + r"\b(?! (qualche )?" + _ASKING + ")"),
        (Intent.ORDER_REQUEST, 3.0, r"\b(me|ce) (lo|la|li|le|ne) (fai|fate|faresti|fareste)\b"),
        (Intent.ORDER_REQUEST, 3.0, r"\b(mi|ci) (fai|fate|faresti|fareste) (un|una|uno|il|la"
         r"|lo|i|le|gli|l|due|tre|quattro|cinque|sei|\d+)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"(?<!non )(?<!cosa )(?<!che )\b(mi|ci) " + _NEED
         + _NOT_ORDER),
        # without "mi": "serve tanta acqua?" asks whether it is needed, within its clause
        (Intent.ORDER_REQUEST, 2.0, r"(?<!non )(?<!\bmi )(?<!\bci )\b" + _NEED
         + r"(?![^?,]*\?)" + _NOT_ORDER),
        (Intent.ORDER_REQUEST, 2.0, r"\b(uno|una|un|altr[oaie]) nuov[oaie]\b(?! ordine)"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(portatemi|portami|portaci|portateci|mandatemi|mandami"
         r"|mandateci|inviatemi|speditemi|datemi|dammi|mettetemi|mettimi|preparatemi)\b"),
        (Intent.ORDER_REQUEST, 3.0, r"\b(me |ce )?ne (vorrei|voglio|volevo|prendo|prenderei"
         r"|ordino|serve|servono|servirebbe|servirebbero) (altr[eio] )?(\d+|una?|uno|due|tre"
         r"|quattro|cinque|sei|sette|otto|nove|dieci|dodici|un paio|una decina)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(si puo|si potrebbe|e possibile) (avere|ordinare"
         r"|prendere|ricevere)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(posso|potrei|possiamo|potremmo) (avere|ordinare"
         r"|prendere|comprare|ricevere)\b(?! (qualche |delle |piu )?" + _ASKING + ")"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(portar|mandar|spedir|inviar|procurar|consegnar|dar)"
         r"(mi|ci|melo|mela|meli|mele|celo|cela|celi|cele)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(mi |ci )?(fai|fate|faresti|fareste|potete|potreste"
         r"|puoi|potresti) (arrivare|avere|portare|mandare|spedire|consegnare)\b"),
        (Intent.ORDER_REQUEST, 2.0, r"\b(un|nuovo|altro) (nuovo )?ordine\b(?! (n|nr|numero)\b)"),
        (Intent.ORDER_REQUEST, 3.0, r"\b(confermo|confermiamo|confermate|procedi|procediamo)\b"),
        (Intent.ORDER_REQUEST, 1.5, r"\b(ho|abbiamo) bisogno d\w*\b"),
        (Intent.ORDER_REQUEST, 1.0, r"\bper (favore|piacere|cortesia)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(mio|mia|nostro|vostro|stesso|questo|quest|quello"
         r"|quell|ultimo|precedente|ultim\w*) ordin[ei]\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(mio|mia|miei|mie|nostro|nostra|nostri) (pacco|pacchi"
         r"|spesa|consegna|acquisto|acquisti|pagamento|rimborso|account|ordinazione)\b"),
        (Intent.SUPPORT_REQUEST, 1.5, r"\b(ho|abbiamo|avevo|avevamo) (gia )?(ordinato|ricevuto"
         r"|pagato|comprato|chiesto|preso)\b|\bmi (e|sono) arrivat\w*"),
        (Intent.SUPPORT_REQUEST, 1.0, _CLITIC + r" (avete|hanno|ha|hai) " + _PAST_DELIVERY),
        (Intent.SUPPORT_REQUEST, 3.0, _CLITIC + r" (avete|hanno|ha|hai) " + _PAST_DELIVERY
         + r" [\w ]{0,60}\bma (io|noi)\b"),  # "mi avete portato X ma io ho il gatto"
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(non|nessuno) (mi |ci )?(avete|hanno|ha|hai) (ancora )?"
         r"(portato|mandato|consegnato|dato|spedito|messo|risposto|rimborsato)\b"
         r"|\b(rider|fattorino|corriere|driver|ragazzo delle consegne) (non|e|ha|mi)\b"
         r"(?! (stat[oa] )?(molto |davvero |super )?" + _PRAISE + ")"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(arrivat|portat|mandat|consegnat|ricevut)\w* (\w+ )?"
         r"(una sola|uno solo|solo (uno|una|\d+))\b|\b(ne mancava|ne mancano|meno di quell\w*"
         r"|ne (e|sono|avete|hanno|ha) (arrivat|portat|mandat"
         r"|consegnat)\w* (solo )?(\d+|un|uno|una|due|tre))\b"
         r"|\b(prodotto|articolo|pacco|cosa|marca) divers\w*"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bma (io |noi )?(l |lo |la |li |le |ne )?(avevo|avevamo"
         r"|ho|abbiamo) (chiest|ordinat|pres|scelt|pagat|comprat)[oaie]\b"),  # not what came
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(ridate|ridatemi|ridarmi|ridare|riavere|rimborsate"
         r"|rimborsatemi|restituite|restituitemi|rendetemi)\b|\b(i|miei|dei|nostri) soldi\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(ricevut|arrivat|portat|mandat|consegnat)\w* [\w ]{0,40}"
         r"\b(al posto|invece) (del|della|dello|dei|delle|degli|di|dell)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(cambiar|sostituir|render|restituir)(l[aoie]|mel[aoie]"
         r"|cel[aoie])\b|\b(viene|venite|vieni|passate) a (cambiar|ritirar|riprender)\w*"
         r"|\b(posso|possiamo) (cambiare|rendere|restituire|sostituire)\b"),
        (Intent.SUPPORT_REQUEST, 2.0, r"\b(sapeva|sa|sanno|sapevano) di (acido|rancido|muffa"
         r"|strano|plastica|vecchio|marcio)\b|\brimand\w*\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"(?<!si )\b(era|erano|e|sono|arrivat\w*) (gia |tutt\w* )?"
         r"(acid|rancid|apert|rott|scadut|sciolt|vuot|avariat|marci|marce|andat\w* a male|duro|dura"
         r"|secc|raffermo|fredd|cald|mort|bruciat|crud|schiacciat|sporc|bucat|versat|strappat)\w*"
         r"|\btrovat\w* (un|una|dei|delle|del|degli) (capell|pel|insett|vetr|verm|plastic"
         r"|sassolin|muff)\w*"
         r"|\b(me|ce) (lo|la|li|le) (cambiate|cambi|sostituite|sostituisci|ritirate)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(arrivat|consegnat|portat|ricevut|mandat)\w* (\w+ ){1,3}"
         r"(apert|rott|vuot|scadut|sciolt|schiacciat|bagnat|ammaccat|danneggiat|crepat|bucat"
         r"|strappat)\w*"
         r"|\b\w{2,}[ts][oaie] (proprio |davvero |molto )?(male|malissimo|da schifo)\b"
         r"|\bnon si (accende|spegne|apre|chiude|carica|attacca|gonfia)\b"
         r"|\b(fare|fa|faccio|facciamo|per) (il|un|lo) (cambio|reso|scambio)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(consegnat|portat|mandat|dat)\w* (\w+ ){0,3}(di|per)"
         r" (un altro|un altra|qualcun altro|un altra persona)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(non|nessuno) (mi |ci |vi )?(rispondete|rispondi"
         r"|risponde|rispondono|ha risposto|richiama)\b"
         r"|\b(scritto|chiamato|chiesto|scrivo|chiamo) (gia )?(\d+|due|tre|quattro|cinque|mille"
         r"|tante|varie|diverse) volte\b"
         r"|\b(seconda|terza|quarta|ennesima) volta che (scrivo|chiedo|chiamo|scriviamo)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\btrattat\w* male\b|\bcomportat\w* male\b"
         r"|\bnon (e |sono )?(andat|riuscit)\w*\b"),
        (Intent.SUPPORT_REQUEST, 1.5, r"\b(il|l|lo|dell|all|nell) ordine\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bordine (n|nr|numero|num)\b|\bordine \d"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(non|mai) (mi |ci )?(e |sono |ha |hanno |avete )?"
         r"(ancora |mai )?(arriv|giunt|consegnat|ricevut|pervenut|passat)\w*"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(sto aspettando|aspetto da|aspettiamo da|attendo da"
         r"|in attesa da|soldi indietro|senza avvisare)\b"
         r"|\bnon (e|sono) (venut|passat|arrivat)\w* nessuno\b"
         r"|\bnessuno (e|si e) (venut|passat|arrivat|fatt)\w*"
         r"|\b(che|ancora) (aspett|attend)\w*\b|\b(e|da) (un|una|mezz) ?(ora|ore|oretta)\b"
         r"|\bnon e (accettabile|normale|possibile|giusto|corretto|serio)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bnon (ho|abbiamo) (ancora |mai )?ricevut\w*"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(quando|quanto manca|che fine ha fatto) (arriva\w*"
         r"|il mio|la mia)\b|\bche fine ha fatto\b|\bquanto (ci )?manca\b"),
        (Intent.SUPPORT_REQUEST, 2.0, r"\bdov(e)? (e|sono|sta|stanno|si trova|e finit\w*) "
         r"(il mio|la mia|i miei|le mie|l ordine|il pacco|la spesa|la consegna|il rider"
         r"|il fattorino|il corriere)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\bnon (riesco|funziona\w*|va|mi fa|posso pagare)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(pagare|pagat\w*|addebitat\w*|scalat\w*)( \w+){0,3} "
         r"(due|2|piu|tre|3) volte\b|\bdoppio (addebito|pagamento)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(parlare|parlo|contattare|sentire|chiamare|passami"
         r"|passatemi) (con )?(un|una|il|l|la|lo|qualcuno|persona|umano|vero|responsabile"
         r"|titolare|assistenza)\b"),
        (Intent.SUPPORT_REQUEST, 3.0, r"\b(persona|essere umano|umano) (vera|reale)?\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(avete|avreste|vendete|tenete|trattate|vendono"
         r"|fornite|proponete)\b(?! (gia |mai |ancora )?(\w+(at|ut|it)[oaie]|messo|messa|preso"
         r"|presa|scritto|risposto|fatto|fatta|fatti|fatte)\b)"),  # "avete portato": the past
        (Intent.PRODUCT_INQUIRY, 2.0, r"\bc e\b(?=.*\?)|\bci sono\b"
         r"|(?<!che )\bce l (avete|hai|ha|hanno|avreste)\b(?! gia)"
         r"|\bce n(e)? (sono|e|avete|hai|ha|hanno)\b"
         r"|\bci sarebbe\b|\bsi trova\w*\b|\b(vi|ci|ne) (sono|e) rimast\w*"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\bc ?e (qualcosa|niente|nulla) (per|contro)\b|" + _ABOUT),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(cosa|che) (mi|ci|ti|gli|le) " + _NEED
         + r" (per|a|contro)\b"),  # "cosa mi serve per una carbonara?": what it takes
        (Intent.PRODUCT_INQUIRY, 2.0, r"\bquanto (costa|costano|viene|vengono|fa|fanno"
         r"|costerebbe|costerebbero|verrebbe)\b|\b(prezzo|prezzi|listino)\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(?!consiglier[oa]\b|raccomander[oa]\b)"
         r"(consigli\w*|suggeri\w*|raccomand\w*)\b"),
        (Intent.PRODUCT_INQUIRY, 2.0, r"\b(disponibil\w*|in magazzino|esaurit\w*)\b"),
        (Intent.PRODUCT_INQUIRY, 1.5, r"\b(vorrei|volevo|voglio) (sapere|chiedere"
         r"|informazion\w*)\b|\bdifferenza\b|\bcontiene\b|\bingredienti\b"),
        (Intent.GENERAL_CHAT, 1.0, r"\b(ciao|salve|buongiorno|buonasera|buonanotte|buondi"
         r"|hey|ehi|hello|hi|hola|arrivederci|a presto|buona (giornata|serata))\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(vi |ti )?salut\w*\b|\bun saluto\b|\bsono \w+ del\b"),
        (Intent.GENERAL_CHAT, 1.0, r"\b(grazie|ok|okay|perfetto|benissimo|va bene"
         r"|d accordo|gentilissim\w*|gentili|thanks|thank|top|bravi|fantastico)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\bcome (state|stai|sta|va|andiamo)\b"
         r"|\btutto (bene|ok|okay|perfetto|a posto)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(natale|pasqua|auguri|buone feste|buon anno"
         r"|capodanno|ferragosto|compleanno)\b"),
        (Intent.GENERAL_CHAT, 2.0, r"\bdloop\b|\bchi siete\b|\bcome funziona\b|\bcos e\b"
         r"|\bchi sei\b|\bsei (un|una) (bot|robot|persona|umano|programma)\b"),
        (Intent.GENERAL_CHAT, 2.0, r"\bcome funziona (il servizio|dloop|l app|il sito"
         r"|la consegna|tutto)?\s*\?*$"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(english|speak|do you|you)\b"),
        (Intent.GENERAL_CHAT, 2.5, r"\bahah\b"),
        (Intent.GENERAL_CHAT, 3.0, r"\b(complimenti|bravissim\w*|buonissim\w*|squisit\w*"
         r"|ottim[oaie]|felicissim\w*|contentissim\w*|simpaticissim\w*|una bomba|un genio"
         r"|un miracolo"
         r"|adoro|adora|adorano|siete (dei |i )?(grandi|mitici|top|fantastici|migliori)"
         r"|senza di voi|che (buon|bell)[oaie])\b"),
        (Intent.GENERAL_CHAT, 3.0, r"\bgrazie (mille |tante |ancora )?(per|x) (il|la|lo|l|i|gli"
         r"|le|tutto|tutti|la vostra|il vostro)\b"),
        (Intent.GENERAL_CHAT, 2.0, r"\b(?!malissim|pessim)\w{3,}issim[oaie]\b"
         r"|(?<!qual )(?<!quale )\b(e|sono) (il|la|i|le) miglior[ei]\b"),
        (Intent.GENERAL_CHAT, 3.0, r"\b(e|sei|siete|sono) (un|una|dei|delle) (tesoro|tesori"
         r"|angelo|angeli|mito|miti|gioiello|santo|santi|amore|grande|grandi)\b"),
        (Intent.GENERAL_CHAT, 3.0, r"\b(ancora|sempre) (viv|perfett|bellissim|splendid|in forma)\w*"
         r"|\bgrazie (lo stesso|comunque)\b|\bnon (mi |ci )?serve (niente|nulla)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(volevo|voglio|vorrei) solo (dire|dirvi|ringraziar\w*"
         r"|salutar\w*)\b"),
        (Intent.GENERAL_CHAT, 1.5, r"\b(tvb|tvtb|ti voglio bene|vi voglio bene|un abbraccio"
         r"|baci|bacioni)\b"),
        (Intent.GENERAL_CHAT, 4.0, NEUTRAL.pattern + r"|\bmessaggio partito\b"
         r"|\bscusa(te)? (il disturbo|non era per (te|voi))\b|\bignora(te)? (pure )?\b"
         r"|\b(volevo|dovevo|era da) (scrivere|mandar\w*|inviar\w*) a (mia|mio|un|una)\b"),
    )
)  # fmt: skip
SERVICE = re.compile(
    r"\b(orari|orario|a che ora|aperti|aprite|apre|chiudete|chiude|chiusi|festivi|domenica"
    r"|sabato|zone|zona|consegnate|consegnare|consegna|consegne|spedite|spedizione"
    r"|spedizioni|domicilio|spese|commissione|minimo|pagamento|contanti|bancomat|satispay"
    r"|buonipasto"
    r"|paypal|citta|quartiere|comune|paese|raggio|quanto tempo|quanto ci (mettete|vuole))\b"
)
QUESTION_OPENERS = frozenset(
    ("avete", "c", "ce", "quanto", "quanta", "quanti", "quante", "quale", "quali", "che",
     "cosa", "come", "vendete", "esiste", "avreste", "tenete", "ci")
)  # fmt: skip
KEYWORDS = tuple(
    sorted(
        {"vorrei", "voglio", "volevo", "ordinare", "ordino", "prendo", "mandatemi",
         "portatemi", "vendete", "avete", "consigliate", "disponibile", "rimborso", "reclamo",
         "operatore", "assistenza", "problema", "sbagliato", "arrivato", "annullare",
         "ritardo", "grazie", "buongiorno", "buonasera", "perfetto", "consegnate", "aggiungi",
         "carrello", "prenotare", "comprare", "acquistare", "danneggiato", "vorremmo"}
    )
)  # fmt: skip
