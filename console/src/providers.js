// The Providers & webhooks page: each provider of the project's chains with its health and a
// test send through it alone; each webhook endpoint with its state, a test, its deliveries
// and a replay since a time.

import { el, inProject } from "./api.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—");
const card = (title, id, ...body) => el("section", { class: "card", id, "aria-labelledby": `${id}-h` }, el("h2", { id: `${id}-h`, text: title }), ...body);
const STATE = { closed: "sent", open: "failed", half_open: "", unknown: "" };
const PLACEHOLDER = { email: "someone@example.com", sms: "+447911123456" };

function outcomeText(o) {
  if (o.status === "sent") return `sent — ${o.providerMessageId || ""}`;
  return `${o.status} — ${o.error || ""}${o.failover ? " (a chain would try its next provider)" : ""}`;
}

function tester(id, placeholder, run) {
  const input = el("input", { id: `${id}-to`, placeholder, "aria-label": `Send a test to`, autocomplete: "off" });
  const result = el("span", { class: "result", id: `${id}-result`, role: "status" });
  const button = el("button", { class: "btn small-btn", type: "submit", id: `${id}-send`, text: "Test" });
  const form = el("form", { class: "inline-row" }, input, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    result.textContent = "sending…";
    try {
      result.textContent = outcomeText(await run(input.value.trim()));
    } catch (refused) {
      result.textContent = refused.message;
    }
    button.disabled = false;
  });
  return [form, result];
}

function providerRow(p) {
  const key = `provider-${p.name}`;
  const mean = p.meanSeconds === null || p.meanSeconds === undefined ? "—" : `${Math.round(p.meanSeconds * 1000)} ms`;
  const testable = p.channel === "email" || p.channel === "sms";
  const [form, result] = testable ? tester(key, PLACEHOLDER[p.channel], (to) => inProject("providers.test", { name: p.name, to })) : [el("span", { class: "dim", text: "—" }), null];
  return el("tr", { id: key },
    el("td", {}, el("strong", { text: p.name }), el("div", { class: "dim small" }, el("code", { text: p.url }))),
    el("td", {}, p.channel, el("div", { class: "dim small", text: p.own ? "the project's own" : "default chain" })),
    el("td", {}, el("span", { class: `chip ${STATE[p.state] ?? ""}`, text: p.state.replace("_", "-") })),
    el("td", { class: "small" }, p.lastError ? [el("span", { class: "error-text", text: p.lastError }), el("div", { class: "dim", text: when(p.lastErrorAt) })] : el("span", { class: "dim", text: "none" })),
    el("td", { text: mean }),
    el("td", {}, form, result));
}

function deliveriesTable(deliveries) {
  if (!deliveries.length) return el("p", { class: "dim", text: "No delivery yet." });
  return el("table", { class: "list compact" },
    el("thead", {}, el("tr", {}, ["Event", "Type", "Status", "Code", "Attempts", "Time"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, deliveries.map((d) => el("tr", {},
      el("td", {}, el("code", { text: d.eventId })), el("td", { text: d.type }),
      el("td", {}, el("span", { class: `chip ${d.status === "succeeded" ? "sent" : d.status === "failed" ? "failed" : ""}`, text: d.status })),
      el("td", { text: d.statusCode ?? "—" }), el("td", { text: d.attempts }), el("td", { class: "dim", text: when(d.createdAt) })))));
}

function webhookCard(hook) {
  const key = `webhook-${hook.id}`;
  const log = el("div", { class: "deliveries", id: `${key}-deliveries` });
  const refresh = async () => log.replaceChildren(deliveriesTable((await inProject(`webhooks.deliveries?id=${encodeURIComponent(hook.id)}`)).deliveries));
  const result = el("span", { class: "result", id: `${key}-result`, role: "status" });
  const test = el("button", { class: "btn small-btn", type: "button", id: `${key}-test`, text: "Test" });
  test.addEventListener("click", async () => {
    result.textContent = "posting…";
    try {
      const o = await inProject("webhooks.test", { id: hook.id });
      result.textContent = o.ok ? `delivered — ${o.statusCode} in ${o.durationMs} ms` : `failed — ${o.statusCode ?? ""} ${o.error || ""}`;
    } catch (refused) {
      result.textContent = refused.message;
    }
    await refresh();
  });
  const since = el("input", { type: "datetime-local", id: `${key}-since`, "aria-label": "Replay the events since" });
  const replayForm = el("form", { class: "inline-row" }, el("label", { for: `${key}-since`, class: "dim", text: "Replay since" }), since,
    el("button", { class: "btn small-btn", type: "submit", id: `${key}-replay`, text: "Replay" }));
  replayForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const o = await inProject("webhooks.replay", { id: hook.id, since: new Date(since.value).toISOString() });
      result.textContent = `${o.pending} deliveries pending again`;
    } catch (refused) {
      result.textContent = refused.message;
    }
    await refresh();
  });
  const state = hook.enabled ? (hook.failingSince ? `failing since ${when(hook.failingSince)}` : "enabled") : `disabled${hook.disabledReason ? ` — ${hook.disabledReason}` : ""}`;
  const chip = hook.enabled && !hook.failingSince ? "sent" : "failed";
  const section = el("section", { class: "card", id: key },
    el("div", { class: "page-head" }, el("div", {}, el("h3", {}, el("code", { text: hook.id }), " ", el("span", { class: `chip ${chip}`, text: state })),
      el("div", { class: "dim small" }, el("code", { text: hook.url }), ` · ${hook.events.join(", ")}`)),
      el("div", { class: "actions" }, test, replayForm)),
    result, el("h3", { class: "sub", text: "Deliveries" }), log);
  refresh();
  return section;
}

export async function providers(main) {
  const [{ providers: shown }, { webhooks }] = await Promise.all([inProject("providers.health"), inProject("webhooks.list")]);
  main.replaceChildren(
    el("div", { class: "page-head" }, el("div", {}, el("h1", { text: "Providers & webhooks" }),
      el("p", { class: "dim", text: "Where the messages go out, and where Herald tells you what happened." }))),
    card("Providers", "providers", el("table", { class: "list compact", id: "providers-table" },
      el("thead", {}, el("tr", {}, ["Provider", "Channel", "Circuit", "Last error", "Mean latency", "Test send"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, shown.map(providerRow)))),
    el("h2", { class: "section-title", text: "Webhook endpoints" }),
    webhooks.length ? el("div", { class: "left", id: "webhooks" }, webhooks.map(webhookCard))
      : el("div", { class: "card empty", id: "webhooks" }, el("p", { text: "No webhook endpoint." })));
}
