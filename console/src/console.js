// The console's script: the project switcher, then the page the server named.

import { call, el, project } from "./api.js";
import { editor } from "./editor.js";
import { list } from "./list.js";
import { providers } from "./providers.js";
import { users } from "./users.js";

const PAGES = { edit: editor, list, users, providers };

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
  const { view, notification } = document.body.dataset;
  for (const link of document.querySelectorAll(".sections a")) {
    if (link.dataset.view.split(" ").includes(view)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  try {
    await Promise.all([switcher(), (PAGES[view] || list)(main, notification)]);
  } catch (error) {
    main.replaceChildren(el("p", { class: "preview-error", role: "alert", text: error.message }));
  }
  document.body.dataset.loaded = "true";
}

start();
