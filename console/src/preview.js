// The live preview: what templates.preview answers, drawn as each channel shows it.

import { el } from "./api.js";

function emailPreview(email) {
  const frame = el("iframe", { sandbox: "", title: "E-mail preview", class: "mail-frame" });
  frame.srcdoc = email.html || `<pre style="white-space:pre-wrap;font:14px system-ui">${
    (email.text || "").replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c])}</pre>`;
  return el("div", { class: "mail" },
    el("div", { class: "mail-head" },
      el("div", {}, el("span", { class: "dim", text: "Subject " }), el("strong", { id: "pv-subject", text: email.subject || "" })),
      email.from ? el("div", { class: "dim small", text: `From ${email.fromName ? `${email.fromName} <${email.from}>` : email.from}` }) : null),
    frame,
    el("details", { class: "mail-text" }, el("summary", { text: "Text part" }), el("pre", { id: "pv-text", text: email.text || "" })));
}

function smsPreview(sms) {
  return el("div", { class: "phone" },
    el("div", { class: "bubble", id: "pv-sms", text: sms.text || "" }),
    el("p", { class: "dim small", id: "pv-sms-count" },
      `${sms.length} characters · ${sms.segments} ${sms.segments === 1 ? "segment" : "segments"} · ${sms.encoding}`));
}

function widgetPreview(widget) {
  // The bell's entry: icon, content (HTML the template escaped), time, unread dot.
  const content = el("div", { class: "entry-content", id: "pv-widget" });
  content.innerHTML = sanitize(widget.content || "");
  return el("div", { class: "bell-panel" },
    el("div", { class: "bell-head", text: "Notifications" }),
    el("div", { class: "entry unread" },
      widget.icon ? el("img", { class: "entry-icon", src: widget.icon, alt: "" }) : el("span", { class: "entry-icon blank" }),
      el("div", {}, content, el("div", { class: "dim small", text: widget.link ? `just now · ${widget.link}` : "just now" })),
      el("span", { class: "dot", "aria-label": "unread" })));
}

function pushPreview(push) {
  return el("div", { class: "device" },
    el("div", { class: "toast" },
      push.icon ? el("img", { class: "toast-icon", src: push.icon, alt: "" }) : el("span", { class: "toast-icon blank" }),
      el("div", {},
        el("div", { class: "toast-app dim small", text: "Herald · now" }),
        el("strong", { id: "pv-push-title", text: push.title || "" }),
        el("div", { id: "pv-push-body", text: push.body || "" }),
        push.url ? el("div", { class: "dim small", text: push.url }) : null)));
}

// The widget content is HTML made by a template that escapes its values; the preview still
// drops scripts and handlers, as the bell does when it draws an entry.
function sanitize(markup) {
  const doc = new DOMParser().parseFromString(`<div>${markup}</div>`, "text/html");
  doc.querySelectorAll("script,style,iframe,object,embed").forEach((node) => node.remove());
  doc.querySelectorAll("*").forEach((node) => {
    for (const attribute of [...node.attributes]) {
      if (/^on/i.test(attribute.name) || /^\s*javascript:/i.test(attribute.value)) node.removeAttribute(attribute.name);
    }
  });
  return doc.body.firstChild.innerHTML;
}

const DRAW = { email: emailPreview, sms: smsPreview, widget: widgetPreview, push: pushPreview };

export function drawPreview(target, channel, answer) {
  const shown = answer[channel];
  target.replaceChildren(
    shown ? DRAW[channel](shown) : el("p", { class: "dim", text: "This channel is off: turn it on in Settings to preview it." }),
    answer.undefined && answer.undefined.length
      ? el("p", { class: "undefined", id: "pv-undefined" }, "Undefined: ", answer.undefined.map((name) => el("code", { text: name })))
      : el("p", { class: "dim small", id: "pv-undefined", text: `Rendered in ${answer.language}; every name had a value.` }),
  );
}
