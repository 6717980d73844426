// The console's script: the project switcher, then the page the server named.

import { call, el, project } from "./api.js";
import { editor } from "./editor.js";
import { list } from "./list.js";
import { messageLog } from "./messages.js";
import { messagePage } from "./timeline.js";
import { providers } from "./providers.js";
import { users } from "./users.js";

// Each view the server names: the function that fills the page, and its section in the nav.
const VIEWS = {
  list: { section: "notifications", draw: list },
  edit: { section: "notifications", draw: (main) => editor(main, document.body.dataset.notification) },
  messages: { section: "messages", draw: messageLog },
  message: { section: "messages", draw: messagePage },
  users: { section: "users", draw: users },
  providers: { section: "providers", draw: providers },
};

async function switcher() {
  const select = document.getElementById("project-switch");
  const { projects } = await call("projects");
  select.replaceChildren(...projects.map((p) => el("option", { value: p.id, selected: p.id === project, text: p.name })));
  select.disabled = projects.length < 2;
  select.addEventListener("change", () => {
    window.location.assign(`/console/${encodeURIComponent(select.value)}/notifications`);
  });
}

async function start() {
  const main = document.getElementById("main");
  const shown = VIEWS[document.body.dataset.view] || VIEWS.list;
  for (const link of document.querySelectorAll(".sections a")) {
    if (link.dataset.section === shown.section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    await Promise.all([switcher(), shown.draw(main)]);
  } catch (error) {
    main.replaceChildren(el("p", { class: "preview-error", role: "alert", text: error.message }));
  }
  document.body.dataset.loaded = "true";
}

start();
