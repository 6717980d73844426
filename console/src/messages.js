// The project's messages, newest first. The filters live in the address (a filtered log can be
// linked and reloaded); "Load older" asks for the messages below the last one shown, by its
// cursor, so messages arriving meanwhile shift nothing.

import { el, inProject, project } from "./api.js";
import { CHANNELS } from "./channels.js";

export const base = `/console/${encodeURIComponent(project)}`;
export const STATUSES = ["queued", "scheduled", "sent", "failed"];
export const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
export const titleOf = (channel) => (CHANNELS.find((c) => c.key === channel) || { title: channel }).title;
export const chip = (status, text = status) => el("span", { class: `chip ${status}`, text });

const TIMES = ["since", "until"];

// An RFC 3339 time as a datetime-local value (the browser's zone), and back.
function localOf(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  return new Date(moment.getTime() - moment.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function choice(name, label, options, chosen) {
  return el("div", { class: "field" },
    el("label", { for: `filter-${name}`, text: label }),
    el("select", { id: `filter-${name}`, name },
      el("option", { value: "", text: "Any" }),
      options.map(([value, text]) => el("option", { value, text, selected: value === chosen }))));
}

function text(name, label, wanted, type = "text") {
  const value = TIMES.includes(name) ? localOf(wanted.get(name) || "") : wanted.get(name) || "";
  return el("div", { class: "field" },
    el("label", { for: `filter-${name}`, text: label }),
    el("input", { id: `filter-${name}`, name, type, value, autocomplete: "off" }));
}

function filters(wanted, notifications) {
  const form = el("form", { class: "card filters", id: "filters", role: "search", "aria-label": "Filter messages" },
    text("userId", "User", wanted),
    choice("notificationId", "Notification", notifications.map((n) => [n.id, n.id]), wanted.get("notificationId")),
    choice("status", "Status", STATUSES.map((s) => [s, s]), wanted.get("status")),
    choice("channel", "Channel", CHANNELS.map((c) => [c.key, c.title]), wanted.get("channel")),
    text("since", "From", wanted, "datetime-local"),
    text("until", "Until", wanted, "datetime-local"),
    el("div", { class: "filter-actions" },
      el("button", { class: "btn primary", type: "submit", id: "apply-filters", text: "Filter" }),
      el("a", { class: "btn ghost", href: `${base}/messages`, text: "Clear" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (!value) continue;
      chosen.set(name, TIMES.includes(name) ? new Date(value).toISOString() : value);
    }
    const query = chosen.toString();
    window.location.assign(`${base}/messages${query ? `?${query}` : ""}`);
  });
  return form;
}

function row(message) {
  const href = `${base}/messages/${encodeURIComponent(message.id)}`;
  return el("tr", {},
    el("td", { class: "dim" }, el("time", { datetime: message.createdAt, text: when(message.createdAt) })),
    el("td", {}, el("a", { href, class: "message-link" }, el("code", { text: message.id }))),
    el("td", {}, el("code", { text: message.userId })),
    el("td", { text: message.notificationId }),
    el("td", {}, Object.entries(message.channels).map(([c, o]) => chip(o.status, `${titleOf(c)} ${o.status}`))),
    el("td", {}, chip(message.status)));
}

export async function messageLog(main) {
  const wanted = new URLSearchParams(window.location.search);
  const { notifications } = await inProject("notifications.list");
  const body = el("tbody", {});
  const older = el("button", { class: "btn", type: "button", id: "older", hidden: true, text: "Load older" });
  const status = el("p", { class: "dim small", id: "log-status", role: "status" });
  const error = el("p", { class: "preview-error", id: "log-error", role: "alert", hidden: true });
  let cursor = null;
  async function load() {
    const query = new URLSearchParams([...wanted].filter(([name]) => name !== "cursor"));
    query.set("limit", "25");
    if (cursor) query.set("cursor", cursor);
    try {
      const page = await inProject(`messages.list?${query}`);
      body.append(...page.messages.map(row));
      cursor = page.nextCursor;
      older.hidden = !cursor;
      status.textContent = body.children.length ? `${body.children.length} shown, newest first` : "No message matches.";
    } catch (refused) {
      Object.assign(error, { hidden: false, textContent: refused.message });
    }
  }
  older.addEventListener("click", load);
  main.replaceChildren(
    el("div", { class: "page-head" },
      el("div", {}, el("h1", { text: "Messages" }),
        el("p", { class: "dim", text: "Every message sent, newest first: what became of it, on each channel." }))),
    filters(wanted, notifications), error,
    el("div", { class: "card flush" }, el("table", { class: "list", id: "messages" },
      el("thead", {}, el("tr", {}, ["Created", "Id", "User", "Notification", "Channels", "Status"].map((h) => el("th", { scope: "col", text: h })))),
      body)),
    el("div", { class: "log-foot" }, status, older));
  await load();
}
