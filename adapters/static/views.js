// Dloop support dashboard: the triage inbox, the conversation, the orders board, review.
//
// The inbox lists first what needs a person (/api/triage: escalated, taken over, failed
// sends, silent dealers; longest waiting first), then everything else newest first. A
// conversation shows the person's name and phone, bubbles that tell customer, bot, agent
// and template apart, the open order beside the chat, and the event timeline as
// sentences with the raw event one click away.
"use strict";

// -- inbox ------------------------------------------------------------------------------

/** "da 5 min", or "adesso" under a minute. */
function waitedText(iso) {
  const span = waited(iso);
  return span === t("just_now") ? span : t("waited", { time: span });
}

/** The name of a row, else its phone (the phone alone when nobody gave a name). */
function title(row) {
  return nameOf(row) || phoneOf(row) || `${t("conv.untitled")} ${row.id.slice(0, 8)}`;
}

async function loadConversations() {
  const params = new URLSearchParams({ limit: "100", attention: "none" });
  const stage = $("#conv-stage").value;
  const q = $("#conv-search").value.trim();
  if (stage) params.set("stage", stage);
  if (q) params.set("q", q);
  const [triage, rest] = await Promise.all([
    call("/api/triage"), call(`/api/conversations?${params}`),
  ]);
  const matches = (row) => (!stage || row.stage === stage) && (!q || matchesText(row, q));
  state.triage = triage.items.filter(matches);
  state.conversations = rest.items;
  renderConversations();
}

function matchesText(row, q) {
  const needle = q.toLowerCase();
  return [row.phone, phoneOf(row), nameOf(row), lastLine(row)].some(
    (v) => String(v ?? "").toLowerCase().includes(needle));
}

function renderConversations() {
  const triage = state.triage ?? [];
  $("#triage").replaceChildren(...triage.map(conversationItem));
  $("#triage-empty").hidden = triage.length > 0;
  $("#triage-count").textContent = triage.length ? String(triage.length) : "";
  $("#conversations").replaceChildren(...state.conversations.map(conversationItem));
  $("#conv-empty").hidden = state.conversations.length + triage.length > 0;
  if (state.role === "dealer") {
    $("#unread-total").hidden = triage.length === 0;
    $("#unread-total").textContent = String(triage.length);
  }
}

function attentionBadge(row) {
  if (!row.attention) return null;
  const text = t(`attention.${row.attention}`, { name: row.assignee ?? "" });
  const since = row.attention_since ? ` · ${waitedText(row.attention_since)}` : "";
  // Taken over: this badge also says who answers (the separate "bot" badge is left out).
  const owner = row.attention === "taken_over" ? " assignee" : "";
  return el("span", { class: `badge attention attention-${row.attention}${owner}` }, text + since);
}

function conversationItem(row) {
  const selected = row.id === state.selected?.id;
  const named = Boolean(nameOf(row));
  return el("li", {},
    el("button", {
      type: "button",
      class: `conv-item${selected ? " selected" : ""}${row.attention ? " needs" : ""}`,
      dataset: { id: row.id, phone: row.phone ?? "" },
      onclick: () => openConversation(row.id).catch(report),
    },
    el("span", { class: "party" },
      el("span", { class: "name" }, title(row)),
      named ? el("span", { class: "phone muted" }, phoneOf(row) ?? "") : null),
    el("span", { class: "time" }, time(row.last_message_at)),
    el("span", { class: "snippet" }, lastLine(row)),
    el("span", { class: "meta" },
      attentionBadge(row) ?? stageBadge(row.stage ?? "pending"),
      typeOf(row) === "dealer"
        ? el("span", { class: "badge type-dealer" }, t("type.dealer")) : null,
      row.unread_count > 0 ? el("span", { class: "pill unread" }, row.unread_count) : null)));
}

