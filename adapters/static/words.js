// Dloop support dashboard: the words of the read side, in Italian and English.
//
// Labels for stages that say what happens next, why a chat needs a person, the orders
// board, the overview charts, and the sentences of the event timeline and review queue.
"use strict";

Object.assign(LABELS.it, {
  "tab.overview": "Panoramica",
  "sim.name": "Nome su WhatsApp",
  "stage.pending": "Risponde il bot",
  "stage.awaiting_confirmation": "Attende conferma del cliente",
  "stage.checkout": "Dà i dati di consegna",
  "relay.ready": "Pronto per il rider",
  "relay.picked_up": "Ritirato dal rider",
  "stage.open": "Passata agli operatori",
  "stage.resolved": "Risolta",
  "stage.opted_out": "Non vuole messaggi",
  "inbox.search": "Cerca nome, numero o testo",
  "inbox.needs": "Serve una persona",
  "inbox.rest": "Tutte le altre",
  "inbox.none_waiting": "Nessuno aspetta una persona",
  "attention.escalated": "Chiede una persona",
  "attention.taken_over": "In carico a {name}",
  "attention.send_failed": "Invio fallito",
  "attention.dealer_silent": "Il negozio non risponde",
  "waited": "da {time}",
  "sender.bot": "Bot",
  "sender.agent": "Operatore {name}",
  "sender.template": "Modello",
  "side.order": "Ordine",
  "side.cart": "Carrello",
  "side.none": "Nessun ordine aperto",
  "side.shop": "Negozio",
  "orders.customer": "Cliente",
  "orders.address": "Indirizzo",
  "orders.when": "Consegna",
  "orders.payment": "Pagamento",
  "payment.contanti": "contanti",
  "payment.carta": "carta",
  "media.audio": "un messaggio vocale",
  "media.image": "una foto",
  "media.video": "un video",
  "media.document": "un documento",
  "media.sticker": "uno sticker",
  "media.location": "una posizione",
  "media.reaction": "una reazione",
  "orders.fee": "consegna {fee}",
  "orders.total": "Totale",
  "orders.collapsed": "Nessun ordine in: {stages}",
  "carts.title": "Carrelli non ancora confermati",
  "relay.confirmed": "Confermato dal cliente",
  "relay.market_order_created": "Ordine creato",
  "relay.relayed_to_dealer": "Aspetta il negozio",
  "relay.accepted": "Accettato dal negozio",
  "relay.rejected": "Rifiutato dal negozio",
  "relay.failed": "Non riuscito",
  "relay.cancelled": "Annullato",
  "relay.expired": "Scaduto",
  "relay.delivered": "Consegnato",
  "relay.draft": "In preparazione",
  "relay.awaiting_confirmation": "Attende conferma",
  "chart.orders_hour": "Ordini per ora, per stato",
  "chart.orders_day": "Ordini per giorno, per stato",
  "chart.turns": "Turni di conversazione per ora",
  "chart.latency": "Tempo di risposta dell'assistente (ms)",
  "chart.problems": "Invii falliti e elementi da rivedere per giorno",
  "chart.agents": "Tempo di risposta degli operatori (minuti)",
  "tile.needs_person": "Serve una persona",
  "tile.pending_orders": "Ordini in attesa",
  "tile.open_carts": "Carrelli aperti",
  "tile.failed_sends": "Invii falliti",
  "tile.review_queue": "Da rivedere",
  "tile.latency": "Assistente p50 / p95",
  "series.failed_sends": "Invii falliti",
  "series.review_items": "Da rivedere",
  "review.escalated": "{who} ha chiesto di parlare con una persona",
  "review.raw": "Dettagli tecnici",
  "review.escalated.send_failed": "Non riusciamo a scrivere a {who}: serve una persona",
  "review.outbound_failed": "Un messaggio a {who} non è partito: {detail}",
  "review.assistant_failed": "L'assistente non è riuscito a rispondere a {who} ({detail})",
  "review.parked": "Un evento di {who} è rimasto in sospeso ({detail})",
  "review.operator_alert": "Allarme: {detail}",
  "review.someone": "un cliente",
  "person.erased": "Persona cancellata",
  "outbox.the recipient was erased: not sent": "la persona è stata cancellata, non inviato",
  "outbox.interrupted mid-send: outcome unknown, not resent":
    "invio interrotto, esito sconosciuto: non rinviato da solo",
  "outbox.outside the 24-hour window: not sent":
    "fuori dalla finestra di 24 ore, serve un modello approvato",
  "error.offline": "il servizio non risponde (rete o server fermo), riprova tra poco",
  "error.server": "il servizio ha un problema ({status}), riprova tra poco",
  "conv.nobody": "nessun operatore ancora",
  "label.lang": "Lingua: passa all'inglese",
  "label.stage": "Stato della conversazione",
  "label.review_status": "Stato degli elementi",
  "label.reply": "Risposta al cliente",
  "label.sim_text": "Messaggio da inviare",
  "text.erased": "testo cancellato",
  "text.none": "messaggio senza testo registrato",
  "text.failed": "Non inviato: {reason}",
  "meta.131047": "fuori dalla finestra di 24 ore, serve un modello approvato",
  "meta.131026": "non recapitabile (numero senza WhatsApp o app da aggiornare)",
  "meta.131051": "tipo di messaggio non supportato",
  "meta.131000": "errore temporaneo di WhatsApp",
  "meta.130429": "limite di invio raggiunto",
  "template.dloop_nuovo_ordine": "Avviso di nuovo ordine al negozio",
  "template.dloop_ordine_consegnato": "Avviso di ordine consegnato",
  "act.open_chat": "Apri la chat",
  "raw": "evento",
  "just_now": "adesso",
  "intent.order_request": "vuole ordinare",
  "intent.product_inquiry": "chiede di un prodotto",
  "intent.support_request": "chiede assistenza",
  "intent.general_chat": "fa due chiacchiere",
  "reason.support_request": "chiede assistenza",
  "reason.send_failed": "invio fallito",
  "reason.no_credentials": "push non configurato",
  "reason.no_devices": "nessun dispositivo",
  "reason.replaced": "sostituito da un nuovo carrello",
  "audience.support": "assistenza",
  "audience.rider": "rider",
  "audience.customer": "cliente",
});

