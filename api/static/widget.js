/*! Herald bell: the in-app notification feed for any page, no dependencies.
 *
 *   <script src="https://herald.example.com/widget.js"></script>
 *   <div id="bell"></div>
 *   <script>Herald.init({projectId, userId, userHmac, bellSelector: "#bell"})</script>
 *
 * Message HTML is never trusted: it is parsed into an inert document and rebuilt from a small
 * allow-list of tags and attributes, so no script, event handler or javascript: URL survives.
 */
(function (global) {
  "use strict";

  var SCRIPT = document.currentScript;
  var PAGE_SIZE = 20;

  var TEXT = {
    locale: "",
    bell: "Notifications",
    unread: "{count} unread",
    title: "Notifications",
    messagesTab: "Inbox",
    settingsTab: "Settings",
    markAllRead: "Mark all as read",
    close: "Close",
    empty: "You're all caught up",
    emptyHint: "New notifications will show up here.",
    loading: "Loading…",
    loadFailed: "Couldn't load your notifications.",
    retry: "Try again",
    justNow: "", // empty: the locale's own word for "now"
    settingsHint: "Choose where each kind of notification reaches you.",
    settingsEmpty: "There is nothing to set up yet.",
    saved: "Saved",
    saveFailed: "Couldn't save your settings.",
    channelWidget: "In-app",
    channelEmail: "Email",
    channelSMS: "SMS",
    newMessage: "New notification",
    unreadMessage: "Unread",
  };

  var CHANNELS = [
    { key: "Widget", text: "channelWidget" },
    { key: "Email", text: "channelEmail" },
    { key: "SMS", text: "channelSMS" },
  ];

  var BELL_ICON =
    '<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" ' +
    'stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M6 8a6 6 0 1 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>';
  var CLOSE_ICON =
    '<svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" ' +
    'stroke-width="2" stroke-linecap="round" aria-hidden="true"><path d="M18 6 6 18M6 6l12 12"/></svg>';
  var CHECK_ICON =
    '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" ' +
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M18 6 7 17l-5-5"/><path d="m22 10-7.5 7.5L13 16"/></svg>';

  var DARK =
    "--hd-accent:#8b93ff;--hd-accent-text:#0b1020;--hd-surface:#1a1d24;--hd-raised:#20242c;" +
    "--hd-text:#eceef3;--hd-muted:#a0a8b8;--hd-border:#2e333d;--hd-hover:#242933;" +
    "--hd-unread:#222740;--hd-track:#454b58;--hd-badge-ring:#1a1d24;" +
    "--hd-shadow:0 20px 50px -12px rgba(0,0,0,.7),0 0 0 1px rgba(255,255,255,.05)";

  var CSS = [
    ":host{all:initial;display:inline-block;position:relative;vertical-align:middle;color:inherit}",
    ":host([data-floating]){position:fixed;top:16px;right:16px;z-index:2147483000}",
    ".hd{--hd-accent:#4f46e5;--hd-accent-text:#fff;--hd-surface:#fff;--hd-raised:#f8fafc;",
    "--hd-text:#0f172a;--hd-muted:#64748b;--hd-border:#e2e8f0;--hd-hover:#f1f5f9;",
    "--hd-unread:#eef2ff;--hd-badge:#e11d48;--hd-badge-text:#fff;--hd-track:#cbd5e1;",
    "--hd-shadow:0 18px 48px -12px rgba(15,23,42,.28),0 4px 12px -4px rgba(15,23,42,.12);",
    "--hd-radius:14px;--hd-font:ui-sans-serif,system-ui,-apple-system,'Segoe UI',Roboto,",
    "'Helvetica Neue',Arial,sans-serif;font-family:var(--hd-font);font-size:14px;line-height:1.45;",
    "-webkit-font-smoothing:antialiased}",
    ".hd[data-theme=dark]{" + DARK + "}",
    "@media (prefers-color-scheme:dark){.hd[data-theme=auto]{" + DARK + "}}",
    "*,*::before,*::after{box-sizing:border-box}",
    "button{font:inherit;color:inherit;background:none;border:0;margin:0;padding:0;cursor:pointer}",
    "button:focus-visible,[tabindex]:focus-visible,a:focus-visible{outline:2px solid var(--hd-accent);",
    "outline-offset:2px;border-radius:8px}",
    ".hd-bell{position:relative;display:inline-flex;align-items:center;justify-content:center;",
    "width:40px;height:40px;border-radius:999px;color:inherit;transition:background .15s}",
    ".hd-bell:hover{background:rgba(127,127,127,.14)}",
    ".hd-bell[aria-expanded=true]{background:rgba(127,127,127,.18)}",
    ".hd-bell:focus-visible{border-radius:999px}",
    ".hd-badge{position:absolute;top:3px;right:1px;min-width:18px;height:18px;padding:0 5px;",
    "border-radius:999px;background:var(--hd-badge);color:var(--hd-badge-text);font-size:11px;",
    "font-weight:700;line-height:18px;text-align:center;font-variant-numeric:tabular-nums;",
    "box-shadow:0 0 0 2px var(--hd-badge-ring,#fff);pointer-events:none}",
    ".hd-badge[hidden]{display:none}",
    ".hd-panel{position:fixed;z-index:2147483001;width:384px;max-width:calc(100vw - 16px);",
    "display:flex;flex-direction:column;max-height:min(560px,calc(100vh - 24px));",
    "background:var(--hd-surface);color:var(--hd-text);border:1px solid var(--hd-border);",
    "border-radius:var(--hd-radius);box-shadow:var(--hd-shadow);overflow:hidden;",
    "animation:hd-in .14s ease-out}",
    ".hd-panel[hidden]{display:none}",
    "@keyframes hd-in{from{opacity:0;transform:translateY(-4px) scale(.985)}to{opacity:1;transform:none}}",
    "@media (prefers-reduced-motion:reduce){.hd-panel{animation:none}}",
    ".hd-head{display:flex;align-items:center;gap:8px;padding:14px 12px 10px 18px}",
    ".hd-title{flex:1;margin:0;font-size:16px;font-weight:650;letter-spacing:-.01em}",
    ".hd-action{display:inline-flex;align-items:center;gap:6px;height:30px;padding:0 10px;",
    "border-radius:8px;color:var(--hd-accent);font-size:13px;font-weight:550}",
    ".hd-action:hover{background:var(--hd-hover)}",
    ".hd-action[hidden]{display:none}",
    ".hd-action:disabled{color:var(--hd-muted);opacity:.6;cursor:default;background:none}",
    ".hd-icon{display:inline-flex;align-items:center;justify-content:center;width:30px;height:30px;",
    "border-radius:8px;color:var(--hd-muted)}",
    ".hd-icon:hover{background:var(--hd-hover);color:var(--hd-text)}",
    ".hd-tabs{display:flex;gap:4px;padding:0 14px;border-bottom:1px solid var(--hd-border)}",
    ".hd-tab{position:relative;display:inline-flex;align-items:center;gap:6px;padding:8px 6px 10px;",
    "margin:0 4px;color:var(--hd-muted);font-weight:550;font-size:13.5px}",
    ".hd-tab:hover{color:var(--hd-text)}",
    ".hd-tab[aria-selected=true]{color:var(--hd-text)}",
    ".hd-tab[aria-selected=true]::after{content:'';position:absolute;left:0;right:0;bottom:-1px;",
    "height:2px;border-radius:2px;background:var(--hd-accent)}",
    ".hd-tab:focus-visible{outline-offset:-2px}",
    ".hd-count{min-width:20px;height:18px;padding:0 6px;border-radius:999px;font-size:11px;",
    "font-weight:700;line-height:18px;text-align:center;background:var(--hd-unread);color:var(--hd-accent)}",
    ".hd-count[hidden]{display:none}",
    ".hd-body{flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain}",
    ".hd-body[hidden]{display:none}",
    ".hd-list{list-style:none;margin:0;padding:0}",
    ".hd-msg{position:relative;display:grid;grid-template-columns:36px 1fr 10px;gap:12px;",
    "padding:14px 16px 14px 18px;border-bottom:1px solid var(--hd-border);cursor:pointer;",
    "transition:background .12s}",
    ".hd-msg:last-child{border-bottom:0}",
    ".hd-msg:hover{background:var(--hd-hover)}",
    ".hd-msg:focus-visible{outline:2px solid var(--hd-accent);outline-offset:-2px;border-radius:0}",
    ".hd-msg[data-unread]{background:var(--hd-unread)}",
    ".hd-msg[data-unread]:hover{background:var(--hd-hover)}",
    ".hd-avatar{width:36px;height:36px;border-radius:10px;object-fit:cover;display:flex;",
    "align-items:center;justify-content:center;background:var(--hd-raised);color:var(--hd-accent);",
    "border:1px solid var(--hd-border)}",
    ".hd-text{min-width:0;overflow-wrap:anywhere;color:var(--hd-text)}",
    ".hd-text p{margin:0 0 4px}.hd-text p:last-child{margin:0}",
    ".hd-text a{color:var(--hd-accent);text-decoration:underline;text-underline-offset:2px}",
    ".hd-text img{max-width:100%;height:auto;border-radius:6px}",
    ".hd-text ul,.hd-text ol{margin:4px 0;padding-left:20px}",
    ".hd-text code{font-size:12.5px;padding:1px 4px;border-radius:4px;background:var(--hd-raised)}",
    ".hd-msg:not([data-unread]) .hd-text{color:var(--hd-muted)}",
    ".hd-msg:not([data-unread]) .hd-text b,.hd-msg:not([data-unread]) .hd-text strong{color:var(--hd-text)}",
    ".hd-time{display:block;margin-top:4px;font-size:12px;color:var(--hd-muted)}",
    ".hd-dot{width:8px;height:8px;margin-top:6px;border-radius:999px;background:var(--hd-accent)}",
    ".hd-msg:not([data-unread]) .hd-dot{visibility:hidden}",
    ".hd-sentinel{height:1px}",
    ".hd-state{display:flex;flex-direction:column;align-items:center;gap:6px;padding:44px 28px;",
    "text-align:center;color:var(--hd-muted)}",
    ".hd-state[hidden]{display:none}",
    ".hd-state strong{color:var(--hd-text);font-size:15px;font-weight:600}",
    ".hd-state .hd-art{display:flex;align-items:center;justify-content:center;width:52px;height:52px;",
    "margin-bottom:6px;border-radius:999px;background:var(--hd-unread);color:var(--hd-accent)}",
    ".hd-more{padding:12px;text-align:center;font-size:12px;color:var(--hd-muted)}",
    ".hd-more[hidden]{display:none}",
    ".hd-settings{padding:14px 18px 18px}",
    ".hd-hint{margin:0 0 12px;color:var(--hd-muted);font-size:13px}",
    ".hd-group{margin:0 0 12px;padding:4px 14px;border:1px solid var(--hd-border);border-radius:12px;",
    "background:var(--hd-raised)}",
    ".hd-group h3{margin:0;padding:10px 0 6px;font-size:13.5px;font-weight:650}",
    ".hd-row{display:flex;align-items:center;justify-content:space-between;gap:12px;padding:8px 0;",
    "border-top:1px solid var(--hd-border)}",
    ".hd-row:first-of-type{border-top:0}",
    ".hd-switch{position:relative;flex:none;width:38px;height:22px;border-radius:999px;",
    "background:var(--hd-track);transition:background .15s}",
    ".hd-switch::after{content:'';position:absolute;top:3px;left:3px;width:16px;height:16px;",
    "border-radius:999px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.25);transition:transform .15s}",
    ".hd-switch[aria-checked=true]{background:var(--hd-accent)}",
    ".hd-switch[aria-checked=true]::after{transform:translateX(16px)}",
    ".hd-switch:focus-visible{border-radius:999px}",
    ".hd-switch:disabled{opacity:.5;cursor:default}",
    ".hd-note{font-size:12px;color:var(--hd-muted)}.hd-note:empty{display:none}",
    ".hd-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
  ].join("");

  // ---- safe HTML: an inert parse, then a rebuild from an allow-list ----

  var ALLOWED = {
    A: ["href", "title"], ABBR: ["title"], B: [], BLOCKQUOTE: [], BR: [], CODE: [], DEL: [],
    DIV: [], EM: [], I: [], IMG: ["src", "alt", "width", "height"], LI: [], MARK: [], OL: [],
    P: [], S: [], SMALL: [], SPAN: [], STRONG: [], SUB: [], SUP: [], U: [], UL: [],
  };
  // Dropped with everything inside; any other unknown element keeps only its content.
  var DROPPED = /^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|IFRAME|FRAME|FRAMESET|OBJECT|EMBED|SVG|MATH|FORM|INPUT|BUTTON|TEXTAREA|SELECT|OPTION|LINK|META|BASE|TITLE|HEAD|AUDIO|VIDEO|SOURCE|TRACK|CANVAS|PORTAL)$/;

  function safeUrl(value, image) {
    var url;
    try {
      url = new URL(String(value).trim(), global.location.href);
    } catch (e) {
      return null;
    }
    if (url.protocol === "https:" || url.protocol === "http:") return url.href;
    if (!image && url.protocol === "mailto:") return url.href;
    if (image && /^data:image\/(png|gif|jpe?g|webp|avif)[;,]/i.test(url.href)) return url.href;
    return null;
  }

  function rebuild(from, to, depth) {
    if (depth > 24) return;
    for (var node = from.firstChild; node; node = node.nextSibling) {
      if (node.nodeType === 3) {
        to.appendChild(document.createTextNode(node.data));
        continue;
      }
      if (node.nodeType !== 1) continue;
      var tag = String(node.tagName).toUpperCase();
      if (DROPPED.test(tag)) continue;
      var names = ALLOWED.hasOwnProperty(tag) ? ALLOWED[tag] : null;
      if (!names) {
        rebuild(node, to, depth + 1);
        continue;
      }
      var element = document.createElement(tag.toLowerCase());
      for (var i = 0; i < names.length; i++) {
        var value = node.getAttribute(names[i]);
        if (value === null) continue;
        if (names[i] === "href" || names[i] === "src") value = safeUrl(value, names[i] === "src");
        if (value !== null) element.setAttribute(names[i], value);
      }
      if (tag === "A") {
        element.setAttribute("target", "_blank");
        element.setAttribute("rel", "noopener noreferrer nofollow");
      }
      if (tag === "IMG") element.setAttribute("loading", "lazy");
      rebuild(node, element, depth + 1);
      to.appendChild(element);
    }
  }

  /** A fragment of the page's document holding only allow-listed markup of `html`. */
  function sanitize(html) {
    var inert = new DOMParser().parseFromString(
      "<!doctype html><body>" + String(html == null ? "" : html),
      "text/html"
    );
    var fragment = document.createDocumentFragment();
    rebuild(inert.body, fragment, 0);
    return fragment;
  }

  // ---- small DOM and text helpers ----

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      if (attrs[name] === false || attrs[name] == null) continue;
      if (name === "text") node.textContent = attrs[name];
      else if (name === "html") node.innerHTML = attrs[name]; // only the widget's own icons
      else node.setAttribute(name, attrs[name] === true ? "" : attrs[name]);
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function format(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] == null ? "" : values[key];
    });
  }

  function badgeText(count) {
    return count > 99 ? "99+" : String(count);
  }

  function relativeTime(iso, text, locale) {
    var when = Date.parse(iso);
    if (isNaN(when)) return "";
    var seconds = Math.min(0, Math.round((when - Date.now()) / 1000)); // a skewed clock: "now"
    if (Math.abs(seconds) < 45 && text.justNow) return text.justNow;
    if (Math.abs(seconds) < 45) seconds = 0;
    var steps = [
      ["minute", 60], ["hour", 3600], ["day", 86400], ["week", 604800],
    ];
    var unit = seconds ? "minute" : "second", size = seconds ? 60 : 1;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(seconds) >= steps[i][1]) (unit = steps[i][0]), (size = steps[i][1]);
    }
    if (Math.abs(seconds) >= 2592000) {
      return new Date(when).toLocaleDateString(locale || undefined, {
        day: "numeric", month: "short", year: "numeric",
      });
    }
    try {
      return new Intl.RelativeTimeFormat(locale || undefined, { numeric: "auto" }).format(
        Math.round(seconds / size), unit
      );
    } catch (e) {
      return new Date(when).toLocaleString();
    }
  }

  // ---- the favicon mark ----

  function FaviconMark() {
    this.link = null;
    this.original = null;
    this.image = null;
  }

  FaviconMark.prototype.show = function (count) {
    var self = this;
    if (!this.link) {
      this.link = document.querySelector('link[rel~="icon"]');
      if (this.link) this.original = this.link.getAttribute("href");
      else {
        this.link = el("link", { rel: "icon" });
        document.head.appendChild(this.link);
      }
    }
    if (!count) {
      if (this.original !== null) this.link.setAttribute("href", this.original);
      else this.link.removeAttribute("href");
      this.link.removeAttribute("data-herald-unread");
      return;
    }
    if (this.image === null && this.original) {
      this.image = new Image();
      this.image.crossOrigin = "anonymous";
      this.image.onload = this.image.onerror = function () {
        self.draw(self.pending);
      };
      this.image.src = this.original;
    }
    this.pending = count;
    if (!this.image || this.image.complete) this.draw(count);
  };

  FaviconMark.prototype.draw = function (count) {
    if (!count) return;
    var size = 64, canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    var context = canvas.getContext("2d");
    if (!context) return;
    var image = this.image;
    try {
      if (image && image.complete && image.naturalWidth) context.drawImage(image, 0, 0, size, size);
    } catch (e) {
      /* an icon that can't be drawn: the dot alone still says there is something unread */
    }
    context.beginPath();
    context.arc(size - 17, 17, 15, 0, 2 * Math.PI);
    context.fillStyle = "#e11d48";
    context.fill();
    context.lineWidth = 4;
    context.strokeStyle = "#ffffff";
    context.stroke();
    var url;
    try {
      url = canvas.toDataURL("image/png");
    } catch (e) {
      canvas = document.createElement("canvas"); // tainted by a cross-origin icon: dot only
      canvas.width = canvas.height = size;
      this.image = false;
      return this.draw(count);
    }
    this.link.setAttribute("href", url);
    this.link.setAttribute("data-herald-unread", String(count));
  };

  // ---- the bell ----

  function Bell(options) {
    if (!options || !options.projectId || !options.userId || !options.userHmac) {
      throw new Error("Herald.init needs projectId, userId and userHmac.");
    }
    this.options = options;
    this.text = Object.assign({}, TEXT, options.text || {});
    this.host = String(
      options.host || (SCRIPT && SCRIPT.src ? new URL(SCRIPT.src).origin : global.location.origin)
    ).replace(/\/+$/, "");
    this.pageSize = Math.min(50, Math.max(1, options.pageSize || PAGE_SIZE));
    this.pollInterval = options.pollInterval || 30000;
    this.messages = [];
    this.byId = {};
    this.total = 0;
    this.unread = 0;
    this.user = null;
    this.notifications = [];
    this.favicon = options.favicon === false ? null : new FaviconMark();
    this.mount();
    this.start();
  }

  /** One call of the frontend API: auth in the query of a GET, in the JSON body of a POST. */
  Bell.prototype.call = function (method, action, params, body) {
    var auth = {
      projectId: this.options.projectId, userId: this.options.userId, userHmac: this.options.userHmac,
    };
    var url = new URL(this.host + "/front/" + action);
    var query = Object.assign(method === "GET" ? auth : {}, params || {});
    Object.keys(query).forEach(function (key) {
      url.searchParams.set(key, query[key]);
    });
    var init = { method: method, mode: "cors", credentials: "omit" };
    // A string body goes as text/plain: a "simple" request, so no CORS preflight.
    if (method === "POST") init.body = JSON.stringify(Object.assign(auth, body || {}));
    return fetch(url.href, init).then(function (response) {
      return response.text().then(function (raw) {
        var data = {};
        try {
          data = raw ? JSON.parse(raw) : {};
        } catch (e) {
          data = {};
        }
        if (!response.ok) {
          var error = new Error(data.message || "Request failed (" + response.status + ").");
          error.code = data.error;
          throw error;
        }
        return data;
      });
    });
  };

  // ---- building the DOM ----

  Bell.prototype.mount = function () {
    var options = this.options, text = this.text;
    var target = options.bellSelector ? document.querySelector(options.bellSelector) : null;
    if (options.bellSelector && !target) {
      throw new Error("Herald.init: no element matches bellSelector " + options.bellSelector);
    }
    this.element = el("herald-bell", { "data-floating": !target });
    (target || document.body).appendChild(this.element);
    var root = this.element.attachShadow({ mode: "open" });
    var style = el("style", { text: CSS + (typeof options.styles === "string" ? options.styles : "") });
    root.appendChild(style);
    this.root = el("div", { class: "hd", "data-theme": options.theme || "auto" });
    this.applyStyles(options.styles);
    this.bell = el("button", {
      type: "button", class: "hd-bell", part: "bell", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-controls": "hd-panel", "aria-label": text.bell, html: BELL_ICON,
    });
    this.badge = el("span", { class: "hd-badge", part: "badge", "aria-hidden": "true", hidden: true });
    this.bell.appendChild(this.badge);
    this.panel = this.buildPanel();
    this.live = el("div", { class: "hd-sr", role: "status", "aria-live": "polite" });
    this.root.appendChild(this.bell);
    this.root.appendChild(this.panel);
    this.root.appendChild(this.live);
    root.appendChild(this.root);
    this.listen();
  };

  Bell.prototype.applyStyles = function (styles) {
    if (!styles || typeof styles !== "object") return;
    var root = this.root;
    Object.keys(styles).forEach(function (name) {
      var property = name.indexOf("--") === 0 ? name : "--hd-" + name.replace(/[A-Z]/g, function (c) {
        return "-" + c.toLowerCase();
      });
      root.style.setProperty(property, String(styles[name]));
    });
  };

  Bell.prototype.buildPanel = function () {
    var text = this.text;
    this.markAll = el("button", { type: "button", class: "hd-action", html: CHECK_ICON });
    this.markAll.appendChild(document.createTextNode(text.markAllRead));
    this.closeButton = el("button", {
      type: "button", class: "hd-icon", "aria-label": text.close, html: CLOSE_ICON,
    });
    var title = el("h2", { class: "hd-title", id: "hd-title", text: text.title });
    this.count = el("span", { class: "hd-count", hidden: true });
    this.tabs = [
      el("button", {
        type: "button", role: "tab", id: "hd-tab-inbox", class: "hd-tab",
        "aria-selected": "true", "aria-controls": "hd-inbox",
      }, [document.createTextNode(text.messagesTab), this.count]),
      el("button", {
        type: "button", role: "tab", id: "hd-tab-settings", class: "hd-tab", tabindex: "-1",
        "aria-selected": "false", "aria-controls": "hd-settings", text: text.settingsTab,
      }),
    ];
    this.list = el("ul", { class: "hd-list", role: "list" });
    this.state = el("div", { class: "hd-state", hidden: true });
    this.more = el("div", { class: "hd-more", hidden: true, text: text.loading });
    this.sentinel = el("div", { class: "hd-sentinel" });
    this.inbox = el("div", {
      class: "hd-body", role: "tabpanel", id: "hd-inbox", "aria-labelledby": "hd-tab-inbox",
    }, [this.list, this.state, this.more, this.sentinel]);
    this.settings = el("div", {
      class: "hd-body hd-settings", role: "tabpanel", id: "hd-settings",
      "aria-labelledby": "hd-tab-settings", hidden: true, tabindex: "0",
    });
    return el("div", {
      class: "hd-panel", id: "hd-panel", part: "panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "hd-title", hidden: true,
    }, [
      el("div", { class: "hd-head" }, [title, this.markAll, this.closeButton]),
      el("div", { class: "hd-tabs", role: "tablist", "aria-label": text.title }, this.tabs),
      this.inbox,
      this.settings,
    ]);
  };

  Bell.prototype.listen = function () {
    var self = this;
    this.bell.addEventListener("click", function () {
      self.toggle();
    });
    this.closeButton.addEventListener("click", function () {
      self.close(true);
    });
    this.markAll.addEventListener("click", function () {
      self.readAll();
    });
    this.tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () {
        self.select(index);
      });
    });
    this.root.addEventListener("keydown", function (event) {
      self.onKey(event);
    });
    this.list.addEventListener("click", function (event) {
      var item = event.target.closest(".hd-msg");
      if (item) self.activate(item.getAttribute("data-id"), event);
    });
    this.onEscape = function (event) {
      if (event.key === "Escape" && !self.panel.hidden) self.close(true);
    };
    document.addEventListener("keydown", this.onEscape);
    this.onOutside = function (event) {
      if (!self.panel.hidden && event.composedPath().indexOf(self.element) < 0) self.close(false);
    };
    document.addEventListener("pointerdown", this.onOutside, true);
    this.onResize = function () {
      if (!self.panel.hidden) self.place();
    };
    global.addEventListener("resize", this.onResize);
    global.addEventListener("scroll", this.onResize, true);
    if ("IntersectionObserver" in global) {
      this.observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) self.loadMore();
      }, { root: this.inbox, rootMargin: "120px" });
      this.observer.observe(this.sentinel);
    } else {
      this.inbox.addEventListener("scroll", function () {
        var box = self.inbox;
        if (box.scrollTop + box.clientHeight >= box.scrollHeight - 120) self.loadMore();
      });
    }
  };

  Bell.prototype.onKey = function (event) {
    if (event.key === "Escape" && !this.panel.hidden) {
      event.stopPropagation();
      this.close(true);
      return;
    }
    var tabIndex = this.tabs.indexOf(event.target);
    if (tabIndex >= 0 && /^(ArrowLeft|ArrowRight|Home|End)$/.test(event.key)) {
      event.preventDefault();
      var next = { ArrowLeft: tabIndex - 1, ArrowRight: tabIndex + 1, Home: 0, End: 1 }[event.key];
      this.select((next + this.tabs.length) % this.tabs.length, true);
      return;
    }
    var item = event.target.classList && event.target.classList.contains("hd-msg") ? event.target : null;
    if (!item) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.activate(item.getAttribute("data-id"), event);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var sibling = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
      if (sibling) sibling.focus();
    }
  };

  // ---- opening, closing, tabs ----

  Bell.prototype.toggle = function () {
    if (this.panel.hidden) this.open();
    else this.close(true);
  };

  Bell.prototype.open = function () {
    this.panel.hidden = false;
    this.bell.setAttribute("aria-expanded", "true");
    this.place();
    this.renderTimes();
    // The newest message first, whole: the list keeps its scroll while closed.
    this.inbox.scrollTop = 0;
    var selected = this.tabs.filter(function (t) { return t.getAttribute("aria-selected") === "true"; })[0];
    (selected || this.tabs[0]).focus({ preventScroll: true });
    var self = this;
    this.clock = setInterval(function () { self.renderTimes(); }, 30000);
    if (this.messages.length < this.total && this.inbox.scrollHeight <= this.inbox.clientHeight) {
      this.loadMore();
    }
  };

  Bell.prototype.close = function (focusBell) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.bell.setAttribute("aria-expanded", "false");
    clearInterval(this.clock);
    if (focusBell) this.bell.focus();
  };

  Bell.prototype.place = function () {
    var rect = this.bell.getBoundingClientRect();
    var width = Math.min(384, global.innerWidth - 16);
    var left = Math.min(Math.max(8, rect.right - width), global.innerWidth - width - 8);
    var top = rect.bottom + 10;
    if (top + 200 > global.innerHeight) top = Math.max(8, rect.top - 8 - Math.min(560, rect.top - 16));
    this.panel.style.left = left + "px";
    this.panel.style.top = top + "px";
    this.panel.style.maxHeight = Math.max(200, Math.min(560, global.innerHeight - top - 12)) + "px";
  };

  Bell.prototype.select = function (index, focus) {
    this.tabs.forEach(function (tab, i) {
      tab.setAttribute("aria-selected", String(i === index));
      tab.setAttribute("tabindex", i === index ? "0" : "-1");
    });
    this.inbox.hidden = index !== 0;
    this.settings.hidden = index !== 1;
    this.markAll.hidden = index !== 0;
    if (index === 1) this.renderSettings();
    if (focus) this.tabs[index].focus();
  };

  // ---- data ----

  Bell.prototype.start = function () {
    var self = this;
    this.showState("loading");
    this.call("GET", "users.get").then(function (data) {
      self.user = data.user || {};
      self.notifications = data.notifications || [];
      if (!self.text.locale && self.user.language) self.locale = self.user.language;
      if (!self.settings.hidden) self.renderSettings();
    }).catch(function (error) {
      self.userError = error.message;
      if (!self.settings.hidden) self.renderSettings();
    });
    this.refresh().catch(function () {});
    this.connect();
  };

  /** Fetch the newest page and merge it in front of what is loaded. */
  Bell.prototype.refresh = function () {
    var self = this;
    var turn = (this.refreshes = (this.refreshes || 0) + 1);
    return this.call("GET", "messages.list", { skip: 0, limit: this.pageSize }).then(function (data) {
      if (turn < self.applied) return; // a later refresh already answered
      self.applied = turn;
      var fresh = data.messages || [];
      var ids = {};
      fresh.forEach(function (m) { ids[m.id] = true; });
      var rest = self.messages.filter(function (m) { return !ids[m.id]; });
      self.messages = [];
      self.byId = {};
      fresh.concat(rest).forEach(function (m) { self.keep(m); });
      self.setCounts(data.total, data.unread);
      self.loaded = true;
      self.renderList();
    }).catch(function (error) {
      if (!self.loaded) self.showState("error", error.message);
      throw error;
    });
  };

  Bell.prototype.loadMore = function () {
    var self = this;
    if (this.loading || !this.loaded || this.messages.length >= this.total) return;
    this.loading = true;
    this.more.hidden = false;
    this.call("GET", "messages.list", { skip: this.messages.length, limit: this.pageSize })
      .then(function (data) {
        (data.messages || []).forEach(function (m) {
          if (!self.byId[m.id]) self.keep(m);
        });
        self.setCounts(data.total, data.unread);
        if (!(data.messages || []).length) self.total = self.messages.length;
        self.renderList();
      })
      .catch(function () { /* the next scroll tries again */ })
      .then(function () {
        self.loading = false;
        self.more.hidden = true;
      });
  };

  Bell.prototype.keep = function (message) {
    this.byId[message.id] = message;
    this.messages.push(message);
  };

  Bell.prototype.setCounts = function (total, unread) {
    if (typeof total === "number") this.total = total;
    if (typeof unread === "number") this.unread = unread;
    var label = this.unread ? this.text.bell + ", " + format(this.text.unread, { count: this.unread }) : this.text.bell;
    this.badge.textContent = badgeText(this.unread);
    this.badge.hidden = !this.unread;
    this.count.textContent = badgeText(this.unread);
    this.count.hidden = !this.unread;
    this.bell.setAttribute("aria-label", label);
    this.markAll.disabled = !this.unread;
    if (this.favicon) this.favicon.show(this.unread);
    if (typeof this.options.onUnreadChange === "function") this.options.onUnreadChange(this.unread);
  };

  // ---- live updates: the stream, or polling when it can't be had ----

  Bell.prototype.connect = function () {
    var self = this;
    if (!("EventSource" in global) || this.options.stream === false) return this.poll();
    var url = new URL(this.host + "/front/messages.stream");
    url.searchParams.set("projectId", this.options.projectId);
    url.searchParams.set("userId", this.options.userId);
    url.searchParams.set("userHmac", this.options.userHmac);
    var source = new EventSource(url.href);
    var failures = 0;
    this.source = source;
    var onEvent = function (event) {
      failures = 0;
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      self.apply(data, event.type);
    };
    ["message", "message.new", "message.incremented", "message.read", "messages.readAll",
      "message.removed"].forEach(function (type) {
      source.addEventListener(type, onEvent);
    });
    source.onopen = function () {
      failures = 0;
    };
    source.onerror = function () {
      failures += 1;
      // Closed for good (an HTTP error) or failing again and again: poll instead.
      if (source.readyState === 2 || failures >= 3) {
        source.close();
        self.source = null;
        self.poll();
      }
    };
  };

  Bell.prototype.poll = function () {
    var self = this;
    if (this.timer) return;
    this.timer = setInterval(function () {
      self.refresh().catch(function () {});
    }, this.pollInterval);
  };

  Bell.prototype.apply = function (data, eventType) {
    var type = data.type || eventType;
    var message = data.message;
    if ((type === "message.new" || type === "message.incremented") && message) {
      var known = this.byId[message.id];
      this.messages = this.messages.filter(function (m) { return m.id !== message.id; });
      this.messages.unshift(message);
      this.byId[message.id] = message;
      if (!known) this.total += 1;
      this.live.textContent = this.text.newMessage;
    } else if (type === "message.read" && this.byId[data.messageId]) {
      this.byId[data.messageId].readAt = data.readAt || new Date().toISOString();
    } else if (type === "messages.readAll") {
      this.messages.forEach(function (m) { m.readAt = m.readAt || data.readAt; });
    } else if (type === "message.removed" && this.byId[data.messageId]) {
      this.messages = this.messages.filter(function (m) { return m.id !== data.messageId; });
      delete this.byId[data.messageId];
      this.total = Math.max(0, this.total - 1);
    } else if (type === "stream.open") {
      // Whatever happened between the first page and the subscription: fetch it again.
      return void this.refresh().catch(function () {});
    } else if (type !== "message.read") {
      return void this.refresh().catch(function () {});
    }
    this.setCounts(this.total, data.unread);
    this.renderList();
  };

  // ---- reading ----

  Bell.prototype.activate = function (id, event) {
    var message = this.byId[id];
    if (!message) return;
    var inLink = event && event.target && event.target.closest && event.target.closest("a");
    this.read(message);
    if (inLink) return; // a link inside the content opens by itself
    if (typeof this.options.onClickMessage === "function") {
      this.options.onClickMessage(message);
      return;
    }
    var link = message.link ? safeUrl(message.link, false) : null;
    if (link) global.location.assign(link);
  };

  Bell.prototype.read = function (message) {
    var self = this;
    if (message.readAt) return;
    message.readAt = new Date().toISOString();
    this.setCounts(this.total, Math.max(0, this.unread - 1));
    this.renderList();
    this.call("POST", "messages.read", null, { messageId: message.id }).then(function (data) {
      if (data && typeof data.unread === "number") self.setCounts(self.total, data.unread);
    }, function () {
      self.refresh().catch(function () {});
    });
  };

  Bell.prototype.readAll = function () {
    var self = this;
    var now = new Date().toISOString();
    this.messages.forEach(function (m) { m.readAt = m.readAt || now; });
    this.setCounts(this.total, 0);
    this.renderList();
    this.call("POST", "messages.readAll").catch(function () {
      self.refresh().catch(function () {});
    });
  };

  // ---- rendering the inbox ----

  Bell.prototype.showState = function (kind, detail) {
    var text = this.text, self = this;
    this.state.textContent = "";
    this.state.hidden = false;
    if (kind === "loading") {
      this.state.appendChild(el("span", { text: text.loading }));
    } else if (kind === "empty") {
      this.state.appendChild(el("span", { class: "hd-art", html: BELL_ICON }));
      this.state.appendChild(el("strong", { text: text.empty }));
      this.state.appendChild(el("span", { text: text.emptyHint }));
    } else {
      var retry = el("button", { type: "button", class: "hd-action", text: text.retry });
      retry.addEventListener("click", function () {
        self.showState("loading");
        self.refresh().catch(function () {});
      });
      this.state.appendChild(el("strong", { text: text.loadFailed }));
      this.state.appendChild(el("span", { text: detail || "" }));
      this.state.appendChild(retry);
    }
  };

  /** Bring the list in line with `messages`, keeping the nodes of unchanged messages (so focus,
   * hover and scroll stay put while events arrive). */
  Bell.prototype.renderList = function () {
    var nodes = this.nodes || (this.nodes = {});
    var wanted = {};
    var cursor = this.list.firstChild;
    for (var i = 0; i < this.messages.length; i++) {
      var message = this.messages[i];
      var key = [message.content, message.icon, message.readAt, message.feedAt].join("\u0000");
      var entry = nodes[message.id];
      if (!entry || entry.key !== key) {
        var node = this.renderMessage(message);
        if (entry) {
          var focused = this.element.shadowRoot.activeElement === entry.node;
          this.list.replaceChild(node, entry.node);
          if (focused) node.focus({ preventScroll: true });
          if (cursor === entry.node) cursor = node;
        }
        entry = nodes[message.id] = { node: node, key: key };
      }
      wanted[message.id] = true;
      if (entry.node !== cursor) this.list.insertBefore(entry.node, cursor);
      else cursor = cursor.nextSibling;
    }
    for (var id in nodes) {
      if (!wanted[id]) {
        nodes[id].node.remove();
        delete nodes[id];
      }
    }
    if (this.messages.length) this.state.hidden = true;
    else this.showState("empty");
  };

  Bell.prototype.renderMessage = function (message) {
    var icon = message.icon ? safeUrl(message.icon, true) : null;
    var avatar = icon
      ? el("img", { class: "hd-avatar", alt: "", src: icon, loading: "lazy" })
      : el("span", { class: "hd-avatar", "aria-hidden": "true", html: BELL_ICON });
    var content = el("div", { class: "hd-content" });
    content.appendChild(sanitize(message.content));
    var when = message.feedAt || message.createdAt;
    var time = el("time", { class: "hd-time", datetime: when, text: relativeTime(when, this.text, this.localeName()) });
    return el("li", {
      class: "hd-msg", tabindex: "0", "data-id": message.id, "data-unread": !message.readAt,
      "aria-label": null,
    }, [
      avatar,
      el("div", { class: "hd-text" }, [content, time]),
      message.readAt ? el("span") : el("span", { class: "hd-dot", role: "img", "aria-label": this.text.unreadMessage }),
    ]);
  };

  Bell.prototype.renderTimes = function () {
    var self = this;
    Array.prototype.forEach.call(this.list.querySelectorAll("time"), function (node) {
      node.textContent = relativeTime(node.getAttribute("datetime"), self.text, self.localeName());
    });
  };

  Bell.prototype.localeName = function () {
    return this.text.locale || this.locale || undefined;
  };

  // ---- settings: one switch per channel a notification lets the user mute ----

  Bell.prototype.renderSettings = function () {
    var self = this, text = this.text;
    this.settings.textContent = "";
    if (!this.user) {
      var waiting = this.userError ? text.loadFailed + " " + this.userError : text.loading;
      this.settings.appendChild(el("p", { class: "hd-hint", text: waiting }));
      return;
    }
    var groups = this.notifications.filter(function (n) {
      return CHANNELS.some(function (c) { return n["with" + c.key] && n["allowMute" + c.key]; });
    });
    this.settings.appendChild(el("p", { class: "hd-hint", text: groups.length ? text.settingsHint : text.settingsEmpty }));
    groups.forEach(function (notification) {
      var heading = el("h3", { id: "hd-n-" + notification.id, text: notification.name || notification.id });
      var group = el("div", { class: "hd-group", role: "group", "aria-labelledby": heading.id }, [heading]);
      CHANNELS.forEach(function (channel) {
        if (!notification["with" + channel.key] || !notification["allowMute" + channel.key]) return;
        group.appendChild(self.renderSwitch(notification, channel));
      });
      self.settings.appendChild(group);
    });
    this.note = el("div", { class: "hd-note", role: "status", "aria-live": "polite" });
    this.settings.appendChild(this.note);
  };

  Bell.prototype.renderSwitch = function (notification, channel) {
    var self = this;
    var preference = this.preference(notification.id);
    var id = "hd-s-" + notification.id + "-" + channel.key;
    var label = el("label", { for: id, text: this.text[channel.text] });
    var toggle = el("button", {
      type: "button", role: "switch", class: "hd-switch", id: id,
      "aria-checked": String(!preference["mute" + channel.key]),
      "data-notification": notification.id, "data-channel": channel.key,
      "aria-label": this.text[channel.text] + " — " + (notification.name || notification.id),
    });
    toggle.addEventListener("click", function () {
      self.setMute(notification.id, channel.key, toggle);
    });
    return el("div", { class: "hd-row" }, [label, toggle]);
  };

  Bell.prototype.preference = function (notificationId) {
    var preferences = (this.user && this.user.preferences) || {};
    return Object.assign(
      { notificationId: notificationId, muteWidget: false, muteEmail: false, muteSMS: false },
      preferences[notificationId] || {}
    );
  };

  Bell.prototype.setMute = function (notificationId, channelKey, toggle) {
    var self = this;
    var preference = this.preference(notificationId);
    var before = Object.assign({}, preference);
    preference["mute" + channelKey] = !preference["mute" + channelKey];
    this.user.preferences = Object.assign({}, this.user.preferences || {});
    this.user.preferences[notificationId] = preference;
    toggle.setAttribute("aria-checked", String(!preference["mute" + channelKey]));
    toggle.disabled = true;
    var preferences = {};
    preferences[notificationId] = preference;
    this.call("POST", "users.setProfile", null, { user: { preferences: preferences } }).then(function (data) {
      if (data && data.user) self.user = data.user;
      self.note.textContent = self.text.saved;
    }, function (error) {
      self.user.preferences[notificationId] = before;
      toggle.setAttribute("aria-checked", String(!before["mute" + channelKey]));
      self.note.textContent = self.text.saveFailed + " " + error.message;
    }).then(function () {
      toggle.disabled = false;
      toggle.setAttribute("data-saved", "true");
    });
  };

  Bell.prototype.destroy = function () {
    if (this.source) this.source.close();
    clearInterval(this.timer);
    clearInterval(this.clock);
    if (this.observer) this.observer.disconnect();
    document.removeEventListener("pointerdown", this.onOutside, true);
    document.removeEventListener("keydown", this.onEscape);
    global.removeEventListener("resize", this.onResize);
    global.removeEventListener("scroll", this.onResize, true);
    if (this.favicon) this.favicon.show(0);
    this.element.remove();
  };

  global.Herald = {
    version: "1",
    /** Mount a bell; returns it ({open, close, refresh, destroy, unread}). */
    init: function (options) {
      var bell = new Bell(options);
      return {
        open: function () { bell.open(); },
        close: function () { bell.close(false); },
        refresh: function () { return bell.refresh(); },
        destroy: function () { bell.destroy(); },
        unread: function () { return bell.unread; },
      };
    },
    sanitize: sanitize,
  };
})(window);
