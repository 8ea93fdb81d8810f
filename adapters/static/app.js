// Dloop support dashboard: plain modern JavaScript, no framework, no build step.
//
// Talks to the read API under /api with the session cookie (writes carry the
// X-CSRF-Token header read from the dloop_csrf cookie), follows /api/stream with
// EventSource, and drives the simulator through POST /simulate.
"use strict";

// -- labels -------------------------------------------------------------------------

const LABELS = {
  it: {
    "brand.sub": "Assistenza",
    "tab.inbox": "Conversazioni",
    "tab.orders": "Ordini",
    "tab.review": "Revisione",
    "tab.simulator": "Simulatore",
    logout: "Esci",
    back: "Indietro",
    "live.on": "Aggiornamenti in tempo reale attivi",
    "live.off": "Aggiornamenti in tempo reale non connessi",
    "inbox.search": "Cerca numero o testo",
    "inbox.empty": "Nessuna conversazione",
    "inbox.pick": "Scegli una conversazione",
    "stage.all": "Tutti gli stati",
    "stage.pending": "In attesa",
    "stage.awaiting_confirmation": "Da confermare",
    "stage.checkout": "Dati di consegna",
    "stage.open": "Aperta",
    "stage.resolved": "Risolta",
    "stage.opted_out": "Disiscritto",
    "type.customer": "cliente",
    "type.dealer": "negozio",
    "conv.messages": "Messaggi",
    "conv.timeline": "Cronologia eventi",
    "conv.assignee": "in carico a {name}",
    "conv.bot": "bot",
    "conv.untitled": "Conversazione",
    "act.take-over": "Prendi in carico",
    "act.release": "Restituisci al bot",
    "act.resolve": "Risolvi",
    "act.reply": "Rispondi",
    "act.dismiss": "Archivia",
    "act.retry": "Riprova",
    "retry.failed": "Ancora in errore: {message}",
    "act.open": "Apri conversazione",
    "act.done": "Fatto",
    "reply.placeholder": "Scrivi una risposta…",
    "reply.queued": "Risposta in coda",
    "status.pending": "in attesa",
    "status.sent": "inviato",
    "status.delivered": "consegnato",
    "status.read": "letto",
    "status.failed": "non inviato",
    "orders.empty": "Nessun ordine",
    "relay.draft": "Bozza",
    "relay.awaiting_confirmation": "Da confermare",
    "relay.confirmed": "Confermato",
    "relay.market_order_created": "Ordine creato",
    "relay.relayed_to_dealer": "Inviato al negozio",
    "relay.accepted": "Accettato",
    "relay.rejected": "Rifiutato",
    "relay.failed": "Fallito",
    "relay.cancelled": "Annullato",
    "relay.expired": "Scaduto",
    "relay.delivered": "Consegnato",
    "relay.ready": "Pronto",
    "relay.picked_up": "Ritirato dal rider",
    "review.open": "Aperti",
    "review.dismissed": "Archiviati",
    "review.retried": "Ritentati",
    "review.empty": "Niente da rivedere",
    "kind.parked": "Evento sospeso",
    "kind.assistant_failed": "Errore assistente",
    "kind.outbound_failed": "Invio fallito",
    "kind.escalated": "Richiesta di assistenza",
    "kind.operator_alert": "Allarme operatore",
    "kind.media": "Media da guardare",
    "sim.as": "Scrivi come",
    "sim.customer": "Cliente",
    "sim.dealer": "Negozio: {name}",
    "sim.phone": "Numero",
    "sim.clear": "Svuota",
    "sim.send": "Invia",
    "sim.placeholder": "Scrivi un messaggio",
    "sim.typing": "il bot sta scrivendo…",
    "sim.bot": "Dloop",
    "sim.agent": "Operatore",
    "sim.template": "Modello: {name}",
    "sim.bad_phone": "Numero non valido: usa il formato +39…",
    "error.generic": "Errore: {message}",
  },
  en: {
    "brand.sub": "Support",
    "tab.inbox": "Conversations",
    "tab.orders": "Orders",
    "tab.review": "Review",
    "tab.simulator": "Simulator",
    logout: "Sign out",
    back: "Back",
    "live.on": "Live updates connected",
    "live.off": "Live updates not connected",
    "inbox.search": "Search phone or text",
    "inbox.empty": "No conversations",
    "inbox.pick": "Pick a conversation",
    "stage.all": "All stages",
    "stage.pending": "Pending",
    "stage.awaiting_confirmation": "Awaiting confirmation",
    "stage.checkout": "Checkout",
    "stage.open": "Open",
    "stage.resolved": "Resolved",
    "stage.opted_out": "Opted out",
    "type.customer": "customer",
    "type.dealer": "dealer",
    "conv.messages": "Messages",
    "conv.timeline": "Event timeline",
    "conv.assignee": "taken by {name}",
    "conv.bot": "bot",
    "conv.untitled": "Conversation",
    "act.take-over": "Take over",
    "act.release": "Release to bot",
    "act.resolve": "Resolve",
    "act.reply": "Reply",
    "act.dismiss": "Dismiss",
    "act.retry": "Retry",
    "retry.failed": "Still failing: {message}",
    "act.open": "Open conversation",
    "act.done": "Done",
    "reply.placeholder": "Write a reply…",
    "reply.queued": "Reply queued",
    "status.pending": "pending",
    "status.sent": "sent",
    "status.delivered": "delivered",
    "status.read": "read",
    "status.failed": "not sent",
    "orders.empty": "No orders",
    "relay.draft": "Draft",
    "relay.awaiting_confirmation": "Awaiting confirmation",
    "relay.confirmed": "Confirmed",
    "relay.market_order_created": "Order created",
    "relay.relayed_to_dealer": "Sent to dealer",
    "relay.accepted": "Accepted",
    "relay.rejected": "Rejected",
    "relay.failed": "Failed",
    "relay.cancelled": "Cancelled",
    "relay.expired": "Expired",
    "relay.delivered": "Delivered",
    "relay.ready": "Ready",
    "relay.picked_up": "Picked up",
    "review.open": "Open",
    "review.dismissed": "Dismissed",
    "review.retried": "Retried",
    "review.empty": "Nothing to review",
    "kind.parked": "Parked event",
    "kind.assistant_failed": "Assistant failure",
    "kind.outbound_failed": "Failed send",
    "kind.escalated": "Support request",
    "kind.operator_alert": "Operator alert",
    "kind.media": "Media to look at",
    "sim.as": "Write as",
    "sim.customer": "Customer",
    "sim.dealer": "Dealer: {name}",
    "sim.phone": "Phone",
    "sim.clear": "Clear",
    "sim.send": "Send",
    "sim.placeholder": "Type a message",
    "sim.typing": "the bot is typing…",
    "sim.bot": "Dloop",
    "sim.agent": "Agent",
    "sim.template": "Template: {name}",
    "sim.bad_phone": "Invalid phone: use the +39… form",
    "error.generic": "Error: {message}",
  },
};