Object.assign(LABELS.en, {
  "tab.overview": "Overview",
  "sim.name": "WhatsApp name",
  "stage.pending": "Bot is answering",
  "stage.awaiting_confirmation": "Waiting for the customer to confirm",
  "stage.checkout": "Giving delivery details",
  "relay.ready": "Ready for the rider",
  "relay.picked_up": "Picked up by the rider",
  "stage.open": "Handed to the agents",
  "stage.resolved": "Resolved",
  "stage.opted_out": "Wants no messages",
  "inbox.search": "Search name, phone or text",
  "inbox.needs": "Needs a person",
  "inbox.rest": "Everything else",
  "inbox.none_waiting": "Nobody is waiting for a person",
  "attention.escalated": "Asked for a person",
  "attention.taken_over": "Taken by {name}",
  "attention.send_failed": "Send failed",
  "attention.dealer_silent": "Dealer not answering",
  "waited": "for {time}",
  "sender.bot": "Bot",
  "sender.agent": "Agent {name}",
  "sender.template": "Template",
  "side.order": "Order",
  "side.cart": "Cart",
  "side.none": "No open order",
  "side.shop": "Shop",
  "orders.customer": "Customer",
  "orders.address": "Address",
  "orders.when": "Delivery",
  "orders.payment": "Payment",
  "payment.contanti": "cash",
  "payment.carta": "card",
  "media.audio": "a voice note",
  "media.image": "a photo",
  "media.video": "a video",
  "media.document": "a document",
  "media.sticker": "a sticker",
  "media.location": "a location",
  "media.reaction": "a reaction",
  "orders.fee": "delivery {fee}",
  "orders.total": "Total",
  "orders.collapsed": "No orders in: {stages}",
  "carts.title": "Carts not confirmed yet",
  "relay.confirmed": "Confirmed by the customer",
  "relay.market_order_created": "Order created",
  "relay.relayed_to_dealer": "Waiting for the shop",
  "relay.accepted": "Accepted by the shop",
  "relay.rejected": "Rejected by the shop",
  "relay.failed": "Failed",
  "relay.cancelled": "Cancelled",
  "relay.expired": "Expired",
  "relay.delivered": "Delivered",
  "relay.draft": "Being built",
  "relay.awaiting_confirmation": "Awaiting confirmation",
  "chart.orders_hour": "Orders per hour, by stage",
  "chart.orders_day": "Orders per day, by stage",
  "chart.turns": "Conversation turns per hour",
  "chart.latency": "Assistant response time (ms)",
  "chart.problems": "Failed sends and review items per day",
  "chart.agents": "Agent response time (minutes)",
  "tile.needs_person": "Need a person",
  "tile.pending_orders": "Orders waiting",
  "tile.open_carts": "Open carts",
  "tile.failed_sends": "Failed sends",
  "tile.review_queue": "To review",
  "tile.latency": "Assistant p50 / p95",
  "series.failed_sends": "Failed sends",
  "series.review_items": "Review items",
  "review.escalated": "{who} asked to talk to a person",
  "review.raw": "Technical details",
  "review.escalated.send_failed": "We cannot write to {who}: a person is needed",
  "review.outbound_failed": "A message to {who} was not sent: {detail}",
  "review.assistant_failed": "The assistant could not answer {who} ({detail})",
  "review.parked": "An event of {who} was parked ({detail})",
  "review.operator_alert": "Alert: {detail}",
  "review.someone": "a customer",
  "person.erased": "Erased person",
  "error.offline": "the service does not answer (network or server down), try again shortly",
  "error.server": "the service has a problem ({status}), try again shortly",
  "conv.nobody": "no agent yet",
  "label.lang": "Language: switch to Italian",
  "label.stage": "Conversation stage",
  "label.review_status": "Item status",
  "label.reply": "Reply to the customer",
  "label.sim_text": "Message to send",
  "text.erased": "text erased",
  "text.none": "message with no recorded text",
  "text.failed": "Not sent: {reason}",
  "meta.131047": "outside the 24-hour window, an approved template is needed",
  "meta.131026": "undeliverable (no WhatsApp on the number or an outdated app)",
  "meta.131051": "unsupported message type",
  "meta.131000": "temporary WhatsApp error",
  "meta.130429": "sending limit reached",
  "template.dloop_nuovo_ordine": "New order notice to the shop",
  "template.dloop_ordine_consegnato": "Order delivered notice",
  "act.open_chat": "Open the chat",
  "raw": "event",
  "just_now": "just now",
  "intent.order_request": "wants to order",
  "intent.product_inquiry": "asks about a product",
  "intent.support_request": "asks for help",
  "intent.general_chat": "is chatting",
  "reason.support_request": "asked for help",
  "reason.send_failed": "send failed",
  "reason.no_credentials": "push not configured",
  "reason.no_devices": "no devices",
  "reason.replaced": "replaced by a new cart",
  "audience.support": "support",
  "audience.rider": "rider",
  "audience.customer": "customer",
});

