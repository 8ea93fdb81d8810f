// Dloop support dashboard: the overview page, drawn with the vendored Chart.js.
//
// Numbers at the top come from /api/counters, the series from /api/overview (both staff
// only): orders per hour and per day by stage, turns per hour, assistant latency p50/p95,
// failed sends and review items per day, and how long agents took to answer.
"use strict";

const charts = new Map();
const STAGE_COLOURS = {
  confirmed: "#60a5fa", market_order_created: "#818cf8", relayed_to_dealer: "#f59e0b",
  accepted: "#10b981", delivered: "#047857", rejected: "#ef4444", failed: "#b91c1c",
  cancelled: "#9ca3af", expired: "#d1d5db",
};

async function loadOverview() {
  const [data] = await Promise.all([call("/api/overview?hours=48&days=14"), loadCounters()]);
  renderTiles(state.counters ?? {});
  const hour = (iso) => new Date(iso).toLocaleTimeString(
    locale(), { hour: "2-digit", minute: "2-digit", timeZone: ZONE });
  const day = (iso) => new Date(iso).toLocaleDateString(
    locale(), { day: "2-digit", month: "short", timeZone: ZONE });
  const hours = data.hours.map(hour);
  const days = data.days.map(day);
  draw("chart-orders-hour", "bar", hours, stacked(data.orders_per_hour), true);
  draw("chart-orders-day", "bar", days, stacked(data.orders_per_day), true);
  draw("chart-turns", "bar", hours, [series(t("chart.turns"), data.turns_per_hour, "#0f7b5f")]);
  draw("chart-latency", "line", hours, [
    series("p50", data.assistant_latency_ms.p50, "#2563eb"),
    series("p95", data.assistant_latency_ms.p95, "#f59e0b"),
  ]);
  draw("chart-problems", "bar", days, [
    series(t("series.failed_sends"), data.failed_sends_per_day, "#c0362c"),
    series(t("series.review_items"), data.review_items_per_day, "#b7791f"),
  ]);
  draw("chart-agents", "line", days, [
    series("p50", data.agent_response_minutes.p50, "#2563eb"),
    series("p95", data.agent_response_minutes.p95, "#f59e0b"),
  ]);
}

function locale() {
  return state.lang === "it" ? "it-IT" : "en-GB";
}

function renderTiles(counters) {
  const latency = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} ms`);
  const tiles = [
    ["needs_person", counters.needs_person], ["pending_orders", counters.pending_orders],
    ["open_carts", counters.open_carts], ["failed_sends", counters.failed_sends],
    ["review_queue", counters.review_queue],
    ["latency", `${latency(counters.assistant_latency_p50_ms)} / ${latency(counters.assistant_latency_p95_ms)}`],
  ];
  $("#tiles").replaceChildren(...tiles.map(([key, value]) => el("div", { class: "tile", dataset: { key } },
    el("span", { class: "value" }, String(value ?? 0)),
    el("span", { class: "label" }, t(`tile.${key}`)))));
}

function series(label, values, colour) {
  return {
    label, data: values, backgroundColor: colour, borderColor: colour,
    borderWidth: 2, pointRadius: 3, spanGaps: true, tension: 0.25,
  };
}

function stacked(byStage) {
  const stages = Object.keys(byStage);
  if (!stages.length) return [series(t("side.order"), [], "#60a5fa")];
  return stages.map((stage) => series(t(`relay.${stage}`), byStage[stage], STAGE_COLOURS[stage] ?? "#94a3b8"));
}

function draw(id, type, labels, datasets, stack = false) {
  const canvas = document.getElementById(id);
  charts.get(id)?.destroy();
  const axis = { stacked: stack, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } };
  charts.set(id, new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: { x: axis, y: { stacked: stack, beginAtZero: true, ticks: { precision: 0 } } },
    },
  }));
}