function renderHead() {
  const row = state.selected;
  $("#conv-name").textContent = title(row);
  const phone = $("#conv-phone");
  phone.textContent = nameOf(row) ? (phoneOf(row) ?? "") : "";
  phone.hidden = !nameOf(row) || !phoneOf(row);
  if (phoneOf(row)?.startsWith("+")) phone.href = `tel:${row.phone}`;
  const triaged = (state.triage ?? []).find((r) => r.id === row.id);
  const attention = attentionBadge(triaged ?? row);
  const badges = [
    stageBadge(row.stage ?? "pending"),
    attention,
    el("span", { class: `badge type-${typeOf(row)}` }, t(`type.${typeOf(row)}`)),
    // who answers: the agent's badge says it already when an agent took over
    row.attention === "taken_over" ? null : el("span", { class: "badge assignee" },
      row.assignee ? t("conv.assignee", { name: row.assignee })
        : row.stage === "open" ? t("conv.nobody") : t("conv.bot")),
  ];
  $("#conv-badges").replaceChildren(...badges.filter(Boolean));
  const staff = state.role !== "dealer";
  const buttons = Object.fromEntries($$(".actions button").map((b) => [b.dataset.action, b]));
  buttons["take-over"].disabled = !staff || Boolean(row.assignee) || row.stage === "opted_out";
  buttons.release.disabled = !staff || !row.assignee;
  buttons.resolve.disabled = !staff || row.stage === "resolved";
  $("#reply-form").hidden = !staff;
}

// -- beside the chat: the open order ------------------------------------------------------

async function loadSide() {
  const row = state.selected;
  const side = $("#conv-side");
  if (typeOf(row) === "dealer") {
    const dealer = state.dealers.find((d) => d.phone === row.phone);
    const page = dealer
      ? await call(`/api/orders?dealer=${encodeURIComponent(dealer.id)}&limit=5`) : { items: [] };
    side.replaceChildren(...sideOrders(page.items, "side.order"));
    if (!side.children.length) side.append(el("p", { class: "muted small" }, t("side.none")));
    return;
  }
  const query = `conversation=${encodeURIComponent(row.id)}&limit=3`;
  const [orders, carts] = await Promise.all([
    call(`/api/orders?${query}`), call(`/api/carts?${query}`),
  ]);
  const openCarts = carts.items.filter((c) => ["draft", "awaiting_confirmation"].includes(c.stage));
  if (state.selected?.id !== row.id) return;
  side.replaceChildren(...sideOrders(orders.items, "side.order"), ...sideOrders(openCarts, "side.cart"));
  if (!side.children.length) side.append(el("p", { class: "muted small" }, t("side.none")));
}

function sideOrders(rows, heading) {
  const dealers = new Map(state.dealers.map((d) => [d.id, d.name]));
  return rows.map((row) => el("section", { class: "side-order", dataset: { id: row.id } },
    el("h4", {}, `${t(heading)} ${row.order_number ? `n. ${row.order_number}` : ""}`),
    el("span", { class: `badge relay-${row.stage}` }, relayText(row)),
    el("span", { class: "muted small" }, ` ${waitedText(row.stage_changed_at ?? row.updated_at)}`),
    el("div", {}, dealers.get(row.dealer_id) ?? row.dealer_id ?? ""),
    el("ul", {}, (row.products ?? []).map((l) => el("li", {}, `${l.quantity} × ${l.name}`))),
    extra(row, "delivery_time")
      ? el("div", { class: "small" }, `${t("orders.when")}: ${extra(row, "delivery_time")}`) : null,
    extra(row, "address")
      ? el("div", { class: "small" }, `${t("orders.address")}: ${extra(row, "address")}`) : null,
    el("div", { class: "total" }, money(totalOf(row)))));
}

/** A relay's stage in words; a cart whose chat is at checkout was confirmed by the customer. */
function relayText(row) {
  const chats = [state.selected, ...(state.triage ?? []), ...state.conversations];
  const chat = chats.find((c) => c && c.id === row.conversation_id);
  if (row.stage === "awaiting_confirmation" && chat?.stage === "checkout") return t("stage.checkout");
  return t(`relay.${row.stage}`);
}