/** Timeline sentences: event type -> [italian, english] with {placeholders} from data. */
const SENTENCES = {
  "whatsapp.message_received": ["Il cliente ha scritto: «{text}»", "The customer wrote: “{text}”"],
  "whatsapp.status_received": ["WhatsApp: messaggio {status}", "WhatsApp: message {status}"],
  "conversation.started": ["Conversazione iniziata", "Conversation started"],
  "conversation.message_understood": [
    "Il bot ha capito: {intent}", "The bot understood: {intent}"],
  "conversation.reply_queued": ["{sender} ha risposto: «{text}»", "{sender} replied: “{text}”"],
  "conversation.outbound_sent": ["Messaggio inviato", "Message sent"],
  "conversation.outbound_failed": [
    "Messaggio non inviato ({title})", "Message not sent ({title})"],
  "conversation.cart_proposed": [
    "Il bot ha proposto un carrello ({total})", "The bot proposed a cart ({total})"],
  "conversation.cart_confirmed": [
    "Il cliente ha confermato il carrello ({total})", "The customer confirmed the cart ({total})"],
  "conversation.cart_cancelled": ["Carrello annullato ({reason})", "Cart cancelled ({reason})"],
  "conversation.escalated": [
    "Passata a una persona ({reason})", "Handed to a person ({reason})"],
  "conversation.agent_took_over": ["{agent} ha preso in carico", "{agent} took over"],
  "conversation.released": ["{agent} l'ha restituita al bot", "{agent} handed it back to the bot"],
  "conversation.resolved": ["{agent} l'ha risolta", "{agent} resolved it"],
  "conversation.opted_out": ["Il cliente non vuole più messaggi", "The customer opted out"],
  "conversation.opted_in": ["Il cliente accetta di nuovo messaggi", "The customer opted in again"],
  "conversation.assistant_failed": [
    "L'assistente non ha risposto ({error})", "The assistant failed ({error})"],
  "conversation.rate_limited": ["Troppi messaggi: rallentato", "Too many messages: slowed down"],
  "conversation.choice_requested": [
    "Il bot ha chiesto quale prodotto intendeva", "The bot asked which product was meant"],
  "conversation.choice_made": ["Il cliente ha scelto un prodotto", "The customer picked a product"],
  "outbox.attempted": ["Tentativo di invio n. {attempt}", "Send attempt {attempt}"],
  "engine.turn_processed": [
    "Il bot ha chiuso il turno ({decisions} decisioni)", "The bot finished the turn ({decisions} decisions)"],
  "engine.reply_generated": ["Il bot ha scritto la risposta", "The bot wrote its reply"],
  "notify.push_requested": [
    "Notifica a {audience}: «{title}»", "Notification to {audience}: “{title}”"],
  "notify.push_delivered": ["Notifica consegnata", "Notification delivered"],
  "notify.push_failed": ["Notifica non consegnata", "Notification not delivered"],
  "notify.push_recorded_only": [
    "Notifica solo registrata ({reason})", "Notification recorded only ({reason})"],
  "whatsapp.message_edited": ["Il cliente ha modificato un messaggio", "The customer edited a message"],
  "whatsapp.message_revoked": ["Il cliente ha cancellato un messaggio", "The customer deleted a message"],
  "dealer.command_handled": ["Comando del negozio: {command}", "Dealer command: {command}"],
  "conversation.catalog_order_checked": [
    "Carrello dal catalogo WhatsApp controllato", "WhatsApp catalogue cart checked"],
  "outbox.reconciled": ["Invio confermato da WhatsApp", "Send confirmed by WhatsApp"],
  "outbox.retry_scheduled": [
    "Nuovo tentativo di invio programmato ({title})", "Send retry scheduled ({title})"],
  "outbox.retry_due": ["Nuovo tentativo di invio", "Retrying the send"],
  "outbox.operator_alerted": ["Avvisata l'assistenza: {title}", "Support alerted: {title}"],
  "engine.review_item_retried": ["{agent} ha riprovato l'invio", "{agent} retried the send"],
  "engine.event_parked": ["Evento messo da parte per un errore", "Event parked after an error"],
  "engine.parked_event_reprocessed": ["Evento rielaborato", "Event processed again"],
  "checkout.started": [
    "Il bot ha chiesto indirizzo, orario e pagamento", "The bot asked for address, time and payment"],
  "checkout.details_given": [
    "Il cliente ha dato dati per la consegna", "The customer gave delivery details"],
  "checkout.completed": [
    "Consegna fissata: {when_text}, {address}, {payment} (totale {total})",
    "Delivery set: {when_text}, {address}, {payment} (total {total})"],
  "conversation.cart_edit_understood": [
    "Il cliente ha chiesto di cambiare il carrello", "The customer asked to change the cart"],
  "conversation.cart_merge_asked": [
    "Il bot ha chiesto se aggiungere al carrello aperto o iniziarne uno nuovo",
    "The bot asked whether to add to the open cart or start a new one"],
  "conversation.cart_revised": ["Carrello modificato", "Cart changed"],
  "media.read": ["Il bot ha letto {media}", "The bot read {media}"],
  "media.failed": ["Il bot non è riuscito a leggere {media}", "The bot could not read {media}"],
  "media.handled": ["Il bot ha gestito {media}", "The bot handled {media}"],
  "media.delivery_location_shared": [
    "Il cliente ha condiviso la posizione per la consegna", "The customer shared the delivery location"],
  "whatsapp.unsupported_item_received": [
    "WhatsApp ha inviato un contenuto non supportato", "WhatsApp sent an unsupported item"],
  "whatsapp.user_preferences_received": [
    "Il cliente ha cambiato le preferenze sui messaggi", "The customer changed their message preferences"],
};

