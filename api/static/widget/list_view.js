  // ---- the inbox: its pages, live changes, reading, rendering ----

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