/** The relay's total, with the delivery fee once checkout records one. */
function totalOf(row) {
  const total = extra(row, "total_with_delivery");
  if (total !== null) return Number(total);
  return Number(row.total_price ?? 0) + Number(extra(row, "delivery_fee") ?? 0);
}

/** A checkout detail (address, time, fee, payment) wherever the relay row keeps it. */
function extra(row, name) {
  for (const key of CHECKOUT[name] ?? [name]) {
    const value = row[key] ?? row.order_data?.[key];
    if (value !== null && value !== undefined && value !== "") return value;
  }
  return null;
}

// The names checkout may give its details (issue "checkout"): the board shows any of them.
const CHECKOUT = {
  delivery_fee: ["delivery_fee", "fee"],
  address: ["delivery_address", "address"],
  delivery_time: ["delivery_when", "delivery_time", "delivery_slot", "delivery_window"],
  total_with_delivery: ["total_with_delivery"],
  payment: ["payment", "payment_method"],
};

// -- the thread -------------------------------------------------------------------------

// Kinds whose bubble needs no label (buttons and list replies read as text).
const PLAIN_KINDS = new Set(["text", "template", "buttons", "list", "interactive", "button"]);

function messageItem(msg) {
  const outbound = msg.direction === "outbound";
  const status = msg.status ?? "";
  const sender = !outbound ? "contact" : msg.type === "template" ? "template" : (msg.sender ?? "bot");
  const tick = outbound && TICKS[status]
    ? el("span", { class: `tick ${status}`, title: t(`status.${status}`), dataset: { status } },
      TICKS[status])
    : null;
  const label = outbound
    ? el("div", { class: "from" }, t(`sender.${sender}`, { name: msg.agent ?? "" })) : null;
  return el("li", {
    class: `msg ${outbound ? "outbound" : "inbound"} from-${sender}`, dataset: { status, sender },
  },
  label,
  el("div", { class: "text" }, shownText(msg.content, msg.type)),
  status === "failed" && failureOf(msg)
    ? el("div", { class: "failure" }, t("text.failed", { reason: failureOf(msg) })) : null,
  el("div", { class: "foot" },
    msg.type && !PLAIN_KINDS.has(msg.type) ? el("span", { class: "kind" }, msg.type) : null,
    el("span", {}, time(msg.created_at)), tick));
}

function renderTimeline(events) {
  const carts = new Map();
  $("#timeline").replaceChildren(...events.map((event) => el("li", { dataset: { type: event.type } },
    el("details", {},
      el("summary", {},
        el("span", { class: "when muted" }, time(event.recorded_at)),
        el("span", { class: "sentence" }, sentence(event, carts)),
        el("span", { class: "etype" }, event.type)),
      el("pre", {}, JSON.stringify(event, null, 2))))));
}

// -- orders board -------------------------------------------------------------------------

const BOARD_STAGES = [
  "confirmed", "market_order_created", "relayed_to_dealer", "accepted", "ready", "picked_up",
  "delivered", "rejected", "failed", "cancelled",
];

