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
