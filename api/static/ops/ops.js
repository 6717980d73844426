"use strict";
// The operator page: reads /ops/data every few seconds and draws it as inline SVG.
const REFRESH_MS = 5000;
const SVG = "http" + "://www.w3.org/2000/svg";

function el(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function gridlines(svg, width, height) {
  for (const y of [0.25, 0.5, 0.75, 1]) {
    el("line", { x1: 0, x2: width, y1: height * y, y2: height * y, class: "gridline" }, svg);
  }
}

function drawOutcomes(outcomes) {
  const svg = document.getElementById("chart-outcomes");
  svg.replaceChildren();
  const width = 600, height = 140, n = outcomes.sent.length, slot = width / n;
  const max = Math.max(1, ...outcomes.sent.map((s, i) => s + outcomes.failed[i]));
  gridlines(svg, width, height);
  outcomes.sent.forEach((sent, i) => {
    const failed = outcomes.failed[i];
    const sentH = (sent / max) * (height - 6), failedH = (failed / max) * (height - 6);
    const x = i * slot + slot * 0.15, w = slot * 0.7;
    if (sent) el("rect", { x, y: height - sentH, width: w, height: sentH, class: "sent", rx: 1 }, svg);
    if (failed) el("rect", { x, y: height - sentH - failedH, width: w, height: failedH, class: "failed", rx: 1 }, svg);
  });
  const total = outcomes.sent.reduce((a, b) => a + b, 0);
  const failed = outcomes.failed.reduce((a, b) => a + b, 0);
  document.getElementById("total-line").textContent = `${total} sent · ${failed} failed · peak ${max}/min`;
}

function drawErrors(channels) {
  const svg = document.getElementById("chart-errors");
  svg.replaceChildren();
  const width = 300, height = 120;
  gridlines(svg, width, height);
  const summary = [];
  for (const channel of ["email", "sms"]) {
    const { total, errors } = channels[channel];
    const sum = (list) => list.reduce((a, b) => a + b, 0);
    const rate = sum(total) ? `${Math.round((sum(errors) / sum(total)) * 100)}%` : "–";
    summary.push(`${channel === "email" ? "e-mail" : "SMS"} ${rate}`);
    if (!sum(total)) continue; // no calls: no line to hide the other channel's under
    const step = width / (total.length - 1);
    const points = total.map((t, i) => `${(i * step).toFixed(1)},${(height - 2 - (t ? errors[i] / t : 0) * (height - 4)).toFixed(1)}`);
    el("polyline", { points: points.join(" "), class: `line ${channel}` }, svg);
  }
  document.getElementById("error-line").textContent = `last hour: ${summary.join(" · ")}`;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  return value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
}

function drawLatency(latency) {
  const box = document.getElementById("latency");
  box.replaceChildren();
  const names = { email: "E-mail (SES)", sms: "SMS (SNS)" };
  const channels = Object.keys(latency).filter((c) => latency[c].calls > 0);
  if (!channels.length) {
    box.innerHTML = '<p class="dim">No provider calls observed in the last hour.</p>';
    return;
  }
  const max = Math.max(...channels.map((c) => latency[c].p99 || 0), 0.001);
  for (const channel of channels) {
    const figures = latency[channel];
    const row = document.createElement("div");
    row.className = "lat-row";
    row.innerHTML = `<div class="name"><span>${names[channel] || channel}</span><span class="dim">${figures.calls} calls · mean ${seconds(figures.mean)}</span></div>`;
    const bars = document.createElement("div");
    bars.className = "lat-bars";
    for (const q of ["p50", "p90", "p99"]) {
      const pct = Math.min(100, ((figures[q] || 0) / max) * 100);
      // The width through the DOM: the page's policy refuses inline style attributes.
      bars.insertAdjacentHTML("beforeend", `<span class="dim">${q}</span><div class="track"><div class="fill"></div></div><span class="num">${seconds(figures[q])}</span>`);
      bars.lastElementChild.previousElementSibling.firstElementChild.style.width = `${pct}%`;
    }
    row.appendChild(bars);
    box.appendChild(row);
  }
}

function text(value) {
  const span = document.createElement("span");
  span.textContent = value === null || value === undefined ? "–" : String(value);
  return span.innerHTML;
}

function drawLetters(letters) {
  const body = document.getElementById("letters");
  if (!letters.length) {
    body.innerHTML = '<tr><td colspan="5" class="dim">None.</td></tr>';
    return;
  }
  body.innerHTML = letters.map((l) => `<tr><td><code>${text(l.messageId || l.jobId)}</code></td><td><code>${text(l.projectId)}</code></td><td>${text(l.status)}</td><td>${text(l.deadSince ? new Date(l.deadSince).toLocaleString() : "in this process")}</td><td><button class="btn" type="button" data-id="${text(l.jobId)}">Requeue</button></td></tr>`).join("");
}

const CIRCUITS = { closed: "closed", halfOpen: "half-open", open: "open", unknown: "unknown" };

function drawProviders(providers) {
  const body = document.getElementById("providers");
  if (!providers.length) {
    body.innerHTML = '<tr><td colspan="8" class="dim">None.</td></tr>';
    return;
  }
  body.innerHTML = providers.map((p) => `<tr><td>${text(p.channel === "email" ? "E-mail" : "SMS")} · <b>${text(p.name)}</b><br><code class="dim">${text(p.url)}</code></td><td><span class="circuit ${text(p.state)}">${text(CIRCUITS[p.state] || p.state)}</span></td><td class="num">${text(p.sent)}</td><td class="num">${text(p.failures)}</td><td class="num">${text(p.failed)}</td><td class="num">${text(p.skipped)}</td><td class="num">${seconds(p.meanSeconds)}</td><td>${p.lastError ? `<code>${text(p.lastError)}</code><br><span class="dim">${text(new Date(p.lastErrorAt * 1000).toLocaleString())}</span>` : '<span class="dim">–</span>'}</td></tr>`).join("");
}

const HOOK_STATES = { gone: "off: answered 410", failing: "off: failing", off: "off" };

function drawWebhooks(hooks) {
  document.getElementById("webhook-counts").textContent = `${hooks.enabled} on · ${hooks.failing} failing · ${hooks.disabled} turned off by Herald`;
  const body = document.getElementById("webhooks");
  if (!hooks.troubled.length) {
    body.innerHTML = '<tr><td colspan="5" class="dim">Every endpoint answers.</td></tr>';
    return;
  }
  body.innerHTML = hooks.troubled.map((w) => `<tr><td><b>${text(w.id)}</b><br><code class="dim">${text(w.url)}</code></td><td><code>${text(w.projectId)}</code></td><td><span class="hook ${text(w.state)}">${text(HOOK_STATES[w.state] || w.state)}</span></td><td>${w.failingSince ? `${text(new Date(w.failingSince).toLocaleString())}<br><span class="dim">${age(w.failingSeconds)}</span>` : '<span class="dim">–</span>'}</td><td class="num">${text(w.waiting)}</td></tr>`).join("");
}

function age(secondsWaiting) {
  if (secondsWaiting < 60) return `${Math.round(secondsWaiting)} s`;
  if (secondsWaiting < 3600) return `${Math.round(secondsWaiting / 60)} min`;
  if (secondsWaiting < 172800) return `${(secondsWaiting / 3600).toFixed(1)} h`;
  return `${(secondsWaiting / 86400).toFixed(1)} days`;
}

function draw(data) {
  for (const [name, value] of Object.entries(data.queue)) {
    const node = document.getElementById(`q-${name}`);
    if (node) node.textContent = value;
  }
  document.getElementById("q-deadLetters").classList.toggle("alert", data.queue.deadLetters > 0);
  const oldest = data.oldestWaiting;
  document.getElementById("oldest").textContent = oldest ? `${oldest.id} · ${age(oldest.waitingSeconds)}` : "Nothing waiting";
  document.getElementById("mode").textContent = data.mode;
  drawOutcomes(data.activity.outcomes);
  drawErrors(data.activity.channels);
  drawLatency(data.latency);
  drawProviders(data.providers);
  drawWebhooks(data.webhooks);
  drawLetters(data.deadLetters);
  document.getElementById("updated").textContent = `updated ${new Date(data.now).toLocaleTimeString()}`;
  document.body.dataset.loaded = "true";
}

async function refresh() {
  try {
    const response = await fetch("/ops/data", { credentials: "same-origin" });
    if (response.status === 401) { location.reload(); return; }
    draw(await response.json());
  } catch (error) {
    document.getElementById("updated").textContent = "cannot reach Herald";
  }
}

async function requeue(messageId) {
  await fetch("/ops/requeue", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(messageId ? { messageId } : {}),
  });
  refresh();
}

document.getElementById("requeue-all").addEventListener("click", () => requeue(null));
document.getElementById("letters").addEventListener("click", (event) => {
  const id = event.target.dataset && event.target.dataset.id;
  if (id) requeue(id);
});
refresh();
setInterval(refresh, REFRESH_MS);
