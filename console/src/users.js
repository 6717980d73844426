// The Users page: find a user by id or e-mail; their profile, preferences, devices,
// suppressions and feed as the bell shows it. Removals answer in place.

import { el, inProject, project } from "./api.js";

const base = `/console/${encodeURIComponent(project)}/users`;
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—");
const PROFILE = ["email", "telephone", "firstName", "lastName", "photoURL", "language", "timezone", "country"];

function finder(value = "") {
  const input = el("input", { id: "user-q", name: "q", value, placeholder: "user id or e-mail address", autocomplete: "off", "aria-describedby": "find-error" });
  const error = el("p", { class: "error", id: "find-error", role: "alert" });
  const form = el("form", { class: "finder", role: "search" },
    el("label", { for: "user-q", class: "sr-only", text: "User id or e-mail" }), input,
    el("button", { class: "btn primary", type: "submit", id: "user-find", text: "Find" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      const { user } = await inProject(`users.find?q=${encodeURIComponent(input.value.trim())}`);
      window.location.assign(`${base}/${encodeURIComponent(user.id)}`);
    } catch (refused) {
      error.textContent = refused.message;
    }
  });
  return el("div", {}, form, error);
}

const card = (title, id, ...body) => el("section", { class: "card", id, "aria-labelledby": `${id}-h` }, el("h2", { id: `${id}-h`, text: title }), ...body);
const table = (heads, rows, id) => el("table", { class: "list compact", id },
  el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col", text: h })))), el("tbody", {}, rows));
const none = (text) => el("p", { class: "dim", text });

function profile(user) {
  const rows = PROFILE.filter((name) => user[name]).flatMap((name) => [el("dt", { text: name }), el("dd", { text: user[name] })]);
  const data = Object.keys(user.data || {}).length ? [el("dt", { text: "data" }), el("dd", {}, el("pre", { class: "mono", text: JSON.stringify(user.data, null, 2) }))] : [];
  return card("Profile", "profile", el("dl", { class: "facts" }, rows, data,
    el("dt", { text: "created" }), el("dd", { class: "dim", text: when(user.createdAt) }),
    el("dt", { text: "updated" }), el("dd", { class: "dim", text: when(user.updatedAt) })));
}

function preferences(user) {
  const entries = Object.values(user.preferences || {});
  if (!entries.length) return card("Preferences", "preferences", none("No preference: every channel is on."));
  const mutes = [...new Set(entries.flatMap((p) => Object.keys(p).filter((k) => k !== "notificationId")))].sort();
  const rows = entries.map((p) => el("tr", {}, el("td", {}, el("code", { text: p.notificationId })),
    mutes.map((m) => el("td", {}, el("span", { class: `chip ${p[m] ? "failed" : "sent"}`, text: p[m] ? "muted" : "on" })))));
  return card("Preferences", "preferences", table(["Notification", ...mutes.map((m) => m.replace(/^mute/, ""))], rows, "preferences-table"));
}

function removal(label, id, run) {
  const button = el("button", { class: "btn danger small-btn", type: "button", id, text: "Remove", "aria-label": label });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run();
      button.closest("tr").remove();
    } catch (refused) {
      button.disabled = false;
      button.replaceWith(el("span", { class: "error", role: "alert", text: refused.message }));
    }
  });
  return button;
}

function devices(user) {
  if (!user.devices.length) return card("Devices", "devices", none("No push device."));
  const rows = user.devices.map((d) => el("tr", {}, el("td", { text: d.kind }), el("td", {}, el("code", { text: d.token || d.endpoint })),
    el("td", { class: "dim", text: when(d.createdAt) }),
    el("td", { class: "end" }, removal(`Remove the ${d.kind} device ${d.id}`, `remove-${d.id}`,
      () => inProject("users.devices.remove", { userId: user.id, deviceId: d.id })))));
  return card("Devices", "devices", table(["Kind", "Token", "Added", ""], rows, "devices-table"));
}

function suppressions(held) {
  if (!held.length) return card("Suppressions", "suppressions", none("E-mail reaches this address."));
  const rows = held.map((s) => el("tr", {}, el("td", {}, el("code", { text: s.address })), el("td", { text: s.reason }),
    el("td", { class: "dim", text: when(s.createdAt) }),
    el("td", { class: "end" }, removal(`Remove the suppression of ${s.address}`, "remove-suppression",
      () => inProject("suppressions.remove", { address: s.address })))));
  return card("Suppressions", "suppressions", table(["Address", "Reason", "Since", ""], rows, "suppressions-table"));
}

function feed({ messages, total, unread }) {
  const entries = messages.map((m) => el("li", { class: `entry${m.readAt ? "" : " unread"}` },
    el("div", { class: "entry-text" }, el("div", { text: m.content || "" }),
      el("div", { class: "dim small" }, el("time", { datetime: m.feedAt, text: when(m.feedAt) }), " · ", el("code", { text: m.notificationId }),
        m.readAt ? ` · read ${when(m.readAt)}` : "")),
    m.readAt ? null : el("span", { class: "dot", title: "unread", "aria-label": "unread" })));
  return card("Feed", "feed", el("p", { class: "dim small", text: `${total} in the feed, ${unread} unread, as the bell shows them.` }),
    messages.length ? el("ul", { class: "bell-panel feed-list", id: "feed-list" }, entries) : none("The feed is empty."));
}

export async function users(main) {
  const userId = decodeURIComponent(window.location.pathname.split("/users/")[1] || "");
  const head = (title, sentence) => el("div", { class: "page-head" },
    el("div", {}, el("h1", { text: title }), el("p", { class: "dim", text: sentence })), finder());
  if (!userId) {
    main.replaceChildren(head("Users", "Find a user by id or e-mail address."));
    return;
  }
  const [{ user, suppressions: held }, shown] = await Promise.all([
    inProject(`users.get?id=${encodeURIComponent(userId)}`), inProject(`users.feed?id=${encodeURIComponent(userId)}`)]);
  const name = [user.firstName, user.lastName].filter(Boolean).join(" ");
  main.replaceChildren(head(user.id, name || user.email || "A user"),
    el("div", { class: "user-grid" },
      el("div", { class: "left" }, profile(user), preferences(user), devices(user), suppressions(held)),
      el("div", { class: "left" }, feed(shown))));
}
