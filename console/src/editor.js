// One notification's editor: settings, each language's templates of each channel, the live
// preview beside them, save, delete and a test send. Every call is the API's own function.

import { el, inProject, project } from "./api.js";
import { CHANNELS, placeOf } from "./channels.js";
import { codeField } from "./code.js";
import { drawPreview } from "./preview.js";

const blank = () => ({
  id: "", name: "", defaultLanguage: "en", stackTimeout: 86400, quietHours: null,
  withEmail: true, templates: { en: {} },
});

export async function editor(main, notificationId) {
  const saved = notificationId
    ? (await inProject(`notifications.get?id=${encodeURIComponent(notificationId)}`)).notification
    : null;
  const n = saved ? structuredClone(saved) : blank();
  n.templates = n.templates || {};
  if (!Object.keys(n.templates).length) n.templates[n.defaultLanguage] = {};
  const firstOn = CHANNELS.find((c) => n[c.flag]) || CHANNELS[0];
  const ui = { language: n.defaultLanguage, channel: firstOn.key, editors: {}, error: null, timer: null };
  const sampleKey = `herald.console.sample.${project}.${notificationId || "new"}`;

  const status = el("span", { class: "save-status", id: "save-status", role: "status" });
  const formError = el("p", { class: "field-error", id: "form-error", role: "alert" });
  const templatesBox = el("div", { class: "templates-body" });
  const tabsBox = el("div", { class: "tabs-row" });
  const previewBox = el("div", { id: "preview", class: "preview-body", "aria-live": "polite" });
  const sample = el("textarea", {
    id: "sample-data", class: "mono", rows: 4, spellcheck: "false",
    "aria-describedby": "sample-note",
  });
  sample.value = localStorage.getItem(sampleKey) || '{\n  "name": "Ann"\n}';
  const previewUser = el("input", { id: "preview-user", placeholder: "none: sample data only", autocomplete: "off" });

  const body = () => {
    const out = {
      id: n.id, name: n.name, defaultLanguage: n.defaultLanguage,
      stackTimeout: Number(n.stackTimeout), templates: cleanTemplates(n.templates),
    };
    if (n.quietHours && (n.quietHours.start || n.quietHours.end)) out.quietHours = n.quietHours;
    for (const c of CHANNELS) {
      out[c.flag] = Boolean(n[c.flag]);
      out[c.mute] = Boolean(n[c.mute]);
    }
    return out;
  };

  // ---- preview, debounced, through templates.preview's function
  const schedulePreview = () => {
    clearTimeout(ui.timer);
    ui.timer = setTimeout(runPreview, 300);
  };
  async function runPreview() {
    let data;
    try {
      data = JSON.parse(sample.value || "{}");
      localStorage.setItem(sampleKey, sample.value);
    } catch (error) {
      showPreviewError(`Sample data: ${error.message}`);
      return;
    }
    const request = { notification: { ...body(), id: n.id || "preview", name: n.name || "Preview" }, language: ui.language, data };
    if (previewUser.value.trim()) request.userId = previewUser.value.trim();
    try {
      const answer = await inProject("templates.preview", request);
      setError(null);
      drawPreview(previewBox, ui.channel, answer);
      previewBox.dataset.state = "ok";
    } catch (refused) {
      setError(refused);
      showPreviewError(refused.message);
    }
  }
  function showPreviewError(message) {
    previewBox.replaceChildren(el("p", { class: "preview-error", id: "preview-error", role: "alert", text: message }));
    previewBox.dataset.state = "error";
  }

  // ---- errors: next to the field the API's sentence names, its line marked
  function setError(refused) {
    ui.error = refused ? { place: placeOf(refused.message), message: refused.message, code: refused.code } : null;
    applyError();
  }
  function applyError() {
    main.querySelectorAll(".field-error[data-field]").forEach((node) => { node.textContent = ""; });
    main.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
    Object.values(ui.editors).forEach((editor) => editor.mark(null));
    formError.textContent = "";
    if (!ui.error) return;
    const { place, message, code } = ui.error;
    if (place) {
      const here = place.language === ui.language && place.channel === ui.channel;
      const slot = here && main.querySelector(`.field-error[data-field="tpl-${place.field}"]`);
      if (slot) {
        slot.textContent = message;
        ui.editors[place.field]?.mark(place.line);
        return;
      }
    }
    const field = code && code.split("/")[0];
    const slot = field && main.querySelector(`.field-error[data-field="${field}"]`);
    (slot || formError).textContent = message;
    main.querySelector(`[name="${field}"]`)?.setAttribute("aria-invalid", "true");
  }

  // ---- templates: language tabs, channel tabs, the fields
  function drawTabs() {
    const languages = Object.keys(n.templates);
    const add = el("input", { id: "add-language", placeholder: "pt-BR", size: 6, "aria-label": "Language to add" });
    const addLanguage = () => {
      const tag = add.value.trim();
      if (!tag || n.templates[tag]) return;
      n.templates[tag] = {};
      ui.language = tag;
      drawAll();
      schedulePreview();
    };
    add.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); addLanguage(); } });
    tabsBox.replaceChildren(
      el("div", { class: "tabs", role: "group", "aria-label": "Language" },
        languages.map((tag) => el("button", {
          type: "button", class: "tab", "aria-pressed": String(tag === ui.language), "data-language": tag,
          onclick: () => { ui.language = tag; drawAll(); schedulePreview(); },
        }, tag, tag === n.defaultLanguage ? el("span", { class: "dim", text: " · default" }) : null))),
      el("div", { class: "tabs", role: "group", "aria-label": "Channel" },
        CHANNELS.map((c) => el("button", {
          type: "button", class: "tab", "aria-pressed": String(c.key === ui.channel), "data-channel": c.key,
          onclick: () => { ui.channel = c.key; drawAll(); schedulePreview(); },
        }, c.title, n[c.flag] ? null : el("span", { class: "dim", text: " · off" })))),
      el("div", { class: "language-tools" }, add,
        el("button", { type: "button", class: "btn", id: "add-language-button", onclick: addLanguage, text: "Add language" }),
        languages.length > 1 && ui.language !== n.defaultLanguage
          ? el("button", {
            type: "button", class: "btn ghost danger", id: "remove-language",
            onclick: () => { delete n.templates[ui.language]; ui.language = n.defaultLanguage; drawAll(); schedulePreview(); },
          }, `Remove ${ui.language}`)
          : null),
    );
  }

  function drawFields() {
    Object.values(ui.editors).forEach((editor) => editor.view.destroy());
    ui.editors = {};
    const channel = CHANNELS.find((c) => c.key === ui.channel);
    const values = (n.templates[ui.language] ||= {})[channel.key] ||= {};
    templatesBox.replaceChildren(...channel.fields.map((field) => {
      const id = `tpl-${field.name}`;
      const error = el("p", { class: "field-error", "data-field": id, id: `${id}-error` });
      const label = el("label", { for: id }, field.label, field.hint ? el("span", { class: "dim", text: ` · ${field.hint}` }) : null);
      if (field.plain || field.json) {
        const input = field.json
          ? el("textarea", { id, class: "mono", rows: 3, spellcheck: "false" })
          : el("input", { id, autocomplete: "off" });
        input.value = field.json ? (values.data ? JSON.stringify(values.data, null, 2) : "") : values[field.name] || "";
        input.addEventListener("input", () => {
          if (!field.json) values[field.name] = input.value;
          else {
            try { values.data = input.value.trim() ? JSON.parse(input.value) : null; error.textContent = ""; }
            catch (e) { error.textContent = `Not JSON yet: ${e.message}`; return; }
          }
          schedulePreview();
        });
        return el("div", { class: "field" }, label, input, error);
      }
      const box = el("div", { class: `code${field.lines === 1 ? " one-line" : ""}` });
      ui.editors[field.name] = codeField({
        parent: box, value: values[field.name], label: `${channel.title} ${field.label}`, id,
        isHtml: field.html, lines: field.lines,
        onChange: (text) => { values[field.name] = text; schedulePreview(); },
      });
      return el("div", { class: "field" }, el("label", { onclick: () => ui.editors[field.name].focus() },
        field.label, field.hint ? el("span", { class: "dim", text: ` · ${field.hint}` }) : null), box, error);
    }));
  }

  function drawAll() {
    drawTabs();
    drawFields();
    applyError();
  }

  // ---- settings
  const input = (name, label, attributes = {}) => {
    const node = el("input", { id: `f-${name}`, name, autocomplete: "off", ...attributes });
    node.value = n[name] ?? "";
    node.addEventListener("input", () => { n[name] = node.value; schedulePreview(); });
    return el("div", { class: "field" }, el("label", { for: `f-${name}`, text: label }), node,
      el("p", { class: "field-error", "data-field": name }));
  };
  const check = (name, label) => {
    const node = el("input", { type: "checkbox", id: `f-${name}`, name });
    node.checked = Boolean(n[name]);
    node.addEventListener("change", () => { n[name] = node.checked; drawTabs(); schedulePreview(); });
    return el("label", { class: "check", for: `f-${name}` }, node, label);
  };
  const quiet = (end) => {
    const node = el("input", { type: "time", id: `f-quiet-${end}`, name: "quietHours" });
    node.value = n.quietHours?.[end] || "";
    node.addEventListener("input", () => {
      n.quietHours = { ...(n.quietHours || {}), [end]: node.value };
      if (!n.quietHours.start && !n.quietHours.end) n.quietHours = null;
    });
    return el("label", { class: "inline", for: `f-quiet-${end}` }, end === "start" ? "from" : "until", node);
  };
  const defaultLanguage = el("select", { id: "f-defaultLanguage", name: "defaultLanguage" },
    Object.keys(n.templates).map((tag) => el("option", { value: tag, selected: tag === n.defaultLanguage, text: tag })));
  defaultLanguage.addEventListener("change", () => { n.defaultLanguage = defaultLanguage.value; drawAll(); schedulePreview(); });
  defaultLanguage.addEventListener("focus", () => {
    defaultLanguage.replaceChildren(...Object.keys(n.templates).map((tag) => el("option", { value: tag, selected: tag === n.defaultLanguage, text: tag })));
  });

  const settings = el("section", { class: "card settings", "aria-labelledby": "settings-title" },
    el("h2", { id: "settings-title", text: "Settings" }),
    el("div", { class: "row" },
      input("id", "Id", saved ? { readonly: true } : { required: true, placeholder: "order-shipped" }),
      input("name", "Name", { required: true, placeholder: "Order shipped" })),
    el("fieldset", { class: "channels" }, el("legend", { text: "Channels" }),
      CHANNELS.map((c) => el("div", { class: "channel-row" },
        el("strong", { text: c.title }), check(c.flag, "send"), check(c.mute, "user may mute")))),
    el("div", { class: "row" },
      el("div", { class: "field" }, el("label", { for: "f-defaultLanguage", text: "Default language" }), defaultLanguage,
        el("p", { class: "field-error", "data-field": "defaultLanguage" })),
      input("stackTimeout", "Stack timeout (s)", { type: "number", min: 0, step: 1 })),
    el("fieldset", { class: "field quiet" },
      el("legend", {}, "Quiet hours ", el("span", { class: "dim", text: "· in the user's timezone; e-mail, SMS and push wait, the widget does not" })),
      el("div", { class: "inline-row" }, quiet("start"), quiet("end")),
      el("p", { class: "field-error", "data-field": "quietHours" })),
  );

  // ---- save, delete, test send
  async function save() {
    status.textContent = "Saving…";
    try {
      const answer = await inProject("notifications.upsert", body());
      setError(null);
      status.textContent = `Saved ${new Date(answer.notification.updatedAt).toLocaleTimeString()}`;
      if (!saved) {
        localStorage.setItem(`herald.console.sample.${project}.${answer.notification.id}`, sample.value);
        window.location.assign(`/console/${encodeURIComponent(project)}/notifications/${encodeURIComponent(answer.notification.id)}?saved=1`);
      }
    } catch (refused) {
      status.textContent = "Not saved";
      const place = placeOf(refused.message);
      if (place && n.templates[place.language]) {
        ui.language = place.language;
        ui.channel = place.channel;
        ui.error = { place, message: refused.message, code: refused.code };
        drawAll();
        ui.editors[place.field]?.focus();
      } else setError(refused);
    }
  }

  const dialog = el("dialog", { id: "confirm-delete", "aria-labelledby": "confirm-title" },
    el("h2", { id: "confirm-title", text: `Delete ${n.id}?` }),
    el("p", { text: "Its templates are removed; messages already sent stay in the log." }),
    el("form", { method: "dialog", class: "actions" },
      el("button", { class: "btn", value: "cancel", text: "Cancel", autofocus: true }),
      el("button", { class: "btn danger-fill", value: "delete", id: "confirm-delete-button", text: "Delete" })));
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "delete") return;
    await inProject("notifications.delete", { id: n.id });
    window.location.assign(`/console/${encodeURIComponent(project)}/notifications`);
  });

  const sendUser = el("input", { id: "send-user", placeholder: "user id", autocomplete: "off" });
  const sendResult = el("div", { id: "send-result", class: "send-result", role: "status" });
  async function testSend(event) {
    event.preventDefault();
    sendResult.textContent = "Sending…";
    try {
      const data = JSON.parse(sample.value || "{}");
      const { result } = await inProject("messages.send", { notificationId: n.id, userId: sendUser.value.trim(), data });
      sendResult.replaceChildren(sendSummary(result));
    } catch (refused) {
      sendResult.replaceChildren(el("p", { class: "preview-error", text: refused.message }));
    }
  }

  const title = saved ? n.name : "New notification";
  main.replaceChildren(
    el("div", { class: "page-head" },
      el("div", {}, el("a", { href: `/console/${encodeURIComponent(project)}/notifications`, class: "dim small", text: "← Notifications" }),
        el("h1", { text: title }), saved ? el("p", { class: "dim small" }, el("code", { text: n.id })) : null),
      el("div", { class: "actions" }, status,
        saved ? el("button", { type: "button", class: "btn ghost danger", id: "delete", onclick: () => dialog.showModal(), text: "Delete" }) : null,
        el("button", { type: "button", class: "btn primary", id: "save", onclick: save, text: "Save" }))),
    formError,
    el("div", { class: "editor-grid" },
      el("div", { class: "left" }, settings,
        el("section", { class: "card templates", "aria-labelledby": "templates-title" },
          el("h2", { id: "templates-title", text: "Templates" }), tabsBox, templatesBox)),
      el("aside", { class: "card preview", "aria-labelledby": "preview-title" },
        el("h2", { id: "preview-title" }, "Preview ", el("span", { class: "dim", text: "as you type" })),
        previewBox,
        el("div", { class: "field" }, el("label", { for: "sample-data", text: "Sample data (JSON)" }), sample,
          el("p", { class: "dim small", id: "sample-note", text: "Kept in this browser only, not with the notification." })),
        el("div", { class: "field" }, el("label", { for: "preview-user", text: "Profile of user" }), previewUser),
        el("form", { class: "test-send", onsubmit: testSend },
          el("h3", { text: "Test send" }),
          saved
            ? el("div", { class: "inline-row" }, el("label", { for: "send-user", class: "sr-only", text: "User id" }), sendUser,
              el("button", { class: "btn", type: "submit", id: "send", text: "Send" }))
            : el("p", { class: "dim small", text: "Save first: a test send sends the saved notification." }),
          sendResult))),
    dialog,
  );
  sample.addEventListener("input", schedulePreview);
  previewUser.addEventListener("input", schedulePreview);
  main.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") { event.preventDefault(); save(); }
  });
  drawAll();
  if (new URLSearchParams(window.location.search).has("saved")) status.textContent = "Saved";
  runPreview();
}

function cleanTemplates(templates) {
  const out = {};
  for (const [language, channels] of Object.entries(templates)) {
    out[language] = {};
    for (const [channel, fields] of Object.entries(channels || {})) {
      const kept = Object.fromEntries(Object.entries(fields || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined));
      if (Object.keys(kept).length) out[language][channel] = kept;
    }
  }
  return out;
}

function sendSummary(result) {
  if (!result.ok) return el("p", { class: "preview-error", text: `${result.error}: ${result.message}` });
  return el("div", {},
    el("p", {}, el("strong", { text: result.status }), " ", el("code", { text: result.id })),
    el("ul", { class: "outcomes" }, Object.entries(result.channels || {}).map(([channel, outcome]) =>
      el("li", {}, el("span", { class: `chip ${outcome.status}`, text: outcome.status }), ` ${channel}`,
        outcome.reason ? el("span", { class: "dim", text: ` · ${outcome.reason}` }) : null))),
    result.emailError ? el("p", { class: "preview-error", text: result.emailError }) : null,
    result.smsError ? el("p", { class: "preview-error", text: result.smsError }) : null);
}