/** The sentence of one timeline event; `carts` maps cart ids to totals seen so far. */
function sentence(event, carts) {
  const data = event.data ?? {};
  if (event.type === "conversation.cart_proposed") carts.set(data.cart_id, data.total);
  const pair = SENTENCES[event.type];
  if (!pair) return event.type;
  const vars = {
    ...data,
    text: clip(shownText(data.text ?? data.interactive?.title ?? data.button?.text, data.kind)),
    total: money(data.total ?? carts.get(data.cart_id)),
    sender: data.sender === "agent" ? (data.agent ?? t("sim.agent")) : t("sender.bot"),
    title: data.title ? wordFor("outbox", data.title) : data.code ?? "?",
    status: t(`status.${data.status}`),
    reason: wordFor("reason", data.reason),
    intent: t(`intent.${data.intent}`),
    audience: t(`audience.${data.audience}`),
    agent: data.agent ?? "",
    payment: wordFor("payment", data.payment),
    media: wordFor("media", data.kind),
  };
  return (state.lang === "it" ? pair[0] : pair[1]).replace(
    /\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The page's word for `value` under `prefix` ("payment.carta"), else the value itself. */
function wordFor(prefix, value) {
  if (value === null || value === undefined) return "";
  const key = `${prefix}.${value}`;
  const word = t(key);
  return word === key ? String(value) : word;
}

function clip(text, size = 90) {
  const value = String(text ?? "");
  return value.length > size ? `${value.slice(0, size - 1)}…` : value;
}

/** Who a row concerns: "Name (+39…)", the phone, or "a customer". */
function who(row) {
  const name = nameOf(row);
  const phone = phoneOf(row);
  if (name && phone) return `${name} (${phone})`;
  return name ?? phone ?? t("review.someone");
}

// What the API puts in place of an erased person's name, phone and words (docs/api.md).
const ERASED = "[erased]";

/** A row's name for people: the WhatsApp name, the shop's name for a dealer's phone, or null. */
function nameOf(row) {
  if (row.profile_name === ERASED || row.phone === ERASED) return t("person.erased");
  if (row.profile_name) return row.profile_name;
  return (state.dealers ?? []).find((d) => d.phone === row.phone)?.name ?? null;
}

/** "dealer" for a shop's phone, even when the shop has only been written to, else the type. */
function typeOf(row) {
  if ((state.dealers ?? []).some((d) => d.phone === row.phone)) return "dealer";
  return row.conversation_type ?? "customer";
}

/** The phone to show beside the name, an Italian mobile in groups; none once erased. */
function phoneOf(row) {
  if (!row.phone || row.phone === ERASED) return null;
  const mobile = /^\+39(3\d\d)(\d{3})(\d{3,4})$/.exec(row.phone);
  return mobile ? `+39 ${mobile.slice(1).join(" ")}` : row.phone;
}

/** A message's words for people: erased text, a template's purpose, never "[null]". */
function shownText(text, type) {
  if (text === ERASED) return t("text.erased");
  if (type === "template" && text) return wordFor("template", text);
  if (text) return text;
  return type ? `[${wordFor("media", type)}]` : t("text.none");
}

/** Why WhatsApp refused a send, from the status Meta sent back ("reason (code)"), or "". */
function failureOf(msg) {
  const error = msg.meta_response?.failed?.errors?.[0];
  if (!error) return "";
  return metaReason(error.code, error.title ?? error.message ?? "");
}

/** Meta's error `code` in the page's words when known, else Meta's own title; "(code)" after. */
function metaReason(code, title) {
  const word = code ? wordFor("meta", code) : "";
  const reason = word && word !== String(code) ? word : title;
  return [reason, code ? `(${code})` : ""].join(" ").trim();
}

/** The sentence of a review item, from its kind and its (English) summary. */
function reviewSentence(item) {
  const summary = item.summary ?? "";
  const detail = summary.includes(": ") ? summary.slice(summary.indexOf(": ") + 2) : summary;
  if (item.kind === "escalated") {
    const key = detail === "send_failed" ? "review.escalated.send_failed" : "review.escalated";
    return t(key, { who: who(item) });
  }
  const code = item.kind === "outbound_failed" ? /\((\d+)\)/.exec(summary)?.[1] : undefined;
  const why = code ? metaReason(code, detail) : wordFor("outbox", detail);
  return t(`review.${item.kind}`, { who: who(item), detail: clip(why, 120) });
}

/** "5 min", "2 h", "3 d": how long since `iso`. */
function waited(iso) {
  if (!iso) return "";
  const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
  if (minutes < 1) return t("just_now");
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}
