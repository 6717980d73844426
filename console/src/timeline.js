// One message: each channel's outcome (a push's per device) with a retry of a failed one, and
// its timeline drawn top to bottom. A channel `unknown` is retried only after a dialog saying
// it may arrive twice; after a retry the page follows the message until its delivery is over.

import { el, inProject } from "./api.js";
import { base, chip, titleOf, when } from "./messages.js";

const OVER = ["sent", "failed"];
const RETRYABLE = ["failed", "unknown"];
const GOOD = ["sent", "delivered", "succeeded", "accepted", "read"];
const BAD = ["failed", "bounced", "complained", "rejected", "dead"];

const tone = (status) => (GOOD.includes(status) ? "good" : BAD.includes(status) ? "bad" : status === "unknown" ? "warn" : "");

function detail(label, value) {
  return value === undefined || value === null || value === "" ? null
    : el("div", {}, el("dt", { text: label }), el("dd", {}, el("code", { text: String(value) })));
}

function devices(list) {
  return el("table", { class: "list devices" },
    el("thead", {}, el("tr", {}, ["Device", "To", "Status", "Provider", "Error"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, list.map((d) => el("tr", {},
      el("td", { text: d.kind }), el("td", {}, el("code", { class: "clip", text: d.to })), el("td", {}, chip(d.status)),
      el("td", { text: d.provider || "" }), el("td", { class: "bad-text", text: d.error || "" })))));
}

function channel(message, name, outcome, retry) {
  const canRetry = RETRYABLE.includes(outcome.status) && OVER.includes(message.status);
  const button = canRetry && el("button", {
    class: `btn ${outcome.status === "unknown" ? "" : "primary"}`, type: "button", id: `retry-${name}`,
    text: `Retry ${titleOf(name)}`, onclick: () => retry(name, outcome.status),
  });
  return el("section", { class: "outcome", id: `channel-${name}`, "aria-label": titleOf(name) },
    el("div", { class: "outcome-head" }, el("h3", { text: titleOf(name) }), chip(outcome.status), el("span", { class: "grow" }), button),
    el("dl", { class: "facts" },
      detail("Provider", outcome.provider), detail("Reason", outcome.reason),
      detail("Provider's id", outcome.providerMessageId), detail("Attempts", outcome.attempts && outcome.attempts.length),
      detail("Scheduled at", outcome.scheduledAt && when(outcome.scheduledAt))),
    outcome.devices && outcome.devices.length ? devices(outcome.devices) : null);
}

const TITLES = {
  accepted: () => "Accepted",
  scheduled: () => "Scheduled",
  attempt: (e) => `${titleOf(e.channel)} attempt · ${e.provider || "no provider"}`,
  device: (e) => `Push to ${e.deviceKind || "device"}`,
  feedback: (e) => `E-mail feedback: ${e.status}`,
  read: () => "Read in the widget",
  webhook: (e) => `Webhook ${e.eventType} → ${e.webhookId}`,
};

function entry(e) {
  const state = e.outcome || e.status;
  const facts = [
    e.deviceId && `device ${e.deviceId}`, e.to && `to ${e.to}`,
    e.attempts !== undefined && `${e.attempts} attempt${e.attempts === 1 ? "" : "s"}`,
    e.statusCode && `HTTP ${e.statusCode}`,
  ].filter(Boolean).join(" · ");
  return el("li", { class: `tl-item ${tone(state || e.kind)}`, "data-kind": e.kind },
    el("span", { class: "tl-dot", "aria-hidden": "true" }),
    el("div", { class: "tl-body" },
      el("div", { class: "tl-head" }, el("strong", { text: (TITLES[e.kind] || (() => e.kind))(e) }), state ? chip(state) : null,
        el("time", { class: "dim small", datetime: e.at, text: when(e.at) })),
      facts ? el("p", { class: "dim small", text: facts }) : null,
      e.error ? el("p", { class: "tl-error", text: e.error }) : null));
}

function confirmUnknown(name) {
  return new Promise((resolve) => {
    const dialog = el("dialog", { id: "confirm-retry", "aria-labelledby": "confirm-title" },
      el("h2", { id: "confirm-title", text: `Retry ${titleOf(name)}? It may arrive twice` }),
      el("p", { text: `The ${titleOf(name)} channel is unknown: the provider call was cut short, so it may have reached the user already. A retry may arrive twice.` }),
      el("div", { class: "actions" },
        el("button", { class: "btn", type: "button", id: "confirm-cancel", text: "Cancel", onclick: () => dialog.close("") }),
        el("button", { class: "btn danger-fill", type: "button", id: "confirm-yes", text: "Retry anyway", onclick: () => dialog.close("yes") })));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(dialog.returnValue === "yes"); });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector("#confirm-cancel").focus();
  });
}

async function settled(id) {
  for (let tries = 0; tries < 40; tries += 1) {
    const { message } = await inProject(`messages.get?id=${encodeURIComponent(id)}`);
    if (OVER.includes(message.status)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function messagePage(main) {
  const id = decodeURIComponent(window.location.pathname.split("/").pop());
  const notice = el("p", { class: "retry-status", id: "retry-status", role: "status", tabindex: "-1" });
  const error = el("p", { class: "preview-error", id: "retry-error", role: "alert", hidden: true });
  async function retry(name, status) {
    error.hidden = true;
    const confirmed = status === "unknown" && await confirmUnknown(name);
    if (status === "unknown" && !confirmed) return;
    try {
      await inProject("messages.retry", { id, channel: name, confirmUnknown: confirmed });
    } catch (refused) {
      Object.assign(error, { hidden: false, textContent: refused.message });
      return;
    }
    notice.textContent = `${titleOf(name)} sent again; waiting for its outcome…`;
    notice.focus();
    await settled(id);
    await draw();
    notice.textContent = `${titleOf(name)} retried: now ${document.querySelector(`#channel-${name} .chip`).textContent}.`;
    notice.focus();
  }
  async function draw() {
    const query = `id=${encodeURIComponent(id)}`;
    const [{ message }, { timeline }] = await Promise.all([inProject(`messages.get?${query}`), inProject(`messages.timeline?${query}`)]);
    main.replaceChildren(
      el("a", { class: "back", href: `${base}/messages`, text: "← Messages" }),
      el("div", { class: "page-head" },
        el("div", {}, el("h1", {}, el("code", { class: "title-id", text: message.id }), " ", chip(message.status)),
          el("p", { class: "dim" }, `${message.notificationId} to `, el("code", { text: message.userId }), ` · created `,
            el("time", { datetime: message.createdAt, text: when(message.createdAt) }),
            message.error ? ` · ${message.error}: ${message.message}` : ""))),
      notice, error,
      el("div", { class: "message-grid" },
        el("div", { class: "card" }, el("h2", { text: "Channels" }),
          Object.entries(message.channels).map(([name, outcome]) => channel(message, name, outcome, retry))),
        el("div", { class: "card" }, el("h2", { text: "Timeline" }),
          el("ol", { class: "timeline", id: "timeline" }, timeline.map(entry)))));
  }
  await draw();
}
