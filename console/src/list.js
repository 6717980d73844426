// The project's notifications: id, name, channels, last update.

import { el, inProject, project } from "./api.js";
import { CHANNELS } from "./channels.js";

const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

export async function list(main) {
  const { notifications } = await inProject("notifications.list");
  const base = `/console/${encodeURIComponent(project)}`;
  const rows = notifications.map((n) => el("tr", {},
    el("td", {}, el("a", { href: `${base}/notifications/${encodeURIComponent(n.id)}` }, el("code", { text: n.id }))),
    el("td", { text: n.name }),
    el("td", {}, CHANNELS.filter((c) => n[c.flag]).map((c) => el("span", { class: `chip ${c.key}`, text: c.title }))),
    el("td", { class: "dim" }, el("time", { datetime: n.updatedAt, text: when(n.updatedAt) }))));
  main.replaceChildren(
    el("div", { class: "page-head" },
      el("div", {}, el("h1", { text: "Notifications" }),
        el("p", { class: "dim", text: "What each message says, on each channel, in each language." })),
      el("a", { class: "btn primary", href: `${base}/new`, id: "new-notification", text: "New notification" })),
    notifications.length
      ? el("div", { class: "card flush" }, el("table", { class: "list", id: "notifications" },
        el("thead", {}, el("tr", {}, ["Id", "Name", "Channels", "Updated"].map((h) => el("th", { scope: "col", text: h })))),
        el("tbody", {}, rows)))
      : el("div", { class: "card empty", id: "notifications" },
        el("p", { text: "No notification yet." }),
        el("p", { class: "dim", text: "A notification holds the templates a message is rendered from." })),
  );
}