const RELAY_STAGES = [
  "draft", "awaiting_confirmation", "confirmed", "market_order_created",
  "relayed_to_dealer", "accepted", "ready", "picked_up", "rejected", "failed", "cancelled",
  "expired", "delivered",
];
const REVIEW_TYPES = new Set([
  "conversation.assistant_failed", "conversation.outbound_failed", "conversation.escalated",
  "engine.event_parked", "engine.parked_event_reprocessed", "outbox.reconciled",
  "outbox.operator_alerted",
]);
const STREAM_TYPES = [
  "whatsapp.message_received", "whatsapp.status_received", "conversation.started",
  "conversation.reply_queued", "conversation.outbound_sent", "conversation.outbound_failed",
  "outbox.reconciled", "conversation.agent_took_over", "conversation.released",
  "conversation.resolved", "conversation.escalated", "conversation.cart_proposed",
  "conversation.cart_confirmed", "conversation.cart_cancelled", "conversation.opted_out",
  "conversation.opted_in", "conversation.assistant_failed", "engine.event_parked",
  "engine.parked_event_reprocessed", "order.number_assigned", "order.market_order_deferred",
  "order.timer_fired", "order.drafted", "order.confirmation_requested", "order.confirmed",
  "order.market_order_created", "order.relayed_to_dealer", "order.dealer_reminded",
  "order.escalated", "order.accepted", "order.rejected", "order.failed", "order.cancelled",
  "order.expired", "order.delivered", "checkout.started", "checkout.details_given",
  "checkout.completed", "order.delivery_scheduled", "order.ready", "order.picked_up",
];

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