async function loadOrders() {
  const [page, carts] = await Promise.all([
    call("/api/orders?limit=200"), call("/api/carts?limit=50"),
  ]);
  const byStage = new Map(BOARD_STAGES.map((stage) => [stage, []]));
  for (const row of page.items) {
    if (!byStage.has(row.stage)) byStage.set(row.stage, []);
    byStage.get(row.stage).push(row);
  }
  const full = [...byStage].filter(([, rows]) => rows.length);
  const empty = [...byStage].filter(([, rows]) => !rows.length).map(([s]) => t(`relay.${s}`));
  $("#board").replaceChildren(...full.map(([stage, rows]) => el("section",
    { class: "column", dataset: { stage } },
    el("h3", {}, el("span", {}, t(`relay.${stage}`)), el("span", { class: "count" }, rows.length)),
    rows.map(orderCard))));
  $("#board-empty-stages").textContent = page.items.length && empty.length
    ? t("orders.collapsed", { stages: empty.join(", ") }) : "";
  $("#orders-empty").hidden = page.items.length > 0;
  const open = carts.items.filter((c) => ["draft", "awaiting_confirmation"].includes(c.stage));
  $("#carts-count").textContent = String(open.length);
  $("#cart-list").replaceChildren(...open.map((row) => el("li", { dataset: { id: row.id } },
    el("span", {}, who(row)), el("span", { class: "muted" }, relayText(row)),
    el("span", {}, money(row.total_price)),
    row.conversation_id ? el("button", {
      type: "button", class: "ghost small",
      onclick: () => { show("inbox"); openConversation(row.conversation_id).catch(report); },
    }, t("act.open_chat")) : null)));
}

function orderCard(row) {
  const dealers = new Map(state.dealers.map((d) => [d.id, d.name]));
  const products = Array.isArray(row.products) ? row.products : [];
  const fee = extra(row, "delivery_fee");
  const address = extra(row, "address");
  const when = extra(row, "delivery_time");
  return el("article", { class: "card", dataset: { id: row.id } },
    el("div", { class: "top" },
      el("span", {}, row.order_number ? `n. ${row.order_number}` : row.id.slice(0, 8)),
      el("span", { class: "waited", title: time(row.stage_changed_at) },
        waitedText(row.stage_changed_at ?? row.updated_at))),
    el("div", { class: "customer" },
      el("strong", {}, nameOf(row) ?? t("orders.customer")),
      " ", el("span", { class: "muted phone" }, phoneOf(row) ?? "")),
    el("div", { class: "shop" }, dealers.get(row.dealer_id) ?? row.dealer_id ?? ""),
    el("ul", {}, products.map((line) => el("li", {}, `${line.quantity} × ${line.name}`))),
    address ? el("div", { class: "small" }, `${t("orders.address")}: ${address}`) : null,
    when ? el("div", { class: "small" }, `${t("orders.when")}: ${when}`) : null,
    extra(row, "payment")
      ? el("div", { class: "small muted" },
        `${t("orders.payment")}: ${wordFor("payment", extra(row, "payment"))}`) : null,
    el("div", { class: "money" },
      el("strong", {}, money(totalOf(row))),
      fee !== null ? el("span", { class: "muted small" }, ` (${t("orders.fee", { fee: money(fee) })})`) : null),
    row.conversation_id ? el("button", {
      type: "button", class: "ghost small",
      onclick: () => { show("inbox"); openConversation(row.conversation_id).catch(report); },
    }, t("act.open_chat")) : null);
}

// -- review queue -----------------------------------------------------------------------

function reviewItem(item) {
  // The bot's handover after a failed send is a failed send to the operator, not a request.
  const kind = item.kind === "escalated" && item.summary?.endsWith(": send_failed")
    ? "outbound_failed" : item.kind;
  return el("li", { dataset: { id: item.id } },
    el("span", { class: `badge kind-${kind}` }, t(`kind.${kind}`)),
    el("div", { class: "summary" },
      el("div", {}, reviewSentence(item)),
      el("details", { class: "muted small raw" },
        el("summary", {}, t("review.raw")), el("code", {}, item.summary ?? item.stream))),
    el("span", { class: "when" }, time(item.created_at)),
    item.conversation_id ? el("button", {
      type: "button", class: "ghost open-chat",
      onclick: () => { show("inbox"); openConversation(item.conversation_id).catch(report); },
    }, t("act.open_chat")) : null,
    item.status === "open" && RETRYABLE.has(item.kind) ? el("button", {
      type: "button", class: "retry",
      onclick: () => retry(item.id).catch(report),
    }, t("act.retry")) : null,
    item.status === "open" ? el("button", {
      type: "button",
      onclick: () => dismiss(item.id).catch(report),
    }, t("act.dismiss")) : null);
}