const state = {
  lang: "it",
  role: "",
  view: "inbox",
  conversations: [],
  selected: null,
  pane: "thread",
  dealers: [],
  sim: { phone: "", items: [], byId: new Map(), waiting: 0 },
};

function t(key, vars = {}) {
  const text = LABELS[state.lang][key] ?? LABELS.it[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function applyLabels() {
  document.documentElement.lang = state.lang;
  for (const el of $$("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of $$("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of $$("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of $$("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  $("#lang").textContent = state.lang === "it" ? "EN" : "IT";
}

// -- small helpers --------------------------------------------------------------------

/** Build an element: el("li", {class: "x", onclick: fn}, child, "text"). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

// Dloop works in Italy: every time is Rome's, whatever clock the operator's device keeps.
const ZONE = "Europe/Rome";

/** The calendar day of `when` in Rome, as "2026-12-06". */
function romeDay(when) {
  return when.toLocaleDateString("en-CA", { timeZone: ZONE });
}

function time(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  const locale = state.lang === "it" ? "it-IT" : "en-GB";
  const sameDay = romeDay(when) === romeDay(new Date());
  const options = sameDay
    ? { hour: "2-digit", minute: "2-digit", timeZone: ZONE }
    : { day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit", timeZone: ZONE };
  return when.toLocaleString(locale, options);
}

function money(value) {
  if (value === null || value === undefined) return "";
  const locale = state.lang === "it" ? "it-IT" : "en-GB";
  return Number(value).toLocaleString(locale, { style: "currency", currency: "EUR" });
}

let toastTimer = 0;
function toast(message, bad = false) {
  const box = $("#toast");
  box.textContent = message;
  box.classList.toggle("bad", bad);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

/** Run fn once soon, and once more a little later (projections catch up in the background). */
const pending = new Map();
function soon(key, fn) {
  for (const [suffix, delay] of [["now", 200], ["late", 1500]]) {
    const id = `${key}:${suffix}`;
    if (pending.has(id)) continue;
    pending.set(id, setTimeout(() => { pending.delete(id); fn().catch(report); }, delay));
  }
}

function report(error) {
  if (error && error.status === 401) return;
  toast(t("error.generic", { message: error?.message ?? String(error) }), true);
}

// -- HTTP -------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function call(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = cookie("dloop_csrf");
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    // The browser's own words ("Failed to fetch") tell an operator nothing: say what happened.
    throw new ApiError(0, t("error.offline"), null);
  }
  const data = await response.json().catch(() => null);
  if (response.status === 401 && path.startsWith("/api/")) {
    window.location.assign("/login");
    throw new ApiError(401, "signed out", data);
  }
  if (response.status >= 500) {
    throw new ApiError(response.status, t("error.server", { status: response.status }), data);
  }
  if (!response.ok) throw new ApiError(response.status, data?.error ?? response.statusText, data);
  return data;
}

// -- navigation -------------------------------------------------------------------------

function show(view) {
  state.view = view;
  for (const tab of $$(".tab")) tab.classList.toggle("active", tab.dataset.view === view);
  for (const section of $$(".view")) section.hidden = section.id !== `view-${view}`;
  const loaders = {
    inbox: loadConversations, orders: loadOrders, review: loadReview, overview: loadOverview,
  };
  if (loaders[view]) loaders[view]().catch(report);
  if (view === "simulator") $("#sim-text").focus();
}

// -- inbox ------------------------------------------------------------------------------

function stageBadge(stage) {
  return el("span", { class: `badge stage-${stage}` }, t(`stage.${stage}`));
}

function lastLine(row) {
  const history = row.context?.history ?? [];
  const line = history[history.length - 1];
  if (!line) return "";
  return `${line.direction === "outbound" ? "↩ " : ""}${shownText(line.text, line.type)}`;
}

async function openConversation(id) {
  const row = await call(`/api/conversations/${encodeURIComponent(id)}`);
  state.selected = row;
  $("#view-inbox").classList.add("show-detail");
  $("#conv-placeholder").hidden = true;
  $("#conv-detail").hidden = false;
  $("#conv-error").hidden = true;
  renderHead();
  renderConversations();
  await Promise.all([loadDetail(), loadSide()]);
}

async function refreshSelected() {
  if (!state.selected) return;
  state.selected = await call(`/api/conversations/${encodeURIComponent(state.selected.id)}`);
  renderHead();
  await Promise.all([loadDetail(), loadSide()]);
}

const TICKS = { pending: "…", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };
const MAX_PAGES = 5;

/** Every page of a cursor-paginated list (at most MAX_PAGES pages). */
async function allPages(path, next, items) {
  const found = [];
  let query = "";
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const body = await call(`${path}${query}`);
    found.push(...items(body));
    const after = next(body);
    if (after === null || after === undefined) break;
    query = `&${after}`;
  }
  return found;
}

/** The thread and the timeline of the selected conversation, loaded together. */
async function loadDetail() {
  const id = state.selected.id;
  const base = `/api/conversations/${encodeURIComponent(id)}`;
  const [messages, events] = await Promise.all([
    allPages(`${base}/messages?limit=200`,
      (b) => b.next_cursor && `cursor=${encodeURIComponent(b.next_cursor)}`, (b) => b.items),
    allPages(`${base}/timeline?limit=1000`,
      (b) => b.next_after && `after=${b.next_after}`, (b) => b.events),
  ]);
  if (state.selected?.id !== id) return;
  renderThread(id, inLogOrder(messages, events));
  renderTimeline(events);
}

/**
 * Messages in the order their events were recorded. Meta's timestamps have whole
 * seconds, so sorting rows by time alone can put a reply before the message it answers.
 */
function inLogOrder(messages, events) {
  const rank = new Map();
  for (const event of events) {
    const key = event.data.outbound_id ?? (event.type === "whatsapp.message_received"
      ? event.data.wamid : null);
    if (key && !rank.has(key)) rank.set(key, event.version);
  }
  const ranked = messages.map((msg, index) => ({
    msg, index, at: rank.get(msg.id) ?? rank.get(msg.meta_message_id) ?? Infinity,
  }));
  ranked.sort((a, b) => (a.at - b.at) || (a.index - b.index));
  return ranked.map((entry) => entry.msg);
}

function renderThread(id, messages) {
  const thread = $("#thread");
  // A laptop scrolls the thread; a phone scrolls the whole chat body (the order on top).
  const boxes = [thread, $(".conv-body")];
  const atBottom = boxes.every((box) => box.scrollHeight - box.scrollTop - box.clientHeight < 40);
  thread.replaceChildren(...messages.map(messageItem));
  if (atBottom || thread.dataset.for !== id) {
    for (const box of boxes) box.scrollTop = box.scrollHeight;
  }
  thread.dataset.for = id;
}

function showPane(pane) {
  state.pane = pane;
  for (const seg of $$(".seg")) seg.classList.toggle("active", seg.dataset.pane === pane);
  $("#thread").hidden = pane !== "thread";
  $("#timeline").hidden = pane !== "timeline";
}

async function act(action) {
  const id = state.selected.id;
  try {
    await call(`/api/conversations/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    $("#conv-error").hidden = true;
    toast(t("act.done"));
  } catch (error) {
    $("#conv-error").textContent = error.message;
    $("#conv-error").hidden = false;
  }
  await refreshSelected();
  soon("conversations", loadConversations);
}

async function reply(event) {
  event.preventDefault();
  const box = $("#reply-text");
  const text = box.value.trim();
  if (!text) return;
  const id = state.selected.id;
  try {
    await call(`/api/conversations/${encodeURIComponent(id)}/reply`, {
      method: "POST", body: { text },
    });
    box.value = "";
    $("#conv-error").hidden = true;
    toast(t("reply.queued"));
  } catch (error) {
    const hint = error.body?.hint ? ` (${error.body.hint})` : "";
    $("#conv-error").textContent = error.message + hint;
    $("#conv-error").hidden = false;
  }
  await refreshSelected();
}

// -- orders -----------------------------------------------------------------------------

// -- review queue -----------------------------------------------------------------------

async function loadReview() {
  const status = $("#review-status").value;
  const page = await call(`/api/review?status=${status}&limit=200`);
  $("#review-list").replaceChildren(...page.items.map(reviewItem));
  $("#review-empty").hidden = page.items.length > 0;
  await loadCounters();
}

// Parked events are re-driven by their reactor; failed sends are queued again.
const RETRYABLE = new Set(["parked", "outbound_failed"]);

async function retry(id) {
  const answer = await call(`/api/review/${encodeURIComponent(id)}/retry`, { method: "POST" });
  if (!answer.retry?.succeeded) {
    toast(t("retry.failed", { message: answer.retry?.error ?? "?" }), true);
    return;
  }
  toast(t("act.done"));
  // The queue is a projection that catches up in the background: show the answer now.
  const row = $(`#review-list li[data-id="${CSS.escape(id)}"]`);
  if (row && $("#review-status").value !== answer.item.status) row.remove();
  else if (row) row.replaceWith(reviewItem(answer.item));
  $("#review-empty").hidden = $("#review-list").children.length > 0;
  soon("review", loadReview);
}

async function dismiss(id) {
  await call(`/api/review/${encodeURIComponent(id)}/dismiss`, { method: "POST" });
  await loadReview();
}

async function loadCounters() {
  if (state.role === "dealer") return;
  const counters = await call("/api/counters");
  state.counters = counters;
  const badges = [
    ["#review-count", counters.review_queue], ["#unread-total", counters.needs_person],
    ["#orders-count", counters.pending_orders],
  ];
  for (const [selector, value] of badges) {
    $(selector).textContent = String(value ?? 0);
    $(selector).hidden = !value;
  }
}

// -- simulator --------------------------------------------------------------------------

function digits(phone) {
  return String(phone ?? "").replace(/\D/g, "");
}

function randomHex(bytes) {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return Array.from(buffer, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A Meta webhook body carrying one interactive reply (button or list row) from `phone`. */
function interactiveDelivery(phone, kind, choice) {
  const from = digits(phone);
  const message = {
    from,
    id: `wamid.SIM${randomHex(16)}`,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: "interactive",
    interactive: { type: kind, [kind]: { id: choice.id, title: choice.title } },
  };
  const value = {
    messaging_product: "whatsapp",
    metadata: { display_phone_number: "390000000000", phone_number_id: "SIMULATED" },
    contacts: [{ profile: { name: simName() }, wa_id: from }],
    messages: [message],
  };
  return {
    object: "whatsapp_business_account",
    entry: [{ id: "SIMULATED_WABA", changes: [{ field: "messages", value }] }],
  };
}

/** The simulator's view of a sandbox payload (what Meta would have received). */
function fromPayload(payload) {
  if (!payload || !payload.type) return null; // mark-as-read and typing indicators
  const item = { id: payload.biz_opaque_callback_data, sender: "bot", buttons: [], rows: [] };
  if (payload.type === "text") item.text = payload.text.body;
  else if (payload.type === "interactive") {
    const body = payload.interactive;
    item.header = body.header?.text;
    item.text = body.body?.text ?? "";
    item.footer = body.footer?.text;
    item.buttons = (body.action?.buttons ?? []).map((b) => b.reply);
    item.rows = (body.action?.sections ?? []).flatMap((s) => s.rows ?? []);
  } else if (payload.type === "template") item.text = t("sim.template", { name: payload.template.name });
  else if (payload.type === "reaction") item.text = payload.reaction.emoji;
  else item.text = `[${payload.type}]`;
  return item;
}

/** The simulator's view of a conversation.reply_queued event from the live stream. */
function fromQueued(data) {
  return {
    id: data.outbound_id,
    sender: data.sender === "agent" ? "agent" : "bot",
    text: data.kind === "template" ? t("sim.template", { name: data.text }) : data.text,
    buttons: data.buttons ?? [],
    rows: [],
  };
}

/** The WhatsApp profile name the simulator writes with (a dealer: its catalogue name). */
function simName() {
  const dealer = state.dealers.find((d) => d.phone === $("#sim-as").value);
  return dealer?.name ?? ($("#sim-name").value.trim() || "Simulatore");
}

function simPhone() {
  return $("#sim-phone").value.trim();
}

function isSimPhone(phone) {
  const mine = digits(simPhone());
  return mine.length >= 6 && digits(phone) === mine;
}

function addBotItem(item) {
  if (!item) return;
  const known = state.sim.byId.get(item.id);
  if (known) {
    // The sandbox payload is richer than the event (list rows); keep the sender we know.
    Object.assign(known, { ...item, sender: known.sender === "agent" ? "agent" : item.sender });
  } else {
    state.sim.items.push(item);
    if (item.id) state.sim.byId.set(item.id, item);
  }
  renderSim();
}

function renderSim() {
  const thread = $("#sim-thread");
  const items = state.sim.items.map(simItem);
  if (state.sim.waiting > 0) items.push(el("li", { class: "typing" }, t("sim.typing")));
  thread.replaceChildren(...items);
  thread.scrollTop = thread.scrollHeight;
}

function simItem(item) {
  if (item.mine) {
    return el("li", { class: "msg mine", dataset: { mine: "1" } }, item.text);
  }
  const choices = [...item.buttons, ...item.rows];
  return el("li", { class: "msg bot", dataset: { sender: item.sender } },
    el("div", { class: "who" }, item.sender === "agent" ? t("sim.agent") : t("sim.bot")),
    item.header ? el("div", { class: "header" }, item.header) : null,
    el("div", { class: "text" }, item.text ?? ""),
    item.footer ? el("div", { class: "footer" }, item.footer) : null,
    choices.length ? el("div", { class: "reply-buttons" }, choices.map((choice) => el("button", {
      type: "button",
      dataset: { id: choice.id },
      onclick: () => tap(choice, item.buttons.includes(choice) ? "button_reply" : "list_reply"),
    }, choice.title))) : null);
}

async function simulate(body, shownText) {
  const phone = simPhone();
  if (digits(phone).length < 8) {
    toast(t("sim.bad_phone"), true);
    return;
  }
  state.sim.items.push({ mine: true, text: shownText });
  state.sim.waiting += 1;
  renderSim();
  try {
    const answer = await call("/simulate?wait=5", { method: "POST", body });
    // Replies to an identity the simulator has left since do not belong in this thread.
    if (digits(simPhone()) !== digits(phone)) return;
    for (const payload of answer.replies ?? []) addBotItem(fromPayload(payload));
  } catch (error) {
    report(error);
  } finally {
    state.sim.waiting -= 1;
    renderSim();
  }
}

function tap(choice, kind) {
  simulate(interactiveDelivery(simPhone(), kind, choice), choice.title);
}

function sendSim(event) {
  event.preventDefault();
  const box = $("#sim-text");
  const text = box.value.trim();
  if (!text) return;
  box.value = "";
  simulate({ from: simPhone(), text, name: simName() }, text);
}

function clearSim() {
  state.sim.items = [];
  state.sim.byId = new Map();
  renderSim();
}

async function loadDealers() {
  const page = await call("/api/dealers");
  state.dealers = page.items ?? page;
  const select = $("#sim-as");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "customer" }, t("sim.customer")),
    ...state.dealers.filter((d) => d.phone).map((d) => el("option", { value: d.phone },
      t("sim.dealer", { name: d.name }))));
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

function chooseIdentity() {
  const value = $("#sim-as").value;
  $("#sim-phone").value = value === "customer" ? state.sim.customerPhone : value;
  $("#sim-name-label").hidden = value !== "customer";
  clearSim();
}

// -- live stream ------------------------------------------------------------------------

function connectStream() {
  const source = new EventSource("/api/stream");
  const live = $("#live");
  const mark = (on) => {
    live.dataset.state = on ? "on" : "off";
    live.title = t(on ? "live.on" : "live.off");
  };
  source.addEventListener("open", () => mark(true));
  source.addEventListener("error", () => mark(false));
  for (const type of STREAM_TYPES) source.addEventListener(type, onStreamEvent);
}

function onStreamEvent(message) {
  const event = JSON.parse(message.data);
  if (event.type === "conversation.reply_queued" && isSimPhone(event.data.to)) {
    addBotItem(fromQueued(event.data));
  }
  if (event.conversation_id) {
    patchConversation(event);
    if (state.view === "inbox") soon("conversations", loadConversations);
    if (state.selected?.id === event.conversation_id) soon("selected", refreshSelected);
  }
  if (event.type.startsWith("order.") && state.view === "orders") soon("orders", loadOrders);
  // Badges count chats that need a person and orders waiting: most events can move them.
  soon("counters", loadCounters);
  if (state.view === "overview") soon("overview", loadOverview);
  if (REVIEW_TYPES.has(event.type) && state.view === "review") soon("review", loadReview);
}

/** Show an inbound message at once, before the projection row catches up. */
function patchConversation(event) {
  if (event.type !== "whatsapp.message_received") return;
  const row = state.conversations.find((r) => r.id === event.conversation_id);
  if (!row) return;
  const line = { direction: "inbound", type: event.data.kind, text: event.data.text };
  row.context = { ...(row.context ?? {}), history: [...(row.context?.history ?? []), line] };
  row.last_message_at = event.data.sent_at;
  row.unread_count = (row.unread_count || 0) + 1;
  state.conversations = [row, ...state.conversations.filter((r) => r !== row)];
  renderConversations();
}

// -- start ------------------------------------------------------------------------------

async function logout() {
  await fetch("/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": cookie("dloop_csrf") },
  });
  window.location.assign("/login");
}

function wire() {
  for (const tab of $$(".tab")) tab.addEventListener("click", () => show(tab.dataset.view));
  for (const seg of $$(".seg")) seg.addEventListener("click", () => showPane(seg.dataset.pane));
  for (const button of $$(".actions button")) {
    button.addEventListener("click", () => act(button.dataset.action).catch(report));
  }
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "it" ? "en" : "it";
    localStorage.setItem("dloop.lang", state.lang);
    applyLabels();
    loadDealers().catch(report);
    show(state.view);
    if (state.selected) renderHead();
    renderSim();
  });
  $("#logout").addEventListener("click", () => logout().catch(report));
  $("#conv-back").addEventListener("click", () => $("#view-inbox").classList.remove("show-detail"));
  $("#conv-stage").addEventListener("change", () => loadConversations().catch(report));
  let searchTimer = 0;
  $("#conv-search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadConversations().catch(report), 250);
  });
  $("#reply-form").addEventListener("submit", (event) => reply(event).catch(report));
  $("#review-status").addEventListener("change", () => loadReview().catch(report));
  $("#sim-form").addEventListener("submit", sendSim);
  $("#sim-clear").addEventListener("click", clearSim);
  $("#sim-as").addEventListener("change", chooseIdentity);
  $("#sim-phone").addEventListener("change", () => {
    if ($("#sim-as").value === "customer") state.sim.customerPhone = simPhone();
    clearSim();
  });
}

function start() {
  state.role = $('meta[name="dloop-role"]').content;
  state.lang = localStorage.getItem("dloop.lang") === "en" ? "en" : "it";
  state.sim.customerPhone = simPhone();
  $("#agent").textContent = $('meta[name="dloop-agent"]').content;
  for (const node of $$(".staff-only")) node.hidden = state.role === "dealer";
  applyLabels();
  wire();
  connectStream();
  show("inbox");
  // Shops' names fill in rows whose phone is a dealer's: draw the list again once known.
  loadDealers().then(renderConversations).catch(report);
  loadCounters().catch(report);
}

document.addEventListener("DOMContentLoaded", start);
